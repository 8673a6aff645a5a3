import { test, expect } from '@playwright/test';
import { HERALD, herald, hydrated, shot, signIn, STAFF_PASSWORD, unique, watchErrors } from './helpers.mjs';


test('an operator makes a platform key; the platform provisions a tenant and opens its dashboard with a one-time link', async ({ page, browser }) => {
  test.skip(!HERALD || !process.env.DATABASE_URL, 'needs HERALD_BIN, HERALD_DATA_DIR and DATABASE_URL of the server under test');
  const errors = watchErrors(page);
  const run = Date.now() % 1_000_000;
  const keyName = `ReserveKit ${run}`;

  // The operator creates a platform key in the console; it is shown once, with a copy button.
  const operatorEmail = unique('operator');
  herald(['operator', 'create', '--email', operatorEmail]);
  await signIn(page, operatorEmail, STAFF_PASSWORD);
  await expect(page).toHaveURL(/\/staff$/);
  await hydrated(page);
  await page.locator('.nav').getByRole('link', { name: 'Platform keys' }).click();
  await expect(page.getByRole('heading', { name: 'Platform keys', level: 1 })).toBeVisible();
  await hydrated(page);
  await shot(page, 'platform-keys');
  await page.getByLabel('Key name').fill(keyName);
  await page.getByRole('button', { name: 'Create key' }).click();
  const created = page.locator('#new-platform-key');
  await expect(created).toContainText('shown only once');
  const key = (await created.locator('code').textContent()).trim();
  expect(key).toMatch(/^hkp_[A-Za-z0-9]{40}$/);
  await expect(created.getByRole('button', { name: 'Copy' })).toBeVisible();
  const row = page.locator('#platform-keys tbody tr', { hasText: keyName });
  await expect(row).toContainText(key.slice(0, 12));
  await expect(row).toContainText('Never');
  await expect(row.locator('.badge')).toHaveText('active');
  await shot(page, 'platform-keys-created');

  // The platform provisions a tenant, an endpoint and an event, and asks for a dashboard link.
  const auth = { authorization: `Bearer ${key}` };
  const spa = `Lotus Day Spa ${run}`;
  const tenant = await page.request.post('/api/v1/tenants', { headers: auth, data: { name: spa, plan: 'professional' } });
  expect(tenant.status()).toBe(201);
  const tenantId = (await tenant.json()).id;
  const ep = await page.request.post(`/api/v1/tenants/${tenantId}/endpoints`, {
    headers: auth,
    data: { name: 'Front desk inbox', channel: 'email', email: 'desk@lotus.example', event_types: ['*'] },
  });
  expect(ep.status()).toBe(201);
  const sent = await page.request.post(`/api/v1/tenants/${tenantId}/events`, {
    headers: auth,
    data: { event_type: 'appointment.booking.created', data: { guest: 'Mia' } },
  });
  expect(sent.status()).toBe(202);
  const guestEmail = unique('frontdesk');
  const made = await page.request.post(`/api/v1/tenants/${tenantId}/dashboard-links`, {
    headers: auth,
    data: { email: guestEmail, role: 'admin' },
  });
  expect(made.status()).toBe(201);
  const { url } = await made.json();

  // The console now shows when the key was last used.
  await page.reload();
  await hydrated(page);
  await expect(row).not.toContainText('Never');

  // The link opens the tenant's dashboard, signed in, in that tenant only.
  const visitor = await browser.newContext();
  const vp = await visitor.newPage();
  const visitorErrors = watchErrors(vp);
  await vp.goto(url);
  await expect(vp).toHaveURL(/\/endpoints$/);
  await hydrated(vp);
  await expect(vp.locator('.sidebar .tenant-name')).toHaveText(spa);
  await expect(vp.locator('#tenant-switcher')).toHaveCount(0);
  await expect(vp.locator('.user-email')).toHaveText(guestEmail);
  await expect(vp.getByRole('link', { name: 'Front desk inbox' })).toBeVisible();
  await expect(vp.locator('.nav')).not.toContainText('All tenants');
  await shot(vp, 'dashboard-link-signed-in');
  // The tenant's audit log names the platform's key for what it did, and the link's use.
  await vp.locator('.nav').getByRole('link', { name: 'Audit log' }).click();
  const audit = vp.locator('#audit');
  await expect(audit).toContainText('Created endpoint "Front desk inbox"');
  await expect(audit).toContainText(keyName);
  await expect(audit).toContainText('Platform key');
  await expect(audit).toContainText(`${guestEmail} signed in as admin with a one-time dashboard link from platform key "${keyName}"`);
  await shot(vp, 'dashboard-link-audit-log');
  await visitor.close();
  expect(visitorErrors).toEqual([]);

  // A second use shows a page that says so, and signs nobody in.
  const late = await browser.newContext();
  const lp = await late.newPage();
  const again = await lp.goto(url);
  expect(again.status()).toBe(410);
  await expect(lp.getByRole('heading', { name: 'This link has already been used' })).toBeVisible();
  await expect(lp.getByRole('link', { name: 'Sign in' })).toBeVisible();
  await shot(lp, 'dashboard-link-used');
  expect((await lp.request.get('/api/v1/me')).status()).toBe(401);
  await late.close();

  // Revoking asks first, then the key stops working at once.
  await hydrated(page);
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(row.locator(".confirm-question")).toHaveText(`Revoke "${keyName}"?`);
  await shot(page, 'platform-keys-revoke-confirm');
  await row.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(row.locator('.badge')).toHaveText('revoked');
  await expect(row.getByRole('button', { name: 'Revoke' })).toHaveCount(0);
  const refused = await page.request.get('/api/v1/tenants', { headers: auth });
  expect(refused.status()).toBe(401);
  await shot(page, 'platform-keys-revoked');
  expect(errors).toEqual([]);
});
