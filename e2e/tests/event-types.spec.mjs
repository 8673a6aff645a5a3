import { test, expect } from '@playwright/test';
import { HERALD, herald, hydrated, shot, signIn, signUp, STAFF_PASSWORD, unique, watchErrors } from './helpers.mjs';


test('an operator defines an event type, a tenant subscribes to it, and deprecating it hides it from new endpoints', async ({ page, browser }) => {
  test.skip(!HERALD || !process.env.DATABASE_URL, 'needs HERALD_BIN, HERALD_DATA_DIR and DATABASE_URL of the server under test');
  const errors = watchErrors(page);
  const operatorEmail = unique('operator');
  herald(['operator', 'create', '--email', operatorEmail]);
  await signIn(page, operatorEmail, STAFF_PASSWORD);
  await expect(page).toHaveURL(/\/staff$/);
  await page.locator('.nav').getByRole('link', { name: 'Event types' }).click();
  await expect(page).toHaveURL(/\/staff\/event-types$/);
  await expect(page.getByRole('heading', { name: 'Event catalog', level: 1 })).toBeVisible();
  await hydrated(page);

  // A fresh database has no custom types yet: the empty state says what to do.
  const before = await (await page.request.get('/api/v1/event-types')).json();
  const customBefore = before.data.filter((t) => t.custom).map((t) => t.type);
  if (customBefore.length === 0) {
    await expect(page.locator('#custom-types .empty-state')).toContainText('No custom types yet');
    await shot(page, 'event-types-empty');
  }
  // Unique per run, so the spec can run again against the same database.
  const name = customBefore.includes('gift_card.redeemed') ? `gift_card.redeemed_${Date.now() % 100000}` : 'gift_card.redeemed';
  const slug = name.replaceAll('.', '-');
  await expect(page.locator('#built-in-types details')).toHaveCount(59);

  // Each field says what is wrong with it.
  const form = page.locator('#create-event-type');
  await form.getByLabel('Name', { exact: true }).fill('Gift Card Redeemed');
  await form.getByLabel('Description').fill('A client redeemed a gift card.');
  await form.getByLabel('Sample data (JSON object)').fill('{"id": "gc_1", "amount": 2500, "currency": "EUR"}');
  await form.getByRole('button', { name: 'Add event type' }).click();
  await expect(form.locator('.field-error').first()).toContainText('is not a valid name');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('JSON Schema (optional)').fill('{"type": "object", "required": ["id", "code"]}');
  await form.getByRole('button', { name: 'Add event type' }).click();
  await expect(form.getByText('The sample does not match the schema')).toBeVisible();
  await expect(form.getByText('the property "code" is required')).toBeVisible();
  await shot(page, 'event-types-create-errors');

  await form.getByLabel('Sample data (JSON object)').fill(
    JSON.stringify({ id: 'gc_1', code: 'SPRING-25', amount: 2500, currency: 'EUR', location: { id: 'loc_2p6wd' } }, null, 2),
  );
  await form.getByRole('button', { name: 'Add event type' }).click();
  await expect(page.locator('#type-created')).toContainText(`Added ${name}.`);
  await expect(form.getByLabel('Name', { exact: true })).toHaveValue('');
  const created = page.locator(`#type-${slug}`);
  await expect(created).toBeVisible();
  await expect(created.locator('.badge-info')).toHaveText('custom');

  // Open it: sample and schema readable; change the description.
  await created.locator('summary').click();
  await expect(created.locator('pre.json').first()).toContainText('"code": "SPRING-25"');
  await created.getByLabel('Description', { exact: true }).fill('A client redeemed a gift card at the front desk.');
  await created.getByRole('button', { name: 'Save changes' }).click();
  await expect(created.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await expect(created.locator('summary')).toContainText('at the front desk');
  await shot(page, 'event-types-console');

  // A tenant subscribes to it like to any built-in type and sends a test event.
  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  const ownerErrors = watchErrors(owner);
  await signUp(owner, { business: `Gift Spa ${Date.now() % 1_000_000}`, email: unique('owner') });
  await owner.goto('/endpoints/new');
  await hydrated(owner);
  const picker = owner.locator('#event-picker');
  await expect(picker.locator('legend', { hasText: 'Gift card' })).toBeVisible();
  await owner.getByLabel('Name', { exact: true }).fill('Gift cards');
  await owner.getByRole('radio', { name: 'Email' }).check();
  await owner.getByLabel('Email address').fill('desk@gift.example');
  await picker.getByRole('checkbox', { name: name }).check();
  await shot(owner, 'event-types-endpoint-picker');
  await owner.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(owner).toHaveURL(/\/endpoints\/ep_/);
  await hydrated(owner);
  const endpointUrl = owner.url();
  await owner.locator('#test-event-type').selectOption(name);
  await owner.getByRole('button', { name: 'Send test event' }).click();
  await expect(owner.locator('#test-result')).toContainText('Delivered');

  // The operator deprecates it, after confirming.
  await page.reload();
  await hydrated(page);
  const again = page.locator(`#type-${slug}`);
  await again.locator('summary').click();
  await again.getByRole('button', { name: 'Deprecate' }).click();
  await expect(again.getByText(`Deprecate ${name}?`)).toBeVisible();
  await again.getByRole('button', { name: 'Yes, deprecate' }).click();
  await expect(again.locator('summary .badge-muted')).toHaveText('deprecated');
  await expect(again.getByRole('button', { name: 'Offer it to new subscriptions again' })).toBeVisible();
  await shot(page, 'event-types-deprecated');

  // New endpoints are no longer offered it; the endpoint that has it keeps it, marked.
  await owner.goto('/endpoints/new');
  await hydrated(owner);
  await expect(owner.locator('#event-picker').getByRole('checkbox', { name: name })).toHaveCount(0);
  await owner.goto(`${endpointUrl}/edit`);
  await hydrated(owner);
  const kept = owner.locator('#event-picker label', { hasText: name });
  await expect(kept.getByRole('checkbox')).toBeChecked();
  await expect(kept.locator('.badge')).toHaveText('deprecated');
  await shot(owner, 'event-types-kept-on-edit');
  // The tenant's catalog page marks it as the platform's, and deprecated.
  await owner.goto('/event-types');
  await hydrated(owner);
  const group = owner.locator('#resource-gift_card');
  await expect(group.locator('summary', { hasText: name }).locator('.badge-info')).toHaveText('platform');
  await expect(group.locator('summary', { hasText: name }).locator('.badge-muted')).toHaveText('deprecated');
  await shot(owner, 'event-types-tenant-catalog');
  await owner.goto(`${endpointUrl}/edit`);
  await hydrated(owner);
  await owner.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(owner).toHaveURL(endpointUrl);

  expect(errors).toEqual([]);
  expect(ownerErrors).toEqual([]);
});
