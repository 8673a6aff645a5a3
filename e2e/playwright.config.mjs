import { defineConfig } from '@playwright/test';

// The server is started by scripts/test.sh (a fresh data directory each run) on BASE_URL.
export default defineConfig({
  testDir: './tests',
  // A guard against hangs, not a speed check: the longest specs walk a dozen pages, and on a
  // 2-core machine that is also compiling they came within a second of 60 s (one went over).
  timeout: 120_000,
  expect: { timeout: 10_000 },
  workers: 1,
  reporter: [['list'], ['./strict-reporter.mjs']],
  // Under CI a focused test (.only) is an error, not a quiet way to run one spec.
  forbidOnly: !!process.env.CI,
  outputDir: './test-results',
  use: {
    baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3100',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
});
