import { expect } from '@playwright/test';

export const shot = (page, name) => page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });

export const unique = (prefix) => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;

/** Resolves once the page's wasm has loaded and hydrated the server-rendered HTML. */
export async function hydrated(page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 30_000 });
}

/** Collects page errors, console errors and failed requests, to assert there were none. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // 4xx answers to deliberately bad input are expected; the browser logs them as errors.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return errors;
}

export async function signUp(page, { name = 'Ana Lima', business, email, password = 'correct horse battery' }) {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Business name').fill(business);
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/endpoints$/);
}

export async function signIn(page, email, password = 'correct horse battery') {
  await page.goto('/signin');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
