// The registration officer's journeys in the portal (issue 16): Els logs
// in with her eID, acts for the municipality, accepts the conditions,
// finds Olena (waiting at the office), records a failed and then a good
// identification, issues the code and sees the letter and her actions.
// Then Olena, at home, opens the e-mailed link in a browser of her own,
// enters the code from the letter, chooses her credentials and an
// authenticator app, and logs in with her new password.
import fs from 'node:fs';
import path from 'node:path';
import { check, otpauthSecret, totp } from './lib.mjs';
import {
  PUB, EID, LANGS, catalogue, demo, newPage, visit, submit, settle, audit, setLanguage, shoot, fitsPhone, login,
} from './kit.mjs';

const ELS = '78052216473';
const OFFICE = demo.m.lra.office;
const h1 = async (page) => (await page.textContent('h1')).trim();

// Every language: the axe audit; in English the phone width and the picture.
async function everyLanguage(page, label, shot) {
  for (const lang of LANGS) {
    await setLanguage(page, lang);
    await audit(page, `${label} (${lang})`);
  }
  // A part of a page left out must leave nothing, not the word "null".
  check(`${label}: every part of the page is text`, !/\bnull\b|\[object /.test(await page.textContent('main')));
  await fitsPhone(page, label);
  if (shot) await shoot(page, shot);
  await setLanguage(page, 'nl');
}

async function eidLogin(browser, p) {
  const page = await newPage(browser, {
    context: { clientCertificates: [{ origin: EID, certPath: demo.file(p.eid_cert), keyPath: demo.file(p.eid_key) }] },
  });
  await page.goto(`${PUB}/#/login/eid`);
  await settle(page);
  await page.click('#eid-start');
  await page.waitForURL(`${PUB}/**`);
  await page.waitForSelector('#logout');
  await settle(page);
  return page;
}

// A password session is not enough: the page says so, with the way on.
async function officerRefusals(browser, els) {
  const page = await newPage(browser);
  await login(page, els);
  await visit(page, '#/office');
  const text = (await page.textContent('#office-blocked')).trim();
  check('office: a password session is told it needs the eID, in words', text ===
    catalogue.nl['error.insufficient_level'].replace('{current}', '200').replace('{required}', '500'), text);
  check('office: with a link to the eID login', await page.getAttribute('#office-eid', 'href') === '#/login/eid');
  await everyLanguage(page, '#/office refused', null);
  await page.context().close();
}

async function conditions(page) {
  await visit(page, '#/office');
  const text = (await page.textContent('#office-blocked')).trim();
  check('office: without the office as profile, the role is missing, said in words',
    text === catalogue.nl['error.role_required'], text);
  check('office: with a link to the profile page', await page.isVisible('#office-blocked + p a[href="#/profile"]'));
  await visit(page, '#/profile');
  await page.check(`input[value="org:${OFFICE}"]`);
  await submit(page);
  await visit(page, '#/office');
  check('office: before anything, the conditions', await h1(page) === catalogue.nl['conditions.title']);
  check('office: shown in full', (await page.textContent('#conditions')).includes('tien jaar'));
  await everyLanguage(page, '#/office/conditions', 'office-conditions');
  await submit(page);
  check('office: the conditions need the box ticked', (await page.textContent('.error-summary li')).trim() === catalogue.nl['conditions.error.accept']);
  await page.check('#accept');
  await submit(page);
  check('office: accepted, the office page', await h1(page) === catalogue.nl['office.title'] && await page.isVisible('.banner'));
  await everyLanguage(page, '#/office', 'office');
}

async function search(page, olena) {
  await submit(page, '#office-search');
  await everyLanguage(page, '#/office/search', 'office-search');
  await submit(page);
  check('search: an empty search names the purpose and whom', (await page.locator('.error-summary li').count()) === 2);
  await audit(page, '#/office/search with errors (nl)');
  await page.check('#purpose-0');
  await page.fill('#last_name', 'kovalenko');
  await page.fill('#first_name', 'OLENA');
  await page.fill('#birth_date', olena.birth_date || '1991-04-12');
  await submit(page);
  check('search: Olena found by names and birth date', await page.isVisible(`#person-${olena.insz}`),
    (await page.textContent('main')).slice(0, 300));
  check('search: in the BIS register', (await page.textContent(`#person-${olena.insz}`)).includes(catalogue.nl['person.register.BIS']));
  await everyLanguage(page, '#/office/persons', 'office-persons');
}

async function identifyForm(page, doc, allChecks) {
  await page.check(`input[name="document_type"][value="${doc.type}"]`);
  await page.fill('#document_number', doc.number);
  await page.fill('#document_valid_until', doc.until);
  await page.fill('#issuing_country', doc.country);
  for (const c of ['photo_compared', 'document_genuine', 'document_not_expired', 'person_present']) {
    if (allChecks || c !== 'photo_compared') await page.check(`#${c}`);
    else await page.uncheck(`#${c}`);
  }
  await submit(page);
}

async function identify(page, olena) {
  await submit(page, `#identify-${olena.insz}`);
  await everyLanguage(page, '#/office/identify', 'office-identify');
  await submit(page);
  check('identify: an empty form names the four answers', (await page.locator('.error-summary li').count()) === 4);
  const doc = { type: 'foreign_id', number: 'UA1234567', until: '2031-01-01', country: 'ua' };
  await identifyForm(page, doc, false);
  check('identify: check your answers', await h1(page) === catalogue.nl['identcheck.title']);
  check('identify: warns that a check is missing', await page.isVisible('#identcheck-warning'));
  await everyLanguage(page, '#/office/identify/check', null);
  await submit(page);
  check('identify: a failed identification is shown as such', await h1(page) === catalogue.nl['identfailed.title']);
  check('identify: naming the check not done', (await page.textContent('main')).includes(catalogue.nl['check.photo_compared']));
  await everyLanguage(page, '#/office/identify/failed', 'office-identify-failed');
  await submit(page, `a[href="#/office/identify?insz=${olena.insz}"]`);
  await identifyForm(page, doc, true);
  check('identify: the answers are summarised', (await page.textContent('.summary')).includes('UA1234567'));
  check('identify: the country in upper case', (await page.textContent('.summary')).includes('UA'));
  await submit(page);
  check('identify: identified, on to the code', await h1(page) === catalogue.nl['issue.title'] && await page.isVisible('.banner'));
  await everyLanguage(page, '#/office/activation', 'office-activation');
}

async function issue(page, olena) {
  await page.fill('#email', 'not an address');
  await submit(page);
  check('issue: a malformed address is refused in the page', (await page.textContent('.error-summary li')).trim() === catalogue.nl['issue.error.email']);
  await page.fill('#email', olena.email);
  await page.check('input[name="language"][value="en"]');
  await submit(page);
  check('issue: the letter', await h1(page) === catalogue.nl['letter.title']);
  const code = (await page.textContent('#letter .letter-code')).trim();
  check('issue: the letter carries the code', /^[A-Z0-9]{5}(-[A-Z0-9]{5}){3}$/.test(code), code);
  const letter = await page.textContent('#letter');
  check('issue: and the person\'s name', letter.includes('Olena Kovalenko'));
  check('issue: in the language chosen for her', await page.getAttribute('#letter', 'lang') === 'en' && letter.includes('How to activate'));
  check('issue: a print button', await page.isVisible('#print-letter'));
  await page.emulateMedia({ media: 'print' });
  const printed = await page.evaluate(() => [...document.querySelectorAll('main > *')]
    .filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.id));
  const header = await page.evaluate(() => getComputedStyle(document.querySelector('.header')).display);
  check('issue: on paper only the letter', JSON.stringify(printed) === '["letter"]' && header === 'none', JSON.stringify(printed));
  await page.emulateMedia({ media: 'screen' });
  await everyLanguage(page, '#/office/letter', 'office-letter');
  return code;
}

async function actions(page) {
  await visit(page, '#/office/actions');
  const rows = await page.locator('td.action').allTextContents();
  check('actions: her own recent actions, newest first', rows.length >= 5 && rows[0].trim() !== '', rows.slice(0, 3).join(' | '));
  check('actions: the identifications named in words', rows.includes(catalogue.nl['action.lra_identification']));
  await everyLanguage(page, '#/office/actions', 'office-actions');
}

// The link the demo's mail sink received for ADDRESS.
async function activationLink(address) {
  const dir = demo.file(demo.m.mail_dir);
  for (let i = 0; i < 300; i++) { // 30 s: the outbox delivers from its own worker, slower on a busy machine
    // whole messages only: the sink writes NAME.tmp, then renames it
    for (const f of fs.readdirSync(dir).filter((x) => !x.endsWith('.tmp')).map((x) => path.join(dir, x))) {
      const text = fs.readFileSync(f, 'utf8');
      const m = text.includes(address) && text.match(/https:\/\/\S+\/#\/activate\?token=[0-9a-f]{64}/);
      if (m) return m[0];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

async function activation(browser, olena, code) {
  const url = await activationLink(olena.email);
  check('activation: the e-mail links to the portal\'s page', Boolean(url) && url.startsWith(`${PUB}/#/activate?token=`), url);
  const page = await newPage(browser, { locale: 'en-GB' });
  await page.goto(url || `${PUB}/#/activate`);
  await settle(page);
  check('activation: the token leaves the address bar', !page.url().includes('token='), page.url());
  await everyLanguage(page, '#/activate', 'activate');
  // Attacks through the page: a wrong code in each of two languages.
  for (const lang of ['fr', 'de']) {
    await setLanguage(page, lang);
    await page.fill('#activation-code', '22222-22222-22222-22222');
    await submit(page);
    const text = (await page.textContent('.error-summary li')).trim();
    check(`activation: a wrong code is refused in ${lang}`, text === catalogue[lang]['error.invalid_activation'], text);
    await audit(page, `#/activate refused (${lang})`);
  }
  await page.fill('#activation-code', 'abc');
  await submit(page);
  check('activation: a code of the wrong shape is refused in the page', (await page.textContent('.error-summary li')).trim() === catalogue.de['activate.error.code']);
  await setLanguage(page, 'en');
  await page.fill('#activation-code', code.toLowerCase());
  await submit(page);
  check('activation: the letter\'s code opens it', await h1(page) === catalogue.en['activate.cred.title']);
  await everyLanguage(page, '#/activate/credentials', 'activate-credentials');
  await setLanguage(page, 'en');
  const password = 'ferry lights over the harbour';
  await page.fill('#new-username', 'olena.k');
  await page.fill('#new-password', 'short');
  await submit(page);
  check('activation: a short password is refused in the page', (await page.textContent('.error-summary li')).trim() === catalogue.en['activate.error.short']);
  await page.fill('#new-password', password);
  await submit(page);
  await everyLanguage(page, '#/activate/key', 'activate-key');
  await setLanguage(page, 'en');
  await page.check('input[name="key"][value="totp"]');
  await submit(page);
  const qrOk = await page.evaluate(() => { const i = document.querySelector('img.qr'); return Boolean(i) && i.complete && i.naturalWidth > 0; });
  check('activation: the app\'s QR code is shown', qrOk);
  await everyLanguage(page, '#/activate/confirm', 'activate-confirm');
  await setLanguage(page, 'en');
  await page.fill('#code', '000000');
  await submit(page);
  check('activation: a wrong app code is refused', (await page.textContent('.error-summary li')).trim() === catalogue.en['error.invalid_code']);
  const secret = otpauthSecret((await page.textContent('#otpauth-uri')).trim());
  await page.fill('#code', totp(secret));
  await submit(page);
  check('activation: done', await h1(page) === catalogue.en['activate.done.title']);
  check('activation: naming her username', (await page.textContent('#activate-username')).includes('olena.k'));
  await everyLanguage(page, '#/activate/done', 'activate-done');
  await submit(page, '#activate-login');
  await page.fill('#username', 'olena.k');
  await page.fill('#password', password);
  await submit(page);
  check('activation: she logs in with her new password', (await page.textContent('.summary')).includes(olena.insz));
  await page.context().close();
}

export async function journeysOfficer(browser) {
  const els = demo.m.persons.find((p) => p.insz === ELS);
  const olena = demo.m.persons.find((p) => p.insz === demo.m.lra.waiting[0]);
  await officerRefusals(browser, els);
  const page = await eidLogin(browser, els);
  await conditions(page);
  await search(page, olena);
  await identify(page, olena);
  const code = await issue(page, olena);
  await actions(page);
  await page.context().close();
  await activation(browser, olena, code);
}
