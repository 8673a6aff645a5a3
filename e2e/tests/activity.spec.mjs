import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { hydrated, shot, signUp, unique, watchErrors } from './helpers.mjs';

/** A webhook receiver on loopback: `/ok` accepts, `/down` answers 503, `/flaky` answers 410 until `mode.flaky = 'ok'`. */
async function startSink() {
  const mode = { flaky: 'gone' };
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, body });
      const gone = req.url === '/flaky' && mode.flaky === 'gone';
      const status = gone ? 410 : req.url === '/down' ? 503 : 200;
      res.writeHead(status, { 'content-type': 'application/json', 'x-receiver': 'studio-sync' });
      res.end(status === 200 ? '{"ok":true}' : '{"error":"unavailable"}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, mode, received, close: () => server.close() };
}

/** The operator's command line lets this tenant deliver to the loopback sink, on a plan with room. */
function allowPrivateUrls(tenantId) {
  if (!process.env.HERALD_BIN) throw new Error('HERALD_BIN and DATABASE_URL must point at the server under test (scripts/test.sh sets them)');
  execFileSync(process.env.HERALD_BIN, ['tenant', 'update', tenantId, '--plan', 'professional', '--allow-private-urls', 'true'], { env: process.env, stdio: 'pipe' });
}

/** Signs up a new workspace, creates an API key in Settings (as a user would) and returns it. */
async function workspaceWithKey(page, business, keyName) {
  await signUp(page, { business, email: unique(business.split(' ')[0].toLowerCase()) });
  await page.locator('.nav').getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Key name').fill(keyName);
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.locator('#new-api-key code').textContent()).trim();
  const me = await (await page.request.get('/api/v1/me')).json();
  allowPrivateUrls(me.tenant.id);
  return key;
}

async function api(page, key, method, path, data) {
  const r = await page.request.fetch(`/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}` }, data });
  expect(r.status(), `${method} ${path}: ${await r.text()}`).toBeLessThan(300);
  return r.json();
}

async function settle(page, key, path, ready) {
  await expect(async () => expect(ready(await api(page, key, 'GET', path))).toBe(true)).toPass({ timeout: 20_000 });
}

test('stats, log filters, raw view, download, replay, test event and recover', async ({ page }) => {
  const errors = watchErrors(page);
  const sink = await startSink();
  const key = await workspaceWithKey(page, 'Lotus Spa', 'Booking platform');

  const crm = await api(page, key, 'POST', '/endpoints', {
    name: 'Spa CRM', url: `${sink.url}/ok`, event_types: ['*'],
    auth_header: { name: 'Authorization', value: 'Bearer crm-secret-token-1234' },
  });
  const flaky = await api(page, key, 'POST', '/endpoints', { name: 'Old POS', url: `${sink.url}/flaky`, event_types: ['invoice.closed'] });
  for (const [type, data] of [
    ['appointment.booking.created', { appointment_id: 'apt_1', service: 'Hot stone massage' }],
    ['appointment.booking.created', { appointment_id: 'apt_2', service: 'Facial' }],
    ['customer.created', { customer_id: 'cus_9', name: "Ana O'Neil" }],
    ['invoice.closed', { invoice_id: 'inv_7', total: 120 }],
  ]) {
    await api(page, key, 'POST', '/events', { event_type: type, data });
  }
  await settle(page, key, `/deliveries?endpoint_id=${crm.id}&status=succeeded`, (r) => r.data.length === 4);
  await settle(page, key, `/deliveries?endpoint_id=${flaky.id}&status=failed`, (r) => r.data.length === 1);

  // The endpoint list shows each endpoint's last 24 hours next to it.
  await page.goto('/endpoints');
  await hydrated(page);
  const crmRow = page.locator('#endpoints tr', { hasText: 'Spa CRM' });
  const posRow = page.locator('#endpoints tr', { hasText: 'Old POS' });
  await expect(crmRow.locator('td').nth(4)).toHaveText('4');
  await expect(crmRow.locator('td').nth(5)).toHaveText('100.0 %');
  await expect(crmRow.locator('td').nth(6)).toContainText('succeeded');
  await expect(posRow.locator('td').nth(4)).toHaveText('1');
  await expect(posRow.locator('td').nth(5)).toHaveText('0.0 %');
  await expect(posRow.locator('td').nth(6)).toContainText('failed');
  // Health: the receiver that answered 410 was deactivated at once; the other is healthy.
  await expect(crmRow.locator('td').nth(3)).toHaveText('Healthy');
  await expect(posRow.locator('td').nth(3)).toHaveText('Inactive');
  await shot(page, 'endpoints-list-stats');

  // Stats of the endpoint, with the chart, and the window in the URL.
  await page.goto(`/endpoints/${crm.id}`);
  await hydrated(page);
  await expect(page.locator('#stat-sent')).toHaveText('4');
  await expect(page.locator('#stat-succeeded')).toHaveText('4');
  await expect(page.locator('#stat-rate')).toHaveText('100.0 %');
  await expect(page.locator('.chart svg')).toBeVisible();
  await expect(page.locator('.chart-legend')).toContainText('4 succeeded');
  await page.getByRole('link', { name: '7 days' }).click();
  await expect(page).toHaveURL(/window=7d/);
  await expect(page.locator('.chart-legend')).toContainText('one bar per 6 hours');

  // Send test event: the result shows in place.
  await page.locator('#test-event-type').selectOption('event.booking.created');
  await page.getByRole('button', { name: 'Send test event' }).click();
  await expect(page.locator('#test-result')).toContainText('Delivered: HTTP 200');
  await shot(page, 'endpoint-activity');
  const test = sink.received.at(-1);
  expect(JSON.parse(test.body).event_type).toBe('event.booking.created');

  // The log: filters live in the URL; the test is labelled.
  await page.locator('.nav').getByRole('link', { name: 'Logs' }).click();
  await hydrated(page);
  await expect(page.locator('#deliveries tbody tr')).toHaveCount(6);
  await expect(page.locator('#deliveries tbody tr').first()).toContainText('Test');
  await page.locator('#filter-event-type').selectOption('appointment.booking.created');
  await expect(page).toHaveURL(/event_type=appointment.booking.created/);
  await expect(page.locator('#deliveries tbody tr')).toHaveCount(2);
  await page.locator('#filter-status').selectOption('failed');
  await expect(page.getByText('No deliveries match')).toBeVisible();
  await page.getByRole('link', { name: 'Clear filters' }).click();
  await expect(page).toHaveURL(/\/logs$/);
  await expect(page.locator('#deliveries tbody tr')).toHaveCount(6);
  await page.locator('#filter-status').selectOption('failed');
  await expect(page).toHaveURL(/status=failed/);
  await expect(page.locator('#deliveries tbody tr')).toHaveCount(1);
  await expect(page.locator('#deliveries tbody tr').first()).toContainText('Old POS');
  await expect(page.locator('#deliveries tbody tr').first()).toContainText('410');
  // Its raw view says why it failed and what to do about it.
  await page.locator('#deliveries tbody tr').first().getByRole('link', { name: /^Raw data of/ }).click();
  await expect(page.locator('.attempt-why')).toContainText('The receiver said this URL is gone for good (HTTP 410).');
  await expect(page.locator('.attempt-why')).toContainText('What to do: Update the URL');
  await shot(page, 'delivery-failure-reason');
  await page.goto('/logs?status=failed');
  await hydrated(page);
  // A time range that ends before everything: nothing.
  await page.locator('#filter-until').fill('2020-01-01T00:00');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/until=2020-01-01T00%3A00|until=2020-01-01T00:00/);
  await expect(page.getByText('No deliveries match')).toBeVisible();
  // A shared link opens the same filtered view.
  await page.goto('/logs?event_type=customer.created');
  await expect(page.locator('#deliveries tbody tr')).toHaveCount(1);
  await expect(page.locator('#filter-event-type')).toHaveValue('customer.created');
  await shot(page, 'logs-filtered');

  // Each row has Raw, Download and Replay; Replay asks first, then links to the new delivery.
  const first = page.locator('#deliveries tbody tr').first();
  await expect(first.getByRole('link', { name: /^Download the payload of the customer\.created delivery/ })).toHaveAttribute('href', /\/api\/v1\/deliveries\/dlv_[A-Za-z0-9]+\/payload$/);
  await first.getByRole('button', { name: 'Replay' }).click();
  await first.getByRole('button', { name: 'Yes, replay' }).click();
  await expect(first.getByRole('link', { name: 'Replay queued →' })).toBeVisible();
  await shot(page, 'logs-row-actions');

  // Raw view: masked headers, pretty body, cURL; download.
  await first.getByRole('link', { name: /^Raw data of the customer\.created delivery/ }).click();
  await hydrated(page);
  await expect(page.locator('#raw-request')).toContainText(`POST ${sink.url}/ok`);
  const headers = page.locator('#request-headers');
  await expect(headers).toContainText('webhook-signature');
  await expect(headers).toContainText('v1,••••••••');
  await expect(headers).toContainText('Authorization');
  await expect(page.locator('body')).not.toContainText('crm-secret-token');
  await expect(page.locator('#request-body')).toContainText('"name": "Ana O\'Neil"');
  await expect(page.getByRole('button', { name: 'Copy as cURL' })).toBeVisible();
  await expect(page.locator('.attempt').first()).toContainText('HTTP 200');
  const downloading = page.waitForEvent('download');
  await page.locator('#download-payload').click();
  const download = await downloading;
  const messageId = (await page.locator('#message-id').textContent()).trim();
  expect(download.suggestedFilename()).toBe(`${messageId}.json`);
  const file = await (await download.createReadStream()).toArray();
  expect(JSON.parse(Buffer.concat(file).toString()).data.name).toBe("Ana O'Neil");
  await shot(page, 'delivery-raw');

  // Replay: a new delivery labelled Replay, linked both ways.
  const before = sink.received.length;
  await page.getByRole('button', { name: 'Replay' }).click();
  await page.getByRole('button', { name: 'Yes, replay' }).click();
  await expect(page.getByText('Replay queued')).toBeVisible();
  await expect(page.locator('#replays')).toContainText('2 times'); // once from the log row, once here
  await expect.poll(() => sink.received.length).toBeGreaterThanOrEqual(before + 1);
  await page.getByRole('link', { name: 'Follow the replay →' }).click();
  await expect(page.locator('h1')).toContainText('Replay');
  await expect(page.getByText('Replay of')).toBeVisible();
  await shot(page, 'delivery-replay');

  // Bulk recover: the POS answered 410 and was deactivated; fixed, reactivated, recovered.
  sink.mode.flaky = 'ok';
  await api(page, key, 'POST', '/events', { event_type: 'invoice.closed', data: { invoice_id: 'inv_8', total: 80 } });
  await page.goto(`/endpoints/${flaky.id}`);
  await hydrated(page);
  await expect(page.getByRole('status').filter({ hasText: 'receives nothing' })).toBeVisible();
  // One action: reactivate, and a recovery job sends what was skipped meanwhile.
  await expect(page.locator('#reactivate-and-send')).toHaveText('Reactivate and send 1 skipped');
  await shot(page, 'endpoint-inactive');
  await page.locator('#reactivate-and-send').click();
  await expect(page.getByRole('button', { name: 'Deactivate' })).toBeVisible();
  await expect(page.locator('#jobs .job').first()).toContainText('Sending 1 skipped delivery again');
  await expect(page.locator('#jobs .job').first()).toHaveAttribute('data-status', 'completed', { timeout: 15_000 });
  await page.locator('#recover-since').fill('2020-01-01T00:00');
  await page.getByRole('button', { name: 'Count deliveries' }).click();
  await expect(page.locator('#recover-count')).toContainText('1 failed delivery will be sent again');
  await shot(page, 'endpoint-recover');
  await page.getByRole('button', { name: 'Recover 1' }).click();
  await expect(page.locator('#recover-done')).toContainText('Recovery job started: 1 delivery at 50 per second');
  await expect(page.locator('#jobs .job')).toHaveCount(2);
  await expect(page.locator('#jobs .job').first()).toHaveAttribute('data-status', 'completed', { timeout: 15_000 });
  await expect.poll(() => sink.received.filter((r) => r.path === '/flaky').length, { timeout: 15_000 }).toBe(3);
  await page.goto(`/logs?endpoint_id=${flaky.id}`);
  // The 410, the skipped event, and their two replays.
  await expect(page.locator('#deliveries tbody tr')).toHaveCount(4);
  await expect(page.locator('#deliveries tbody tr .badge-label-replay')).toHaveCount(2);

  sink.close();
  expect(errors).toEqual([]);
});

test('a recovery job shows its progress and can be cancelled', async ({ page }) => {
  const errors = watchErrors(page);
  const sink = await startSink();
  const key = await workspaceWithKey(page, 'Aster Studio', 'Platform');
  const ep = await api(page, key, 'POST', '/endpoints', { name: 'Class sync', url: `${sink.url}/ok`, event_types: ['*'] });
  // Eight events skipped while the endpoint was off, then sent again at one a second.
  await api(page, key, 'POST', `/endpoints/${ep.id}/deactivate`);
  const since = new Date(Date.now() - 60_000).toISOString();
  for (let n = 1; n <= 8; n++) {
    await api(page, key, 'POST', '/events', { event_type: 'event.booking.created', data: { booking_id: `bk_${n}` } });
  }
  await settle(page, key, `/deliveries?endpoint_id=${ep.id}&status=skipped`, (r) => r.data.length === 8);
  await api(page, key, 'POST', `/endpoints/${ep.id}/activate`);
  const { job } = await api(page, key, 'POST', `/endpoints/${ep.id}/recover`, { since, status: 'skipped', rate_per_second: 1 });
  expect([job.status, job.total]).toEqual(['running', 8]);

  await page.goto(`/endpoints/${ep.id}`);
  await hydrated(page);
  const item = page.locator(`#job-${job.id}`);
  await expect(item).toHaveAttribute('data-status', 'running');
  await expect(item.getByRole('progressbar')).toHaveAttribute('aria-valuemax', '8');
  await expect(page.locator('#skipped-offer'), 'no second offer while a job sends them').toHaveCount(0);
  // The page follows the job as it goes.
  await expect(item.locator('.job-figures')).toContainText(/[2-7] of 8 queued again/, { timeout: 10_000 });
  await shot(page, 'job-in-progress');
  await item.getByRole('button', { name: 'Cancel job' }).click();
  await expect(item).toHaveAttribute('data-status', 'cancelled');
  const sent = sink.received.length;
  expect(sent).toBeLessThan(8);
  await page.waitForTimeout(2_500);
  expect(sink.received.length, 'nothing more is sent after a cancel').toBe(sent);
  const after = await api(page, key, 'GET', `/jobs/${job.id}`);
  expect(after.job.status).toBe('cancelled');
  await shot(page, 'job-cancelled');
  sink.close();
  expect(errors).toEqual([]);
});

test('endpoint health: healthy, at risk before deactivation, inactive', async ({ page }) => {
  const errors = watchErrors(page);
  const sink = await startSink();
  const key = await workspaceWithKey(page, 'Iris Wellness', 'Platform');
  const ok = await api(page, key, 'POST', '/endpoints', { name: 'Spa CRM', url: `${sink.url}/ok`, event_types: ['customer.created'] });
  const down = await api(page, key, 'POST', '/endpoints', { name: 'Front desk display', url: `${sink.url}/down`, event_types: ['invoice.closed'] });
  const gone = await api(page, key, 'POST', '/endpoints', { name: 'Old POS', url: `${sink.url}/flaky`, event_types: ['booking.created'] });
  await api(page, key, 'POST', '/events', { event_type: 'customer.created', data: { customer_id: 'cus_1' } });
  await api(page, key, 'POST', '/events', { event_type: 'booking.created', data: { booking_id: 'bk_1' } });
  // 15 failed first attempts in a row: 5 left before deactivation, so it is at risk.
  for (let n = 1; n <= 15; n++) {
    await api(page, key, 'POST', '/events', { event_type: 'invoice.closed', data: { invoice_id: `inv_${n}` } });
  }
  await settle(page, key, `/endpoints/${down.id}`, (e) => e.health.state === 'at_risk' && e.health.failures_left === 5);
  await settle(page, key, `/endpoints/${gone.id}`, (e) => e.health.state === 'inactive');
  await settle(page, key, `/endpoints/${ok.id}`, (e) => e.health.state === 'healthy');

  await page.goto('/endpoints');
  await hydrated(page);
  const row = (name) => page.locator('tr').filter({ hasText: name });
  await expect(row('Spa CRM')).toContainText('Healthy');
  await expect(row('Front desk display')).toContainText('At risk');
  await expect(row('Old POS')).toContainText('Inactive');
  await shot(page, 'endpoints-health');
  await page.goto(`/endpoints/${down.id}`);
  await hydrated(page);
  await expect(page.locator('h1')).toContainText('At risk');
  await expect(page.locator('#endpoint-health')).toContainText('Only 5 more and Herald deactivates this endpoint');
  await shot(page, 'endpoint-at-risk');
  sink.close();
  expect(errors).toEqual([]);
});
