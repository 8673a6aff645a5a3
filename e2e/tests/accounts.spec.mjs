import { test, expect } from '@playwright/test';
import { hydrated, mailsTo, shot, signIn, signUp, unique, watchErrors } from './helpers.mjs';

test('sign up, sign out, sign in, invite a member who joins', async ({ page, browser }) => {
  const errors = watchErrors(page);
  const owner = unique('owner');

  // Bad input is explained next to the field and creates nothing.
  await page.goto('/signup');
  await hydrated(page);
  await shot(page, 'signup');
  await page.getByLabel('Business name').fill('Lotus Day Spa');
  await page.getByLabel('Work email').fill(owner);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#field-password-error')).toHaveText('Use at least 10 characters for the password.');
  await expect(page).toHaveURL(/\/signup$/);

  await signUp(page, { business: 'Lotus Day Spa', email: owner });
  await expect(page.locator('.sidebar .tenant-name')).toHaveText('Lotus Day Spa');
  await expect(page.locator('.sidebar .badge-plan')).toHaveText('Basic plan');
  await expect(page.locator('#endpoint-usage')).toContainText('0 of 1 endpoints');
  await shot(page, 'endpoints-empty');

  // Signing up again with the same email looks like any sign-up (the form does not tell who
  // has an account); the owner is emailed a notice instead of a link, and nothing is created.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto('/signup');
  await hydrated(otherPage);
  await otherPage.getByLabel('Business name').fill('Copycat Salon');
  await otherPage.getByLabel('Work email').fill(owner.toUpperCase());
  await otherPage.getByLabel('Password').fill('another long password');
  await otherPage.getByRole('button', { name: 'Create account' }).click();
  await expect(otherPage).toHaveURL(/\/signup\/sent$/);
  await expect(otherPage.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  await shot(otherPage, 'signup-sent');
  const notice = mailsTo(owner).at(-1);
  expect(notice).toContain('already has a Herald account');
  expect(notice).not.toContain('/signup/confirm/');
  await other.close();
  await page.reload();
  await hydrated(page);
  await expect(page.locator('.sidebar .tenant-name')).toHaveText('Lotus Day Spa');

  // Invite a member: the link appears in place, without a page reload (hydration works).
  await page.getByRole('link', { name: 'Team' }).click();
  await expect(page.getByRole('heading', { name: 'Team' })).toBeVisible();
  await page.evaluate(() => { window.__no_reload_marker = 42; });
  const member = unique('member');
  await page.getByLabel('Email').fill(member);
  await page.getByLabel('Role').selectOption('member');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  const result = page.locator('#invite-result');
  await expect(result).toContainText(member);
  const link = (await result.locator('code').textContent()).trim();
  expect(link).toMatch(/\/invite\/[A-Za-z0-9]{40}$/);
  expect(await page.evaluate(() => window.__no_reload_marker)).toBe(42);
  await expect(page.locator('#invitations')).toContainText(member);
  await shot(page, 'team-invited');

  // Sign out, then a wrong password is refused with a clear message, the right one works.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await signIn(page, owner, 'wrong password here');
  await expect(page.locator('#field-password-error')).toHaveText('That email and password do not match an account.');
  await shot(page, 'signin-error');
  await signIn(page, owner);
  await expect(page).toHaveURL(/\/endpoints$/);
  await expect(page.locator('.sidebar .user-email')).toHaveText(owner);

  // The invitee opens the link in their own browser and joins as a member.
  const invitee = await browser.newContext();
  const invitePage = await invitee.newPage();
  const path = new URL(link).pathname;
  await invitePage.goto(path);
  await hydrated(invitePage);
  await expect(invitePage.locator('.invite-summary')).toContainText('Lotus Day Spa');
  await shot(invitePage, 'invitation');
  await invitePage.getByLabel('Your name').fill('Bruno Member');
  await invitePage.getByLabel('Choose a password').fill('member password 123');
  await invitePage.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(invitePage).toHaveURL(/\/endpoints$/);
  await expect(invitePage.locator('.sidebar .tenant-name')).toHaveText('Lotus Day Spa');
  await invitePage.getByRole('link', { name: 'Team' }).click();
  await expect(invitePage.locator('#members')).toContainText('Bruno Member');
  // Members see the team but cannot invite.
  await expect(invitePage.getByRole('button', { name: 'Send invitation' })).toHaveCount(0);
  await invitee.close();

  // The owner sees the new member and can remove them, after confirming.
  await page.getByRole('link', { name: 'Team' }).click();
  const row = page.locator('#members tr', { hasText: member });
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Remove' }).click();
  await expect(row).toContainText(`Remove ${member}?`);
  await shot(page, 'team-confirm-remove');
  await row.getByRole('button', { name: 'Yes, remove' }).click();
  await expect(page.locator('#members')).not.toContainText(member);

  expect(errors).toEqual([]);
});

test('signed-out visitors are sent to sign in', async ({ page }) => {
  await page.goto('/team');
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});
