import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

/** Checks the page for accessibility faults, then saves a screenshot of it for review. */
export async function shot(page, name) {
  await checkAccessibility(page);
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

/**
 * Fails on any serious or critical WCAG 2.1 A/AA violation (axe-core) on the page as it is now.
 * Every page a spec visits passes through here: `hydrated` and `shot` call it.
 */
export async function checkAccessibility(page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const faults = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
  expect(faults, `accessibility faults on ${page.url()}`).toEqual([]);
}

export const unique = (prefix) => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;

/** Resolves once the page's wasm has loaded and hydrated the server-rendered HTML. */
export async function hydrated(page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 30_000 });
  await checkAccessibility(page);
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

/** Signs up and, as a newcomer does, follows the link the server emails to finish. */
export async function signUp(page, { name = 'Ana Lima', business, email, password = 'correct horse battery' }) {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Business name').fill(business);
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/signup\/sent$/);
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  await page.goto(signUpLink(email));
  await hydrated(page);
  await page.getByRole('button', { name: 'Create my workspace' }).click();
  await expect(page).toHaveURL(/\/endpoints$/);
  // The workspace opens with a full page load: wait until it is interactive, or a click lands
  // on the server-rendered page and the next form is typed into before it hydrates.
  await hydrated(page);
}

/** The emails the server under test wrote to its outbox (it has no SMTP), oldest first. */
export function outbox() {
  const dir = process.env.HERALD_DATA_DIR;
  if (!dir) throw new Error('HERALD_DATA_DIR must point at the data directory of the server under test (scripts/test.sh sets it)');
  let names = [];
  try {
    names = readdirSync(join(dir, 'outbox')).filter((n) => n.endsWith('.eml')).sort();
  } catch {
    return [];
  }
  // Undo quoted-printable (soft line breaks and =XX), as a mail client would.
  const decode = (text) => text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  return names.map((n) => decode(readFileSync(join(dir, 'outbox', n), 'utf8')));
}

/** The emails sent to `email`, oldest first. */
export function mailsTo(email) {
  return outbox().filter((m) => m.includes(`To: ${email.toLowerCase()}`));
}

/** The path of the newest sign-up link mailed to `email`. */
export function signUpLink(email) {
  const link = mailsTo(email).reverse().map((m) => m.match(/https?:\/\/\S+\/signup\/confirm\/[A-Za-z0-9]+/)).find(Boolean);
  if (!link) throw new Error(`no sign-up link was mailed to ${email}`);
  return new URL(link[0]).pathname;
}

export async function signIn(page, email, password = 'correct horse battery') {
  await page.goto('/signin');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// Staff accounts (and archival) come from the `herald` CLI, run against the database of the
// server under test (scripts/test.sh and e2e-one.sh pass HERALD_BIN, HERALD_DATA_DIR and DATABASE_URL).
export const HERALD = process.env.HERALD_BIN;
export const STAFF_PASSWORD = 'staff password 1';

export function herald(args) {
  return execFileSync(HERALD, args, {
    env: { ...process.env, HERALD_PASSWORD: STAFF_PASSWORD, RUST_LOG: 'error' },
  }).toString().trim();
}
