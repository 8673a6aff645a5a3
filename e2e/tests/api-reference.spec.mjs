import { test, expect } from '@playwright/test';
import { hydrated, shot, signUp, unique, watchErrors } from './helpers.mjs';

test('the API reference renders the generated OpenAPI document, grouped by tag, with bodies, answers and cURL', async ({ page }) => {
  const errors = watchErrors(page);
  await signUp(page, { business: 'Reference Spa', email: unique('reference') });

  // Reached from the sidebar, and from Settings next to the API keys.
  await page.locator('.nav').getByRole('link', { name: 'Settings' }).click();
  await expect(page.locator('#api-reference-link')).toHaveAttribute('href', '/api-reference');
  await page.locator('.nav').getByRole('link', { name: 'API reference' }).click();
  await expect(page).toHaveURL(/\/api-reference$/);
  await expect(page.getByRole('heading', { level: 1, name: 'API reference' })).toBeVisible();

  // Every operation of the served document is on the page, under its tag.
  const doc = await (await page.request.get('/api/v1/openapi.json')).json();
  const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => ({ path, method })));
  expect(operations.length).toBeGreaterThan(25);
  await expect(page.locator('article.ref-op')).toHaveCount(operations.length);
  for (const tag of doc.tags.map((t) => t.name)) {
    await expect(page.locator('.ref-section-title', { hasText: tag })).toBeVisible();
  }

  // Publishing an event: method, path, body fields with types and required marks, answers, cURL.
  const ingest = page.locator('article.ref-op#post-events');
  await expect(ingest.locator('.method')).toHaveText('POST');
  await expect(ingest.locator('.ref-path')).toHaveText('/api/v1/events');
  const eventType = ingest.locator('.ref-body tr', { has: page.locator('code[data-field="event_type"]') });
  await expect(eventType.locator('.ref-required')).toHaveText('required');
  await expect(eventType.locator('.ref-type')).toHaveText('string');
  const eventId = ingest.locator('.ref-body tr', { has: page.locator('code[data-field="event_id"]') });
  await expect(eventId.locator('.ref-required')).toHaveCount(0);
  await expect(eventId).toContainText('at most 200 characters');
  for (const status of ['200', '202', '401', '413', '415', '422']) {
    await expect(ingest.locator('.ref-response .status', { hasText: status })).toHaveCount(1);
  }
  await expect(ingest.locator('.ref-curl')).toContainText("curl -X POST 'http://");
  await expect(ingest.locator('.ref-curl')).toContainText('Authorization: Bearer $HERALD_API_KEY');
  await expect(ingest.locator('.ref-curl')).toContainText('"event_type": "appointment.booking.created"');
  await expect(ingest.locator('.ref-curl')).toContainText('"data": {');

  // Path parameters, and a nested request field with its constraint.
  const update = page.locator('article.ref-op#patch-endpoints-id');
  await expect(update.locator('.ref-params tr', { has: page.locator('code[data-field="id"]') })).toContainText('path');
  await expect(update.locator('.ref-body tr', { has: page.locator('code[data-field="max_in_flight"]') })).toContainText('1–100');
  await expect(update.locator('.ref-body tr', { has: page.locator('code[data-field="auth_header.name"]') }).locator('.ref-required')).toHaveText('required');

  // The response fields of a list unfold.
  const list = page.locator('article.ref-op#get-endpoints');
  await list.locator('.ref-response details summary').first().click();
  await expect(list.locator('code[data-field="data[].health"]')).toHaveText('health');
  await expect(list.locator('code[data-field="data[].health"]')).toBeVisible();

  // The table of contents jumps to an operation.
  await hydrated(page);
  await page.locator('.ref-toc').locator('a[href="#post-events"]').click();
  await expect(page).toHaveURL(/#post-events$/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'api-reference');
  await page.screenshot({ path: 'screenshots/api-reference-top.png' });
  expect(errors).toEqual([]);
});
