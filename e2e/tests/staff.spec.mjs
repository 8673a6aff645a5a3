import { test, expect } from '@playwright/test';
import { herald, HERALD, hydrated, shot, signIn, signUp, STAFF_PASSWORD, unique, watchErrors } from './helpers.mjs';


test('support finds an archived delivery of another tenant; operator changes a plan; the audit log shows it', async ({ page, browser }) => {
  test.skip(!HERALD || !process.env.DATABASE_URL, 'needs HERALD_BIN, HERALD_DATA_DIR and DATABASE_URL of the server under test');
  const errors = watchErrors(page);
  // Unique per run, so the spec can run again against the same database.
  const spa = `Serenity Spa ${Date.now() % 1_000_000}`;
  const spaName = new RegExp(spa);

  // A tenant with an endpoint (email channel: delivered at once) and one event.
  await signUp(page, { business: spa, email: unique('owner') });
  await page.locator('.nav').getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Key name').fill('Platform');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.locator('#new-api-key code').textContent()).trim();
  const auth = { authorization: `Bearer ${key}` };
  const ep = await page.request.post('/api/v1/endpoints', {
    headers: auth,
    data: { name: 'Front desk inbox', channel: 'email', email: 'desk@serenity.example', event_types: ['*'] },
  });
  expect(ep.status()).toBe(201);
  const sent = await page.request.post('/api/v1/events', {
    headers: auth,
    data: { event_type: 'appointment.booking.created', event_id: `bk-${Date.now()}`, data: { guest: 'Mia' } },
  });
  expect(sent.status()).toBe(202);
  const messageId = (await sent.json()).id;
  await expect(async () => {
    const log = await (await page.request.get('/api/v1/deliveries', { headers: auth })).json();
    expect(log.data[0].status).toBe('succeeded');
  }).toPass({ timeout: 15_000 });

  // 61 days later the delivery is archived.
  const later = new Date(Date.now() + 61 * 24 * 3600 * 1000).toISOString();
  expect(herald(['archive', '--as-of', later])).toMatch(/archived [1-9]\d* messages/);
  // The tenant's own log greys the row and labels it (the log page is issue 6's).
  await page.goto('/logs');
  const logRow = page.locator('#deliveries tbody tr').first();
  await expect(logRow).toHaveClass(/row-archived/);
  await expect(logRow.locator('.badge-label-archived')).toHaveText('Archived');
  for (const action of ['Raw', 'Download', 'Replay']) await expect(logRow.getByRole('button', { name: action })).toBeDisabled();
  await shot(page, 'logs-archived');

  // Support finds it by message id, greyed and labelled "Archived", and can look read-only.
  const supportEmail = unique('support');
  herald(['support', 'create', '--email', supportEmail]);
  const supportContext = await browser.newContext();
  const sp = await supportContext.newPage();
  const supportErrors = watchErrors(sp);
  await signIn(sp, supportEmail, STAFF_PASSWORD);
  await expect(sp).toHaveURL(/\/staff$/);
  await sp.locator('.nav').getByRole('link', { name: 'Find deliveries' }).click();
  await hydrated(sp);
  await sp.getByLabel('Message id').fill(messageId);
  await sp.getByRole('button', { name: 'Search' }).click();
  await expect(sp).toHaveURL(new RegExp(`message_id=${messageId}`));
  const row = sp.locator('#found-deliveries tbody tr');
  await expect(row).toHaveCount(1);
  await hydrated(sp); // the search was a full page load (a GET form)
  await expect(row).toContainText(spa);
  await expect(row).toContainText('Front desk inbox');
  await expect(row).toHaveClass(/archived/);
  await expect(row.locator('.badge-archived')).toHaveText('Archived');
  await expect(row.locator('.badge-archived')).toHaveAttribute('title', /payload and response bodies were deleted/);
  await shot(sp, 'support-console-search');

  await row.getByRole('link', { name: spa }).click();
  await expect(sp.getByRole('heading', { name: spaName })).toBeVisible();
  await hydrated(sp);
  await sp.getByRole('button', { name: 'Open its dashboard (read-only)' }).click();
  await expect(sp).toHaveURL(/\/endpoints$/);
  await expect(sp.locator('#staff-banner')).toContainText(`Viewing ${spa} as support (read-only)`);
  await expect(sp.getByRole('link', { name: 'Add endpoint' })).toHaveCount(0);
  await sp.getByRole('link', { name: 'Front desk inbox' }).click();
  await expect(sp.locator('#secret-hidden')).toContainText('never shown to Herald staff');
  await expect(sp.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await shot(sp, 'support-tenant-read-only');
  // The server refuses changes even if someone tries.
  const refused = await sp.request.delete(`/api/v1/endpoints/${(await ep.json()).id}`);
  expect(refused.status()).toBe(403);
  await hydrated(sp);
  await sp.getByRole('button', { name: 'Back to the staff console' }).click();
  await expect(sp).toHaveURL(/\/staff$/);
  await supportContext.close();
  expect(supportErrors.filter((e) => !e.includes('403'))).toEqual([]);

  // The operator creates a tenant and moves Serenity Spa to Professional.
  const operatorEmail = unique('operator');
  herald(['operator', 'create', '--email', operatorEmail]);
  const operatorContext = await browser.newContext();
  const op = await operatorContext.newPage();
  const operatorErrors = watchErrors(op);
  await signIn(op, operatorEmail, STAFF_PASSWORD);
  await expect(op).toHaveURL(/\/staff$/);
  await hydrated(op);
  await op.getByLabel('Business name').fill('Glow Studio');
  await op.getByLabel('Admin email').fill(unique('glow'));
  await op.locator('#new-tenant-plan').selectOption('business');
  await op.getByRole('button', { name: 'Create tenant' }).click();
  await expect(op.locator('#tenant-created')).toContainText('Glow Studio');
  await expect(op.locator('#tenant-created code')).toContainText('/invite/');
  await expect(op.locator('#tenants')).toContainText('Glow Studio');
  await shot(op, 'operator-console');

  await op.getByLabel('Search tenants').fill(spa.toLowerCase());
  await op.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(op.locator('#tenants tbody tr')).toHaveCount(1);
  await hydrated(op);
  await op.locator('#tenants').getByRole('link', { name: spa }).click();
  await expect(op.locator('#usage-endpoints')).toHaveText('1 of 1');
  await hydrated(op);
  await op.locator('#tenant-plan').selectOption('professional');
  await op.getByLabel('Log retention (days)').fill('90');
  await op.getByRole('button', { name: 'Save changes' }).click();
  await expect(op.locator('#settings-saved')).toBeVisible();
  await expect(op.locator('#usage-endpoints')).toHaveText('1 of 3');
  await shot(op, 'operator-tenant');

  // The tenant sees its new limit, and who changed it in its audit log.
  await page.goto('/endpoints');
  await expect(page.locator('#endpoint-usage')).toContainText('1 of 3 endpoints');
  await expect(page.locator('.sidebar .badge-plan')).toHaveText('Professional plan');
  await page.locator('.nav').getByRole('link', { name: 'Audit log' }).click();
  const audit = page.locator('#audit');
  await expect(audit).toContainText('Changed the plan from Basic to Professional');
  await expect(audit).toContainText(`${operatorEmail} (operator)`);
  await expect(audit).toContainText('Changed log retention from 60 to 90 days');
  await expect(audit).toContainText('Created endpoint "Front desk inbox"');
  await shot(page, 'audit-log');

  // Suspension: the operator suspends, the tenant's dashboard says so and refuses changes.
  await op.getByRole('button', { name: 'Suspend tenant' }).click();
  await op.getByRole('button', { name: 'Yes, suspend' }).click();
  await expect(op.getByRole('heading', { name: spaName })).toContainText('suspended');
  await page.goto('/endpoints');
  await expect(page.locator('#suspended-banner')).toContainText('This workspace is suspended');
  await expect(page.getByRole('link', { name: 'Add endpoint' })).toHaveCount(0);
  const blocked = await page.request.post('/api/v1/events', { headers: auth, data: { event_type: 'invoice.closed', data: {} } });
  expect(blocked.status()).toBe(403);
  await shot(page, 'tenant-suspended');
  await hydrated(op);
  await op.getByRole('button', { name: 'Lift the suspension' }).click();
  await expect(op.getByRole('heading', { name: spaName })).toContainText('active');

  // Staff read every tenant's audit log.
  await op.locator('.nav').getByRole('link', { name: 'Audit log, all tenants' }).click();
  await expect(op.locator('#audit')).toContainText('Lifted the suspension');
  await expect(op.locator('#audit')).toContainText('Created the workspace "Glow Studio"');
  await shot(op, 'staff-audit-log');
  await operatorContext.close();
  expect(operatorErrors).toEqual([]);

  // Tenant users never reach staff pages.
  const staffPage = await page.goto('/staff');
  expect(staffPage.status()).toBe(404);
  await expect(page.getByText('Page not found')).toBeVisible();
  expect(errors).toEqual([]);
});
