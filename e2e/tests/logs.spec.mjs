import { test, expect } from '@playwright/test';
import { hydrated, shot, signUp, unique, watchErrors } from './helpers.mjs';

test('an ingested event shows up in the delivery log, filterable by status', async ({ page }) => {
  const errors = watchErrors(page);
  await signUp(page, { business: 'Studio Nine', email: unique('studio') });

  await page.getByRole('link', { name: 'Add endpoint' }).first().click();
  await expect(page.getByRole('heading', { name: 'Add endpoint' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Unreachable CRM');
  // Does not resolve here: every attempt fails, which is what the log should show.
  await page.getByLabel('URL').fill('https://crm.invalid/hooks');
  await page.locator('input[value="event.booking.created"]').check();
  await page.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(page).toHaveURL(/\/endpoints\/ep_/);

  await page.locator('.nav').getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Key name').fill('Platform');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.locator('#new-api-key code').textContent()).trim();

  const sent = await page.request.post('/api/v1/events', {
    headers: { authorization: `Bearer ${key}` },
    data: { event_type: 'event.booking.created', event_id: 'cls-42', data: { class: 'Vinyasa Flow' } },
  });
  expect(sent.status()).toBe(202);

  await page.locator('.nav').getByRole('link', { name: 'Logs' }).click();
  const row = page.locator('#deliveries tbody tr').first();
  await expect(async () => {
    await page.reload();
    await expect(row).toContainText('retrying', { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(row).toContainText('event.booking.created');
  await expect(row).toContainText('Unreachable CRM');
  await expect(row).toContainText('next attempt');
  await hydrated(page);
  await shot(page, 'logs');

  await page.locator('#filter-status').selectOption('succeeded');
  await expect(page).toHaveURL(/status=succeeded/);
  await expect(page.getByText('No deliveries match')).toBeVisible();
  await page.getByRole('link', { name: 'Clear filters' }).click();
  await expect(page.locator('#deliveries tbody tr')).toHaveCount(1);

  expect(errors).toEqual([]);
});
