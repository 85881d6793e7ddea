/**
 * Browser test helpers: build the dashboard into a temp dir (so parallel test files never share
 * output), start the fixture central side on it, drive Debian's Chromium with playwright-core,
 * and log in through the real form.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type FixtureOptions, type FixtureServer, startFixtureServer } from './fixture-server.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
/** Upper bound for anything the UI does after a click or a message. */
export const UI_TIMEOUT_MS = 10_000;

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

/**
 * The few browser globals the tests read inside `page.evaluate` (the test program has no DOM
 * types; the callbacks run in Chromium, so the assertion only names what is there).
 */
export interface Win {
  document: { documentElement: { scrollWidth: number; clientWidth: number } };
  sessionStorage: { length: number; getItem(k: string): string | null; key(i: number): string | null };
  localStorage: { length: number };
  getComputedStyle(e: unknown): { backgroundColor: string };
  marker?: number;
}

export interface BrowserPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of the page (failed HTTP statuses excluded). */
  errors: string[];
}

export interface Harness extends BrowserPage {
  server: FixtureServer;
  close(): Promise<void>;
}

/** Runs the dashboard build (scripts/build.mjs) into `dir`, or into dashboard/dist/public. */
export function buildDashboard(dir?: string): void {
  const args = [join(ROOT, 'dashboard', 'scripts', 'build.mjs'), ...(dir ? ['--out', dir] : [])];
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`dashboard build failed: ${r.stderr || r.stdout}`);
}

/** Debian's Chromium through playwright-core, one context and page, console errors collected. */
export async function launchBrowser(viewport = DESKTOP): Promise<BrowserPage> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const errors: string[] = [];
  // A refused login or an expired token shows in the console as a failed resource: expected.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { browser, context, page, errors };
}

export async function startHarness(
  viewport = DESKTOP,
  fixture: Omit<FixtureOptions, 'publicDir'> = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'dash-e2e-'));
  buildDashboard(dir);
  const server = await startFixtureServer({ ...fixture, publicDir: dir });
  const { browser, context, page, errors } = await launchBrowser(viewport);
  return {
    server,
    errors,
    browser,
    context,
    page,
    close: async () => {
      await context.close().catch(() => {});
      await browser.close().catch(() => {});
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Logs in through the form, found by its labels, and waits for the role's view. */
export async function login(h: Harness, user: string, password: string, heading: string): Promise<void> {
  await loginAt(h.page, h.server.url, user, password, heading);
}

export async function loginAt(page: Page, url: string, user: string, password: string, heading: string) {
  await page.goto(url);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** The page's horizontal overflow: scrollWidth must not exceed clientWidth. */
export function widths(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => {
    const d = (globalThis as unknown as Win).document.documentElement;
    return { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth };
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the fixture has recorded a matching API call, and returns it. */
export async function waitForCall(
  server: FixtureServer,
  method: string,
  path: string | RegExp,
): Promise<FixtureServer['calls'][number]> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    const c = server.calls.find(
      (x) => x.method === method && (typeof path === 'string' ? x.path === path : path.test(x.path)),
    );
    if (c) return c;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${method} ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
