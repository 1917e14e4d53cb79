// External keys by federation (src/federation): Jan chooses the demo's
// external provider (demo-idp, an itsme-like key of level 450) on the
// login page, logs in on that provider's own page with his national
// number, and comes back with a kruispunt session at level 450, the key
// type and the provider in the audit log. Then the attacks a browser can make: the
// provider's answer replayed, and brought to another browser without the
// login's cookie; both refused (logged, not audited: no login of ours).
import { execFileSync } from 'node:child_process';
import { check } from './lib.mjs';
import { PUB, demo, jan, newPage, submit, settle, audit } from './kit.mjs';

const session = (page) => page.context().request.get(`${PUB}/api/v1/auth/session`, { headers: { 'Sec-Fetch-Site': 'same-origin' } });

export async function journeysFederation(browser) {
  const idp = demo.m.external_idp;
  check('federation: demo.json names the external provider', idp?.id === 'demo-idp' && idp?.level === 450, JSON.stringify(idp));
  if (!idp) return;
  const page = await newPage(browser);
  let callback = null;
  page.on('request', (r) => { if (r.url().includes('/api/v1/auth/federation/callback')) callback = r.url(); });
  await page.goto(`${PUB}/#/login`);
  await settle(page);
  const radio = 'input[value="provider:demo-idp"]';
  check('federation: the login page offers the external provider', await page.isVisible(radio));
  check('federation: named, with its level', (await page.textContent(`label[for="${await page.getAttribute(radio, 'id')}"]`)).includes('450'));
  await audit(page, '#/login (with an external provider)');
  await page.check(radio);
  await Promise.all([page.waitForURL(`${idp.issuer}/**`), page.click('main button[type="submit"]')]);
  check('federation: the browser is at the provider\'s own login page', page.url().startsWith(idp.issuer));
  await page.fill('input[name="login"]', jan.insz);
  await page.fill('input[name="password"]', 'any');
  await Promise.all([page.waitForURL(`${idp.issuer}/**`), page.click('button[type="submit"]')]);
  // The provider asks its own consent, then sends the browser back.
  await Promise.all([page.waitForURL(`${PUB}/**`), page.click('button[type="submit"]')]);
  await settle(page);
  const s = await session(page);
  const sj = s.status() === 200 ? await s.json() : {};
  check('federation: back at kruispunt with a session', s.status() === 200, String(s.status()));
  check('federation: Jan\'s, at the key type\'s level 450', sj.insz === jan.insz && sj.level === 450, JSON.stringify(sj));
  check('federation: opened by the key type itsme_pin', sj.keys?.[0]?.type === 'itsme_pin', JSON.stringify(sj.keys));
  const events = (like) => execFileSync('sqlite3', [demo.file('kruispunt.db'),
    `SELECT count(*) FROM audit_event WHERE CAST(entry AS TEXT) LIKE '${like}'`], { encoding: 'utf8' }).trim();
  check('federation: the audit log has his login with the key type and the provider',
    Number(events(`%subject:11:${jan.insz}%action:5:login%purpose:9:itsme_pin%legal_basis:8:demo-idp%outcome:7:granted%`)) === 1);

  // Attacks: the provider's answer again (the state is spent), and in
  // another browser (no cookie).
  const again = await page.context().request.get(callback, { maxRedirects: 0 });
  check('federation: the answer replayed is refused', again.status() === 401 && (await again.text()).includes('federation_state_invalid'), String(again.status()));
  const other = await newPage(browser);
  const stolen = await other.context().request.get(callback, { maxRedirects: 0 });
  check('federation: without the login\'s cookie it is refused', stolen.status() === 401 && (await stolen.text()).includes('federation_state_invalid'));
  const cross = await other.context().request.get(`${PUB}/api/v1/auth/federation/demo-idp/start?return=/`, { maxRedirects: 0, headers: { 'Sec-Fetch-Site': 'cross-site' } });
  check('federation: another site cannot start a login', cross.status() === 403);
  // Neither names a login of ours or a person: logged by the daemon, not
  // audit events, or anyone could fill the ten-year log with them.
  const refused = events('%outcome:7:refused%federation_state_invalid%');
  check('federation: the refusals without a login of ours are not audit events', Number(refused) === 0, refused);
  await other.context().close();
  await page.context().close();
}
