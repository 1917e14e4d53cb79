// The portal's journeys in Chromium, and an axe-core audit of every page in
// every language. Run by run.mjs (which starts the demo):
//   node journeys.mjs DEMO_DIR [--screenshots DIR]
// Prints "ok/FAIL - …" per check and "N passed, N failed" at the end.
import fs from 'node:fs';
import { check, otpauthSecret, results, totp } from './lib.mjs';
import {
  PUB, EID, LANGS, catalogue, jan, demo, newPage, step, visit, submit, settle, audited, audit, setLanguage,
  shoot, fitsPhone, login, screenshots, withBrowser,
} from './kit.mjs';
import { journeysOfficer } from './officer.mjs';
import { journeysOrg } from './org.mjs';
import { journeysOidc } from './oidc.mjs';
import { journeysFederation } from './federation.mjs';

const ANON_PAGES = ['#/', '#/login', '#/login/password', '#/login/eid', '#/forgot', '#/apps'];

// Every anonymous page in every language, the browser's language as default,
// and a refused login in each language.
async function journeyLanguages(browser) {
  const de = await newPage(browser, { locale: 'de-DE' });
  await de.goto(`${PUB}/`);
  await settle(de);
  check('the browser\'s language is the default (de)', await de.evaluate(() => document.documentElement.lang) === 'de');
  await de.context().close();

  const page = await newPage(browser);
  await page.goto(`${PUB}/`);
  await settle(page);
  for (const lang of LANGS) {
    await setLanguage(page, lang);
    for (const hash of ANON_PAGES) {
      await visit(page, hash);
      const h1 = await page.textContent('h1');
      check(`${lang} ${hash} renders its heading from the catalogue`, Object.values(catalogue[lang]).includes(h1.trim()), h1);
      await audit(page, `${hash} (${lang})`);
      if (lang === 'en') {
        await fitsPhone(page, hash);
        await shoot(page, hash === '#/' ? 'start' : hash.slice(2).replace(/\//g, '-'));
      }
    }
    // One thing per page, with the error summary linked to the field.
    await visit(page, '#/login');
    await submit(page, 'button[type="submit"]');
    check(`${lang}: an unanswered question shows the error summary, focused`,
      await page.evaluate(() => document.activeElement.classList.contains('error-summary')));
    await page.click('.error-summary a');
    check(`${lang}: the summary's link moves focus to the field`, await page.evaluate(() => document.activeElement.id) === 'key-0');
    await audit(page, `#/login with an error (${lang})`);
    // A refused login: the problem's code in this language.
    await visit(page, '#/login/password');
    await page.fill('#username', `nobody.${lang}`);
    await page.fill('#password', 'wrong-password');
    await submit(page, 'button[type="submit"]');
    const text = (await page.textContent('.error-summary li')).trim();
    check(`${lang}: a refused login says so in ${lang}`, text === catalogue[lang]['error.invalid_credentials'], text);
    check(`${lang}: the title starts with the error prefix`, (await page.title()).startsWith(catalogue[lang]['error.prefix']));
    await audit(page, `#/login/password refused (${lang})`);
    if (lang === 'en') await shoot(page, 'login-password-error');
  }
  const stored = await page.evaluate(() => Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`)
    .concat(Object.keys(sessionStorage)));
  check('web storage holds the language only', JSON.stringify(stored) === JSON.stringify(['kp-lang=en']), JSON.stringify(stored));
  await page.context().close();
}


// Password, then the app gate: a level-400 service asks for a second step.
async function journeyPasswordTotp(page) {
  await login(page, jan);
  check('password login lands on the session page', (await page.textContent('h1')).trim() === catalogue.nl['account.title']);
  check('the session shows level 200', (await page.textContent('.summary')).includes('200'));
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === '__Host-kp_session');
  check('the session is an HttpOnly, Secure, SameSite=Strict cookie', c && c.httpOnly && c.secure && c.sameSite === 'Strict');
  await visit(page, '#/apps');
  check('a level-400 service asks for a second step', await page.isVisible('#stepup-mypension'));
  await submit(page, '#stepup-mypension');
  await page.check('input[value="totp"]');
  await submit(page, 'button[type="submit"]');
  await page.fill('#code', totp(jan.totp_secret));
  await submit(page, 'button[type="submit"]');
  check('the step-up raises the session to 400', (await page.textContent('.banner')).includes('400'));
  await submit(page, '#enter-mypension');
  check('the app gate lets the session in', (await page.textContent('.banner')).includes('MyPension'));
  // A reload loses the page's memory, not the session: the cookie stays and
  // GET /api/v1/auth/session gives the CSRF value back (the key journey's
  // POSTs need it).
  await page.reload();
  await settle(page);
  check('after a reload the session is still there', await page.isVisible('#logout'));
}

// A second authenticator app, confirmed with its first code, deactivated.
async function journeyKeys(page) {
  await visit(page, '#/keys');
  const before = await page.locator('tbody tr').count();
  await submit(page, '#add-key');
  await page.check('input[value="totp"]');
  await submit(page, 'button[type="submit"]');
  const qrOk = await page.evaluate(() => { const i = document.querySelector('img.qr'); return i.complete && i.naturalWidth > 0; });
  check('the new key\'s QR code is shown', qrOk);
  if (screenshots) await shoot(page, 'keys-confirm');
  await audit(page, '#/keys/confirm (nl)');
  const uri = await page.textContent('#otpauth-uri');
  await page.fill('#code', totp(otpauthSecret(uri.trim())));
  await submit(page, 'button[type="submit"]');
  check('the new authenticator app is active', (await page.locator('tbody tr').count()) === before + 1);
  const id = await page.evaluate(() => Math.max(...[...document.querySelectorAll('a[id^="deactivate-"]')].map((a) => Number(a.id.slice(11)))));
  await submit(page, `#deactivate-${id}`);
  await submit(page, 'button[type="submit"]');
  check('the key is deactivated', !(await page.isVisible(`#deactivate-${id}`)));
}

// An institution consults Jan; his log shows it and its proof downloads.
async function journeyAccessLog(page) {
  const inst = demo.m.institutions[0];
  const ticket = await demo.consult(inst.kbo, jan.insz);
  check('an institution consulted Jan', Boolean(ticket));
  const token = await demo.bearer(jan);
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = (await demo.request('GET', `${PUB}/api/v1/me/access-log/proof?ticket=${ticket}`,
      { headers: { Authorization: `Bearer ${token}` } })).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 200));
  }
  await visit(page, '#/access-log');
  check('the access log lists the consultation', (await page.locator('a.proof-link').count()) >= 1);
  check('with its ticket', (await page.locator('td.ticket').allTextContents()).includes(ticket));
  const row = (await page.locator('tbody tr').filter({ hasText: ticket }).first().textContent()) || '';
  check('the data and purpose in words, not codes', row.includes(catalogue.nl['data.identification'])
    && row.includes(catalogue.nl['purpose.health_insurance_rights']) && !row.includes('_'), row);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a.proof-link').first().click()]);
  const file = await download.path();
  const text = file ? fs.readFileSync(file, 'utf8') : '';
  check('the downloaded proof is a tlog-proof', text.startsWith('c2sp.org/tlog-proof@v1'), text.slice(0, 80));
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  await page.fill('#from', tomorrow);
  await submit(page, '.filter button');
  check('a period without consultations shows none', (await page.locator('a.proof-link').count()) === 0);
}

// Jan (at level 400) lets the bakery check whether he may work a flexi-job:
// an unknown enterprise number is refused in his language, the mandate
// shows as active, then revoked.
async function journeyMandates(page) {
  const bakery = '0412345614';
  await visit(page, '#/account');
  await submit(page, 'a[href="#/mandates"]');
  check('the account page links to the mandates', (await page.textContent('h1')).trim() === catalogue.nl['mandates.title']);
  await submit(page, '#add-mandate');
  await submit(page);
  const required = await page.locator('.error-summary li').allTextContents();
  check('an empty form names each missing answer', required.length === 2, required.join(' | '));
  await page.check('input[name="data_set"][value="flexi_eligibility"]');
  const max = await page.getAttribute('#valid_until', 'max');
  const days = (Date.parse(max) - Date.parse(new Date().toISOString().slice(0, 10))) / 86400000;
  check('the end date is at most a month away for flexi_eligibility', days >= 28 && days <= 31, max);
  await page.fill('#holder', '0412.345.615');
  await submit(page);
  check('a wrong check digit is refused by the lookup', (await page.textContent('.error-summary li')).trim() === catalogue.nl['error.invalid_kbo']);
  await page.fill('#holder', '0876.543.270');
  await submit(page);
  const refused = (await page.textContent('.error-summary li')).trim();
  check('an enterprise number the register does not know is refused in Dutch', refused === catalogue.nl['error.org_unknown'], refused);
  check('the refusal is on the holder field', await page.getAttribute('#holder', 'aria-invalid') === 'true');
  check('the data set chosen stays chosen', await page.isChecked('input[name="data_set"][value="flexi_eligibility"]'));
  await audit(page, '#/mandates/new refused (nl)');
  await page.fill('#holder', bakery);
  await submit(page);
  check('the holder is looked up before confirming: a page to check', (await page.textContent('h1')).trim() === catalogue.nl['mandatecheck.title']);
  const answers = await page.textContent('#mandate-answers');
  check('it names the bakery as registered', answers.includes('Bakkerij De Kroon BV') && answers.includes(bakery), answers);
  check('and the data set', answers.includes(catalogue.nl['mandates.set.flexi_eligibility']));
  check('the check page shows the conditions in full', (await page.textContent('#conditions')).trim().length > 100);
  await submit(page);
  check('the conditions must be accepted', (await page.textContent('.error-summary li')).trim() === catalogue.nl['mandatenew.error.accept']);
  for (const lang of LANGS) {
    await setLanguage(page, lang);
    await audit(page, `#/mandates/check (${lang})`);
    if (lang === 'en') await fitsPhone(page, '#/mandates/check');
  }
  await setLanguage(page, 'nl');
  await page.check('#accept');
  await submit(page);
  check('the grant lands on the list with a banner naming the bakery', (await page.textContent('.banner')).includes(bakery));
  check('by its registered name too', (await page.textContent('.banner')).includes('Bakkerij De Kroon BV'));
  const row = page.locator('tbody tr', { hasText: bakery }).first();
  check('the bakery\'s mandate is active', (await row.locator('td.status').textContent()).trim() === catalogue.nl['mandates.status.active']);
  const id = (await row.getAttribute('id')).slice('mandate-'.length);
  await submit(page, `#revoke-${id}`);
  await audit(page, '#/mandates/revoke (nl)');
  await submit(page);
  check('the revoke lands on the list with a banner', (await page.textContent('.banner')).includes(bakery));
  check('the mandate is revoked', (await page.textContent(`#mandate-${id} td.status`)).trim() === catalogue.nl['mandates.status.revoked']);
  check('a revoked mandate has no revoke link', !(await page.isVisible(`#revoke-${id}`)));
}

const SESSION_PAGES = ['#/account', '#/profile', '#/apps', '#/step-up?app=mypension', '#/step-up/code?method=totp',
  '#/keys', '#/keys/add', '#/keys/deactivate?id=3', '#/access-log', '#/mandates', '#/mandates/new'];

async function auditSessionPages(page) {
  for (const lang of LANGS) {
    await setLanguage(page, lang);
    for (const hash of SESSION_PAGES) {
      await visit(page, hash);
      await audit(page, `${hash} (${lang})`);
      if (lang === 'en') {
        await fitsPhone(page, hash);
        await shoot(page, hash.slice(2).split('?')[0].replace(/\//g, '-'));
      }
    }
  }
  await setLanguage(page, 'nl');
}

// Acting for someone: the profiles the server offers, chosen by name.
async function journeyProfile(page) {
  await visit(page, '#/profile');
  const labels = await page.locator('fieldset label').allTextContents();
  check('the profiles offered are Jan himself and his minor child', labels.length === 2 &&
    labels[0].includes('Jan Peeters') && labels[1].includes('Lotte Peeters'), labels.join(' | '));
  check('the current profile is chosen', await page.isChecked('#as-0'));
  await page.check('#as-1');
  await submit(page);
  check('Jan acts for Lotte', (await page.textContent('.summary')).includes('12090311839'));
  await visit(page, '#/profile');
  await page.check('#as-0');
  await submit(page);
  check('and back for himself', !(await page.textContent('.summary')).includes('12090311839'));
}

async function journeyLogout(page) {
  await submit(page, '#logout');
  check('logout lands on the start page', (await page.textContent('h1')).trim() === catalogue.nl['home.title']);
  const st = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).status);
  check('after logout the session is gone', st === 401, String(st));
}

// A second step by SMS: the code the demo's SMS sink received.
async function journeySms(browser) {
  const marie = demo.person('marie.dubois');
  const page = await newPage(browser);
  await login(page, marie);
  await visit(page, '#/step-up');
  await page.check('input[value="sms_code"]');
  const since = Date.now();
  await submit(page);
  check('the code page says where the SMS went, masked', !(await page.textContent('main')).includes(marie.phone));
  const code = await demo.codeSent('sms_dir', marie.phone, since);
  check('the SMS sink received a code', Boolean(code));
  await page.fill('#code', code || '000000');
  await submit(page);
  check('an SMS code raises the session to 400', (await page.textContent('.summary')).includes('400'));
  await page.context().close();
}

// Keyboard only, from the start page to a logged-in session; focus stays
// visible (the yellow focus style) on the way.
async function journeyKeyboard(browser) {
  const p = demo.person('lucas.janssens');
  const page = await newPage(browser);
  await page.goto(`${PUB}/`);
  await settle(page);
  const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
  const yellow = () => page.evaluate(() => getComputedStyle(document.activeElement).backgroundColor === 'rgb(255, 221, 0)');
  await page.keyboard.press('Tab');
  check('keyboard: the first Tab reaches the skip link', await focused() === 'skip-link');
  check('keyboard: the skip link\'s focus is visible', await yellow());
  await page.keyboard.press('Enter');
  check('keyboard: the skip link moves focus to the page\'s heading', await focused() === 'page-heading');
  await page.keyboard.press('Tab');
  check('keyboard: the next Tab is the start link', await focused() === 'start');
  check('keyboard: the start link\'s focus is visible', await yellow());
  await step(page, () => page.keyboard.press('Enter'));
  check('keyboard: a new page puts focus on its heading', await focused() === 'page-heading');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  check('keyboard: Tab and Space choose the first key', await page.isChecked('#key-0'));
  await page.keyboard.press('Tab');
  check('keyboard: the button\'s focus is visible', await yellow());
  await step(page, () => page.keyboard.press('Enter'));
  await page.keyboard.press('Tab');
  await page.keyboard.type(p.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(p.password);
  await step(page, () => page.keyboard.press('Enter'));
  check('keyboard: logged in without a mouse', await page.isVisible('#logout'));
  await page.context().close();
}

// Tab until the focus is on sel (at most 40 presses): everything the
// journey needs must be reachable so, and show where the focus is.
async function tabTo(page, sel) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((q) => document.activeElement?.matches(q), sel)) {
      const seen = await page.evaluate(() => {
        const st = getComputedStyle(document.activeElement);
        return st.outlineStyle !== 'none' || st.boxShadow !== 'none' || st.backgroundColor === 'rgb(255, 221, 0)';
      });
      check(`keyboard: ${sel} is reached by Tab, its focus visible`, seen);
      return;
    }
  }
  check(`keyboard: ${sel} is reached by Tab`, false);
  throw new Error(`Tab never reached ${sel}`);
}

// The manual checklist's keyboard walk, made a test: Lucas gives the
// bakery a mandate and revokes it with the keyboard only (Tab, Space,
// Enter, typing), including the second step it needs.
async function journeyKeyboardMandate(browser) {
  const p = demo.person('lucas.janssens');
  const page = await newPage(browser);
  await page.goto(`${PUB}/#/login/password`);
  await settle(page);
  await tabTo(page, '#username');
  await page.keyboard.type(p.username);
  await tabTo(page, '#password');
  await page.keyboard.type(p.password);
  await step(page, () => page.keyboard.press('Enter'));
  await tabTo(page, 'a[href="#/mandates"]');
  await step(page, () => page.keyboard.press('Enter'));
  await tabTo(page, '#mandates-step-up');
  await step(page, () => page.keyboard.press('Enter'));
  await tabTo(page, 'input[value="totp"]');
  await page.keyboard.press('Space');
  await tabTo(page, 'main button[type="submit"]');
  await step(page, () => page.keyboard.press('Enter'));
  await tabTo(page, '#code');
  await page.keyboard.type(totp(p.totp_secret));
  await step(page, () => page.keyboard.press('Enter'));
  await tabTo(page, '#add-mandate');
  await step(page, () => page.keyboard.press('Enter'));
  await tabTo(page, 'input[name="data_set"]');
  await page.keyboard.press('Space');
  await tabTo(page, '#holder');
  await page.keyboard.type('0412345614');
  await step(page, () => page.keyboard.press('Enter'));
  check('keyboard: the check page comes', (await page.textContent('h1')).trim() === catalogue.nl['mandatecheck.title']);
  await tabTo(page, '#accept');
  await page.keyboard.press('Space');
  await tabTo(page, 'main button[type="submit"]');
  await step(page, () => page.keyboard.press('Enter'));
  check('keyboard: the mandate is given without a mouse', (await page.textContent('.banner')).includes('0412345614'));
  await tabTo(page, 'a[id^="revoke-"]');
  await step(page, () => page.keyboard.press('Enter'));
  await tabTo(page, 'main button[type="submit"]');
  await step(page, () => page.keyboard.press('Enter'));
  check('keyboard: and revoked without a mouse', await page.isVisible('.banner'));
  await page.context().close();
}

// eID: Playwright presents the person's certificate to the eID listener.
async function journeyEid(browser) {
  const p = demo.m.persons.find((x) => x.eid_cert && !x.eid_must_be_refused && x.insz !== jan.insz);
  const page = await newPage(browser, {
    context: { clientCertificates: [{ origin: EID, certPath: demo.file(p.eid_cert), keyPath: demo.file(p.eid_key) }] },
  });
  await page.goto(`${PUB}/#/login/eid`);
  await settle(page);
  const href = await page.getAttribute('#eid-start', 'href');
  check('the eID login starts at the portal, which binds it to this browser', href.startsWith('/api/v1/auth/eid/start?'), href);
  await page.click('#eid-start');
  await page.waitForURL(`${PUB}/**`);
  await page.waitForSelector('#logout');
  await settle(page);
  const summary = await page.textContent('.summary');
  check('an eID login opens a level-500 session', summary.includes('500') && summary.includes(p.insz), summary);
  // The way back from a forgotten password: a new one, with the eID.
  await visit(page, '#/credentials');
  for (const lang of LANGS) {
    await setLanguage(page, lang);
    await audit(page, `#/credentials (${lang})`);
  }
  await setLanguage(page, 'nl');
  const password = 'paarse olifanten dansen om middernacht';
  await page.fill('#new-password', password);
  await submit(page);
  check('the eID session sets a new password', (await page.textContent('.banner')).includes(p.username));
  await page.context().close();
  const again = await newPage(browser);
  await login(again, { ...p, password });
  check('the new password logs in', (await again.textContent('.summary')).includes(p.insz));
  await again.context().close();
}

async function main() {
  await withBrowser(async (browser) => {
    console.log(`# playwright-core ${JSON.parse(fs.readFileSync(new URL('./node_modules/playwright-core/package.json', import.meta.url))).version}, Chromium ${browser.version()}`);
    await journeyLanguages(browser);
    const page = await newPage(browser);
    await journeyPasswordTotp(page);
    await journeyKeys(page);
    await journeyAccessLog(page);
    await journeyMandates(page);
    await auditSessionPages(page);
    await journeyProfile(page);
    await journeyLogout(page);
    await page.context().close();
    await journeySms(browser);
    await journeyKeyboard(browser);
    await journeyKeyboardMandate(browser);
    await journeyEid(browser);
    await journeysOfficer(browser);
    await journeysOrg(browser);
    await journeysOidc(browser);
    await journeysFederation(browser);
  });
  console.log(`# axe audited ${audited.size} page states`);
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(results.failed ? 1 : 0);
}

main();
