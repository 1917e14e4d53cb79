// The organisation's journeys in the portal (issue 16 item 4): the
// bakery's access manager (Sara, also its HR user with mandate_consult)
// chooses the bakery as profile, steps up, gives a role, renews and
// withdraws it, registers the circle of trust, and consults a candidate
// under a mandate, seeing only the answer. Attacks through the pages: an
// end date past the maximum, a bad INSZ, the pages under another profile.
import { check, totp } from './lib.mjs';
import {
  PUB, LANGS, catalogue, demo, newPage, visit, submit, audit, setLanguage, shoot, fitsPhone, login, SHOTS,
} from './kit.mjs';

const BAKERY = '0412345614';
const sara = demo.m.persons.find((p) => p.insz === '83061814038');
const marie = demo.person('marie.dubois');
for (const s of ['org', 'org-roles', 'org-roles-check', 'org-circle', 'org-mandates', 'org-consult']) SHOTS.add(s);

const text = async (page, sel) => (await page.textContent(sel)).trim();
const inMonths = (n) => {
  const d = new Date();
  d.setMonth(d.getMonth() + n);
  return d.toISOString().slice(0, 10);
};

// Every state of a page worth auditing, in the four languages, back in
// Dutch at the end; in English also at 360 px and, for the main ones, a
// screenshot.
async function auditAll(page, label, shot) {
  for (const lang of LANGS) {
    await setLanguage(page, lang);
    await audit(page, `${label} (${lang})`);
    if (lang === 'en') {
      await fitsPhone(page, label);
      if (shot) await shoot(page, shot);
    }
  }
  await setLanguage(page, 'nl');
}

// A citizen gives the bakery a mandate through the API (a session of
// their own, stepped up with their authenticator app).
async function mandateFor(p, dataSet) {
  const token = await demo.bearer(p);
  const headers = { Authorization: `Bearer ${token}` };
  await demo.request('POST', `${PUB}/api/v1/auth/step-up`, { headers, body: { method: 'totp', code: totp(p.totp_secret) } });
  const cond = JSON.parse((await demo.request('GET', `${PUB}/api/v1/mandate-types/precontractual/conditions`)).body);
  const r = await demo.request('POST', `${PUB}/api/v1/me/mandates`, {
    headers, body: { type: 'precontractual', data_set: dataSet, holder: BAKERY, conditions_version: cond.version },
  });
  check(`${p.username} gives the bakery a mandate for ${dataSet}`, r.status === 201, r.body);
}

// Under her own profile, then below level 400: refused in words, with the
// way forward; the organisation as profile, then the second step.
async function journeyOrgAccess(page) {
  await login(page, sara);
  await visit(page, '#/org/roles');
  check('attack: the organisation\'s pages under her own profile are refused', await text(page, '#org-blocked') === catalogue.nl['org.blocked.profile']);
  check('with the way forward: choose the organisation', await page.isVisible('#org-profile'));
  await auditAll(page, '#/org refused: profile');
  await submit(page, '#org-profile');
  await page.check(`input[name="as"][value="org:${BAKERY}"]`);
  await submit(page);
  check('she acts for the bakery', (await text(page, '.summary')).includes(BAKERY));
  await submit(page, 'a[href="#/org"]');
  check('below level 400 the organisation asks for a second step', await page.isVisible('#org-step-up'));
  await auditAll(page, '#/org refused: level');
  await submit(page, '#org-step-up');
  await page.check('input[value="totp"]');
  await submit(page);
  await page.fill('#code', totp(sara.totp_secret));
  await submit(page);
  check('the step-up raises her session to 400', (await text(page, '.banner')).includes('400'));
  check('and comes back to the organisation\'s page it was asked from', (await page.evaluate(() => location.hash)) === '#/org');
  check('the organisation page names the bakery', (await text(page, '.lead')).includes('Bakkerij De Kroon BV'));
  check('and nothing the page did not mean to say', !/\bnull\b|undefined/.test(await text(page, 'main')));
  check('and links to roles, circle of trust and mandates', await page.isVisible('a[href="#/org/roles"]') &&
    await page.isVisible('a[href="#/org/circle"]') && await page.isVisible('a[href="#/org/mandates"]'));
  await auditAll(page, '#/org', 'org');
}

async function journeyRoles(page) {
  await submit(page, 'a[href="#/org/roles"]');
  check('the roles list shows her own role', (await text(page, 'tbody')).includes(sara.insz));
  await auditAll(page, '#/org/roles', 'org-roles');
  await submit(page, '#grant-role');
  const max = await page.getAttribute('#valid_until', 'max');
  const months = (Date.parse(max) - Date.now()) / (30.44 * 86400000);
  check('the date picker stops at a year from today', months > 11.5 && months < 12.1, max);
  await auditAll(page, '#/org/roles/new');
  await submit(page);
  check('an empty form names each missing answer', (await page.locator('.error-summary li').count()) === 3);
  // The attacks, in French: a wrong check digit, a year and a month.
  await setLanguage(page, 'fr');
  await page.fill('#insz', '85.07.30-033.29');
  await page.check('input[name="role"][value="lra_officer"]');
  await page.fill('#valid_until', inMonths(13));
  await submit(page);
  const errs = await page.locator('.error-summary li').allTextContents();
  check('attack: a bad INSZ is refused in French', errs[0]?.trim() === catalogue.fr['error.invalid_insz'], errs.join(' | '));
  check('attack: a date beyond the maximum is refused in French', errs[1]?.includes(catalogue.fr['error.role_validity_too_long'].split('{')[0]), errs.join(' | '));
  check('each on its field', await page.getAttribute('#insz', 'aria-invalid') === 'true' &&
    await page.getAttribute('#valid_until', 'aria-invalid') === 'true');
  await audit(page, '#/org/roles/new refused (fr)');
  await setLanguage(page, 'nl');
  const until = inMonths(6);
  await page.fill('#insz', '85.07.30-033.28');
  await page.check('input[name="role"][value="lra_officer"]');
  await page.fill('#valid_until', until);
  await submit(page);
  const answers = await text(page, '#role-answers');
  check('check your answers: the person, the role, the organisation', answers.includes('85073003328') &&
    answers.includes(catalogue.nl['org.role.lra_officer']) && answers.includes('Bakkerij De Kroon BV'), answers);
  await auditAll(page, '#/org/roles/check', 'org-roles-check');
  await submit(page);
  check('the grant lands on the list with a banner', (await text(page, '.banner')).includes('85073003328'));
  const row = page.locator('tbody tr', { hasText: '85073003328' }).first();
  const id = (await row.getAttribute('id')).slice('role-'.length);
  check('the new role is active', (await text(page, `#role-${id} td.status`)) === catalogue.nl['orgroles.status.active']);
  const { status, body } = await page.evaluate(async (kbo) => {
    const r = await fetch(`/api/v1/orgs/${kbo}/roles`);
    return { status: r.status, body: await r.json() };
  }, BAKERY);
  check('the server recorded it until the date chosen', status === 200 &&
    body.some((r) => String(r.id) === id && r.valid_until === until && r.granted_by === sara.insz));

  await submit(page, `#renew-${id}`);
  await auditAll(page, '#/org/roles/renew');
  await page.fill('#valid_until', inMonths(13));
  await submit(page);
  check('attack: a renewal past the maximum is refused', (await text(page, '.error-summary li')).startsWith(catalogue.nl['error.role_validity_too_long'].split('{')[0]));
  const later = inMonths(9);
  await page.fill('#valid_until', later);
  await submit(page);
  check('the renewal lands on the list with a banner', (await text(page, '.banner')).includes('85073003328'));

  await submit(page, `#revoke-${id}`);
  await auditAll(page, '#/org/roles/revoke');
  await submit(page);
  check('the withdrawal lands on the list with a banner', (await text(page, '.banner')).includes('85073003328'));
  check('the role is withdrawn', (await text(page, `#role-${id} td.status`)) === catalogue.nl['orgroles.status.revoked']);
  check('a withdrawn role has no actions', !(await page.isVisible(`#revoke-${id}`)) && !(await page.isVisible(`#renew-${id}`)));
}

async function journeyCircle(page) {
  await visit(page, '#/org/circle');
  check('the bakery is not in the circle of trust yet', await page.isVisible('#circle-none'));
  check('the criteria are listed', (await page.locator('#criteria li').count()) === 4);
  await submit(page);
  check('the reference and the acceptance are asked for', (await page.locator('.error-summary li').count()) === 2);
  await page.fill('#register_ref', 'VWR-2026-014');
  await page.check('#accept');
  await submit(page);
  check('the registration shows in a banner', (await text(page, '.banner')).includes('VWR-2026-014'));
  check('and reads back from the server', (await text(page, '.summary')).includes('VWR-2026-014') &&
    (await text(page, '.summary')).includes(sara.insz));
  await auditAll(page, '#/org/circle', 'org-circle');
}

async function journeyHeld(page) {
  await mandateFor(marie, 'student_contingent');
  await visit(page, '#/org/mandates');
  const row = page.locator('tbody tr', { hasText: marie.insz }).first();
  check('HR sees Marie\'s mandate among the active ones', await row.isVisible());
  check('for her student contingent', (await row.textContent()).includes(catalogue.nl['mandates.set.student_contingent']));
  await auditAll(page, '#/org/mandates', 'org-mandates');
  const id = (await row.getAttribute('id')).slice('held-'.length);
  await submit(page, `#consult-${id}`);
  await auditAll(page, '#/org/consult');
  await submit(page);
  const answer = await text(page, '#consult-answer .lead');
  const want = new RegExp(`^${catalogue.nl['orgconsult.hours'].replace('{insz}', marie.insz).replace('{n}', '\\d+')
    .replace('{year}', String(new Date().getFullYear())).replace(/\./g, '\\.')}$`);
  check('the consultation answers in words: the hours left as a student', want.test(answer), answer);
  const main = await text(page, 'main');
  check('and nothing else about her', !main.includes('Dubois') && !/\bnull\b|undefined/.test(main), main);
  check('with the consultation\'s reference', (await text(page, '#consult-answer')).match(/[0-9a-f-]{36}/));
  // A new language draws the page anew, without the answer: each
  // language consults once more (each consultation is recorded).
  for (const lang of LANGS) {
    await setLanguage(page, lang);
    await submit(page);
    await audit(page, `#/org/consult answered (${lang})`);
    if (lang === 'en') {
      await fitsPhone(page, '#/org/consult answered');
      await shoot(page, 'org-consult');
    }
  }
  await setLanguage(page, 'nl');
}

export async function journeysOrg(browser) {
  const page = await newPage(browser);
  await journeyOrgAccess(page);
  await journeyRoles(page);
  await journeyCircle(page);
  await journeyHeld(page);
  await page.context().close();
}
