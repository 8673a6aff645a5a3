import { test, expect } from '@playwright/test';
import { hydrated, shot, signUp, unique, watchErrors } from './helpers.mjs';

test('endpoints up to the Basic limit, masked auth header, events, secret, catalog', async ({ page }) => {
  const errors = watchErrors(page);
  await signUp(page, { business: 'Glow Salon', email: unique('glow') });
  await expect(page.locator('#endpoint-usage')).toContainText('0 of 1 endpoints');
  await expect(page.getByText('No endpoints yet')).toBeVisible();
  await shot(page, 'endpoints-empty');

  // The form opened as a page of its own, its wasm held back: until the page is hydrated the
  // server-rendered form shows its defaults and takes no typing, which hydration would wipe.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/*.wasm', async (route) => { await held; await route.continue(); });
  await page.goto('/endpoints/new', { waitUntil: 'domcontentloaded' });
  const form = page.locator('form.form-card');
  const name = page.getByLabel('Name', { exact: true });
  await expect(name).toBeVisible();
  await expect(form).toHaveAttribute('inert', '');
  await expect(form).toHaveAttribute('aria-busy', 'true');
  await expect(page.getByLabel('HTTP request')).toBeChecked();
  await expect(page.getByLabel('Full envelope')).toBeChecked();
  await shot(page, 'endpoint-form-loading');
  await name.focus();
  await page.keyboard.type('Lost words');
  await expect(name).toHaveValue('');
  release();
  await hydrated(page);
  await page.unroute('**/*.wasm');
  await expect(form).not.toHaveAttribute('inert');
  await expect(form).toHaveAttribute('aria-busy', 'false');

  // Create one: bad input first, then good.
  await expect(page.getByRole('heading', { name: 'Add endpoint' })).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill('Booking sync');
  await page.getByLabel('URL').fill('http://hooks.example.com/herald');
  await page.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(page.locator('#event-picker .field-error')).toContainText('Choose at least one event type');
  await page.locator('input[value="appointment.booking.created"]').check();
  await page.locator('input[value="invoice.closed"]').check();
  await page.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(page.locator('.field.has-error').filter({ has: page.getByLabel('URL') })).toContainText('Use an https:// URL');
  await page.getByLabel('URL').fill('https://hooks.example.com/herald');
  await page.getByLabel('HTTP verb').selectOption('PUT');
  await page.getByLabel('Header name').fill('Authorization');
  await page.getByLabel('Header value').fill('Bearer abcd-secret-5678');
  await shot(page, 'endpoint-form');
  await page.getByRole('button', { name: 'Save endpoint' }).click();

  await expect(page).toHaveURL(/\/endpoints\/ep_[A-Za-z0-9]+$/);
  const detailUrl = page.url();
  await expect(page.locator('#auth-header')).toHaveText('Authorization: ••••••••5678');
  await expect(page.locator('#endpoint-facts')).toContainText('appointment.booking.created');
  await expect(page.locator('#endpoint-facts')).toContainText('invoice.closed');
  await expect(page.locator('#endpoint-facts')).toContainText('PUT');

  // After a reload the value is still only hinted, and appears nowhere in the page.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('#auth-header')).toHaveText('Authorization: ••••••••5678');
  expect(await page.content()).not.toContain('abcd-secret');

  // Signing secret: revealed on demand, rotated after confirming.
  await page.getByRole('button', { name: 'Reveal' }).click();
  const secret = page.locator('#signing-secret');
  await expect(secret).toHaveText(/^whsec_[A-Za-z0-9+/=]{32}$/);
  const first = await secret.textContent();
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.getByRole('button', { name: 'Yes, rotate' }).click();
  await expect(secret).not.toHaveText(first);
  // Answered: the question closes, and the action can be asked for again.
  await expect(page.getByText('Replace the secret?')).toBeHidden();
  await expect(page.getByRole('button', { name: 'Rotate secret' })).toBeVisible();
  await expect(page.getByText('The previous secret also signs deliveries for the next 24 hours')).toBeVisible();
  await shot(page, 'endpoint-detail');

  // At the limit: the button is disabled and the next plan is named.
  await page.locator('.nav').getByRole('link', { name: 'Endpoints' }).click();
  await expect(page.locator('#endpoint-usage')).toContainText('1 of 1 endpoints');
  await expect(page.getByRole('button', { name: 'Add endpoint' })).toBeDisabled();
  await expect(page.locator('#limit-note')).toContainText('the Basic plan allows 1 endpoint');
  await expect(page.locator('#limit-note')).toContainText('The Professional plan allows 3');
  await expect(page.locator('#endpoints')).toContainText('Booking sync');
  await shot(page, 'endpoints-list');

  // Edit: the form shows what is saved; subscribe to all events.
  await page.goto(detailUrl + '/edit');
  await hydrated(page);
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Booking sync');
  await expect(page.locator('input[value="invoice.closed"]')).toBeChecked();
  await expect(page.getByLabel('Header value')).toHaveAttribute('placeholder', /Saved \(••••••••5678\)/);
  await page.locator('#all-events').check();
  // A payload filter: the Service field (booking events name their service) and JSON conditions,
  // checked against the catalog samples before saving.
  await page.getByLabel('Service', { exact: true }).fill('srv_5521, srv_7730');
  await page.getByLabel('Conditions (JSON)').fill('{"data..status": "confirmed"}');
  await page.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(page.locator('.field.has-error').filter({ has: page.getByLabel('Conditions (JSON)') })).toContainText('is not a path');
  await page.getByLabel('Conditions (JSON)').fill('{"data.status": ["confirmed", "pending"]}');
  await page.getByRole('button', { name: 'Check against the samples' }).click();
  const preview = page.locator('#filter-preview');
  const sample = (type) => preview.locator('li').filter({ has: page.locator('span.mono', { hasText: new RegExp(`^${type.replaceAll('.', '\\.')}$`) }) });
  await expect(sample('booking.created')).toContainText('this sample would be delivered');
  await expect(sample('customer.created')).toContainText('filtered out');
  await expect(page.locator('#filter-summary')).toHaveText(/^[1-9]\d* of 59 sample events would be delivered\.$/);
  await page.locator('#filter-section').scrollIntoViewIfNeeded();
  await shot(page, 'endpoint-filter-preview');
  // A throttle for a receiver that cannot take bursts: checked at save, shown on the page.
  await page.getByLabel('Deliveries per second, at most').fill('5000');
  await page.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(page.locator('.field.has-error').filter({ has: page.getByLabel('Deliveries per second, at most') })).toContainText('between 1 and 1000');
  await page.getByLabel('Deliveries per second, at most').fill('5');
  await page.getByLabel('Requests at once, at most').fill('2');
  await page.locator('#throttle-section').scrollIntoViewIfNeeded();
  await shot(page, 'endpoint-throttle');
  await page.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(page).toHaveURL(detailUrl);
  await expect(page.locator('#endpoint-throttle')).toHaveText('At most 5 per second, 2 at once');
  await expect(page.locator('#endpoint-facts')).toContainText('All events');
  await expect(page.locator('#endpoint-filter')).toHaveText('{"data.service_id":["srv_5521","srv_7730"],"data.status":["confirmed","pending"]}');
  await expect(page.locator('#auth-header')).toHaveText('Authorization: ••••••••5678');

  // Deactivate, then delete after confirming.
  await page.getByRole('button', { name: 'Deactivate' }).click();
  await expect(page.getByText('This endpoint receives nothing. It was deactivated by hand')).toBeVisible();

  // The list filters by status: the endpoint is under Inactive now, not under Active.
  await page.locator('.nav').getByRole('link', { name: 'Endpoints' }).click();
  await expect(page.locator('#filter-inactive')).toContainText('Inactive 1');
  await page.locator('#filter-active').click();
  await expect(page).toHaveURL(/\/endpoints\?status=active$/);
  await expect(page.locator('#endpoints')).toContainText('No active endpoints.');
  await page.locator('#filter-inactive').click();
  await expect(page).toHaveURL(/\/endpoints\?status=inactive$/);
  await expect(page.locator('#filter-inactive')).toHaveAttribute('aria-current', 'page');
  await expect(page.locator('#endpoints')).toContainText('Booking sync');
  await shot(page, 'endpoints-inactive-filter');
  await page.locator('#endpoints').getByRole('link', { name: 'Booking sync' }).click();
  await expect(page).toHaveURL(detailUrl);
  await page.getByRole('button', { name: 'Delete endpoint' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(page).toHaveURL(/\/endpoints$/);
  await expect(page.locator('#endpoint-usage')).toContainText('0 of 1 endpoints');

  // The catalog shows each type's JSON hierarchy.
  await page.locator('.nav').getByRole('link', { name: 'Event catalog' }).click();
  await expect(page.getByRole('heading', { name: 'Event catalog' })).toBeVisible();
  const type = page.locator('details', { hasText: 'appointment.booking.created' }).first();
  await type.locator('summary').click();
  await expect(type.locator('pre').first()).toContainText('"event_type": "appointment.booking.created"');
  await expect(type.locator('pre').nth(1)).not.toContainText('event_type');
  await shot(page, 'catalog');

  // Settings: the tenant-wide switch.
  await page.locator('.nav').getByRole('link', { name: 'Settings' }).click();
  await expect(page.locator('#webhooks-state')).toContainText('Webhooks enabled');
  await page.locator('.switch').click();
  await expect(page.locator('#webhooks-state')).toContainText('Webhooks disabled');
  await page.reload();
  await hydrated(page);
  await expect(page.locator('#webhooks-state')).toContainText('Webhooks disabled');

  // API keys: created by an admin, shown once, revocable after confirming.
  await page.getByLabel('Key name').fill('Booking platform');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.locator('#new-api-key code')).toHaveText(/^hk_[A-Za-z0-9]{40}$/);
  const keyRow = page.locator('#api-keys tr', { hasText: 'Booking platform' });
  await expect(keyRow).toContainText('Never');
  await shot(page, 'settings');
  await keyRow.getByRole('button', { name: 'Revoke' }).click();
  await keyRow.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(keyRow).toContainText('revoked');

  expect(errors).toEqual([]);
});
