// What every journey module shares: the demo it runs against, pages that
// count their renderings, the axe audit, screenshots and the phone check.
//   node journeys.mjs DEMO_DIR [--screenshots DIR]
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import { check, Demo } from './lib.mjs';

const [dir, flag, shotDir] = process.argv.slice(2);
export const screenshots = flag === '--screenshots' ? path.resolve(shotDir) : null;
export const demo = new Demo(dir);
export const PUB = demo.m.public_url;
export const EID = demo.m.eid_url;
export const LANGS = ['nl', 'fr', 'de', 'en'];
export const catalogue = Object.fromEntries(LANGS.map((l) => [l,
  Object.assign({}, ...['', 'activate/', 'officer/', 'org/', 'oidc/'].map((p) =>
    JSON.parse(fs.readFileSync(new URL(`../../web/i18n/${p}${l}.json`, import.meta.url), 'utf8'))))]));
export const jan = demo.person('jan.peeters');

// Chromium trusts the demo server's key only, not every certificate.
export function serverSpki() {
  const cert = new crypto.X509Certificate(fs.readFileSync(demo.file('pki/server.crt')));
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('base64');
}

// Debian's Chromium, trusting the demo server's key, for fn(browser); an
// exception in fn counts as one failure. The browser is closed after.
export async function withBrowser(fn) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', `--ignore-certificate-errors-spki-list=${serverSpki()}`],
  });
  try {
    await fn(browser);
  } catch (e) {
    check(`the journeys ran to the end: ${e.message.split('\n')[0]}`, false, e.stack);
  } finally {
    await browser.close();
  }
}

export async function newPage(browser, opt = {}) {
  const context = await browser.newContext({ locale: opt.locale || 'nl-BE', ...opt.context });
  const page = await context.newPage();
  page.cspErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) page.cspErrors.push(m.text());
  });
  page.setDefaultTimeout(15000);
  return page;
}

// Runs an action and waits for the page it leads to: the app counts its
// renderings in main's data-rendered, after it set the title and focus.
export async function step(page, action) {
  const before = await page.evaluate(() => Number(document.getElementById('main').dataset.rendered || 0));
  await action();
  await page.waitForFunction((n) => Number(document.getElementById('main').dataset.rendered || 0) > n, before);
}

export const visit = (page, hash) => step(page, () => page.evaluate((h) => { location.hash = h; }, hash));
export const submit = (page, sel = 'button[type="submit"]') => step(page, () => page.click(sel));

export async function settle(page) {
  await page.waitForFunction(() => Number(document.getElementById('main').dataset.rendered || 0) > 0);
}

export const audited = new Set();
export async function audit(page, label) {
  const r = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  audited.add(label);
  check(`axe: ${label} has no serious or critical violation`, bad.length === 0,
    bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; '));
  check(`csp: ${label} broke no Content-Security-Policy rule`, page.cspErrors.length === 0, page.cspErrors.join('; '));
  page.cspErrors.length = 0;
}

export async function setLanguage(page, lang) {
  await step(page, () => page.click(`#lang-nav button[lang="${lang}"]`));
}

// The pages docs/screenshots shows (`make screenshots`): in English, but
// the new key's page in Dutch, as the key journey sees it.
export const SHOTS = new Set(['start', 'login', 'login-password-error', 'account', 'apps', 'step-up-code', 'keys',
  'keys-confirm', 'access-log', 'office-conditions', 'office-search', 'office-identify', 'office-letter', 'office-actions',
  'activate', 'activate-key', 'activate-confirm', 'activate-done']);

export async function shoot(page, name) {
  if (!screenshots || !SHOTS.has(name)) return;
  fs.mkdirSync(screenshots, { recursive: true });
  for (const [kind, size] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 360, height: 780 }]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(screenshots, `${name}-${kind}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

// At 360 CSS pixels nothing but a table's own scroller may be wider.
export async function fitsPhone(page, label) {
  await page.setViewportSize({ width: 360, height: 740 });
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  check(`responsive: ${label} fits 360 px`, w <= 360, `scrollWidth ${w}`);
  await page.setViewportSize({ width: 1280, height: 720 });
}


// Logs a person in with username and password (no second factor).
export async function login(page, p) {
  await page.goto(`${PUB}/#/login`);
  await settle(page);
  await passwordLogin(page, p);
}

// The same from the login page's choice of key on, wherever it came from
// (#/login, or an application's request, #/oidc).
export async function passwordLogin(page, p) {
  await page.check('#key-0');
  await submit(page, 'button[type="submit"]');
  await page.fill('#username', p.username);
  await page.fill('#password', p.password);
  await submit(page);
}
