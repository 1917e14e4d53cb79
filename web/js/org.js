// The organisation's pages (issue 16 item 4), for a person who acts for
// an organisation (profile org:<kbo>): its access manager gives, renews
// and takes back roles and registers the circle of trust; its HR user
// (mandate_consult) sees the mandates citizens gave it and consults one
// candidate's data under a mandate. Every call needs level 400 and the
// role at the path's organisation (docs/API.md, "Organisations").
import {
  state, t, h, page, field, radios, checkbox, form, button, link, Problem, api, problemText,
  go, params, addRoutes, needSession, summaryList, dateText, isoDate,
} from './ui.js';

const LEVEL = 400;
// The roles the API gives (src/org roles[]), in the order offered.
const ROLES = ['lra_officer', 'mandate_consult', 'auditor', 'access_manager', 'employment_declarant'];
// src/org ORG_ROLE_MAX_MONTHS: a role runs at most a year; the server
// refuses a later end (validity_too_long), the date picker stops there.
const ROLE_MAX_MONTHS = 12;

const roleName = (r) => t(`org.role.${r}`);
const kboText = (k) => `${k.slice(0, 4)}.${k.slice(4, 7)}.${k.slice(7)}`;

// Today plus n calendar months, the day clamped to the month's last, as
// the server counts (date_add_months).
function plusMonths(n, from = new Date()) {
  const last = new Date(from.getFullYear(), from.getMonth() + n + 1, 0).getDate();
  return isoDate(new Date(from.getFullYear(), from.getMonth() + n, Math.min(from.getDate(), last)));
}
const roleMax = () => plusMonths(ROLE_MAX_MONTHS);

// An INSZ: 11 digits whose last two are 97 minus the first nine modulo 97
// (a '2' in front of them for a birth from 2000 on).
export function inszValid(s) {
  if (!/^\d{11}$/.test(s)) return false;
  const check = Number(s.slice(9));
  return [s.slice(0, 9), `2${s.slice(0, 9)}`].some((n) => 97 - Number(BigInt(n) % 97n) === check);
}

// The organisation the session acts for, with the person's roles there
// (GET /api/v1/auth/profiles), or null when the profile is another.
async function actingFor() {
  const p = String(state.session.profile || '');
  if (!p.startsWith('org:')) return null;
  const kbo = p.slice(4);
  const list = await api('GET', '/api/v1/auth/profiles');
  const o = list.find((x) => x.kind === 'organisation' && x.kbo === kbo);
  return { kbo, name: o?.name || kboText(kbo), roles: o?.roles || [] };
}

// The page to show instead when the session cannot do this here, in
// words with the way forward: another profile, a second step, the role.
function orgBlocked(titleKey, e) {
  let text;
  let fix;
  if (e.message === 'org_profile_required') {
    text = t('org.blocked.profile');
    fix = h('a', { class: 'button', href: '#/profile', id: 'org-profile' }, t('org.blocked.choose'));
  } else if (e.message === 'insufficient_level') {
    text = problemText(e);
    state.next = location.hash; // the second step comes back to this page
    fix = h('a', { class: 'button', href: '#/step-up', id: 'org-step-up' }, t('org.blocked.step_up'));
  } else {
    text = e.message === 'role_required' ? t('org.blocked.role', { role: roleName(e.body.role) }) : problemText(e);
    fix = link('#/account', 'org.blocked.account');
  }
  page(titleKey, [h('p', { id: 'org-blocked' }, text), h('p', {}, fix),
    e.message === 'role_required' ? h('p', {}, t('org.blocked.ask')) : null].filter(Boolean));
}

// The organisation when the session may use the page: acting for it, at
// level 400, holding role (when given); else the refusal page and null.
async function allowed(titleKey, role) {
  const o = await actingFor();
  const s = state.session;
  let e = null;
  if (!o) e = new Problem(403, { code: 'org_profile_required' });
  else if (s.level < LEVEL) e = new Problem(403, { code: 'insufficient_level', required: LEVEL, current: s.level });
  else if (role && !o.roles.includes(role)) e = new Problem(403, { code: 'role_required', role });
  if (e) { orgBlocked(titleKey, e); return null; }
  return o;
}

// An API call whose 403 becomes the refusal page: returns undefined then.
async function orgApi(titleKey, method, path, body) {
  try {
    return await api(method, path, body);
  } catch (e) {
    if (e instanceof Problem && e.status === 403 && ['role_required', 'insufficient_level'].includes(e.message)) {
      orgBlocked(titleKey, e);
      return undefined;
    }
    throw e;
  }
}

const base = (o) => `/api/v1/orgs/${encodeURIComponent(o.kbo)}`;

// --- the organisation's start page ---------------------------------------------

async function pageOrg() {
  const o = await allowed('org.title');
  if (!o) return;
  const has = (r) => o.roles.includes(r);
  page('org.title', [
    h('p', { class: 'lead' }, t('org.intro', { name: o.name, kbo: kboText(o.kbo) })),
    summaryList([[t('org.your_roles'), o.roles.map(roleName).join(', ')]]),
    h('ul', {},
      has('access_manager') ? h('li', {}, link('#/org/roles', 'org.link.roles')) : null,
      has('access_manager') ? h('li', {}, link('#/org/circle', 'org.link.circle')) : null,
      has('mandate_consult') ? h('li', {}, link('#/org/mandates', 'org.link.mandates')) : null,
      has('lra_officer') ? h('li', {}, link('#/office', 'org.link.office')) : null),
    o.roles.some((r) => ['access_manager', 'mandate_consult'].includes(r)) ? null : h('p', {}, t('org.nothing')),
  ].filter(Boolean));
}

// --- roles ----------------------------------------------------------------------

async function pageRoles() {
  const o = await allowed('orgroles.title', 'access_manager');
  if (!o) return;
  const list = await orgApi('orgroles.title', 'GET', `${base(o)}/roles`);
  if (!list) return;
  const today = isoDate(new Date());
  const status = (r) => (r.status === 'revoked' ? 'revoked' : r.valid_until < today ? 'expired' : r.valid_from > today ? 'future' : 'active');
  page('orgroles.title', [
    h('p', {}, t('orgroles.intro', { name: o.name })),
    list.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, t('orgroles.title')),
      h('thead', {}, h('tr', {}, ['orgroles.person', 'orgroles.role', 'orgroles.from', 'orgroles.until', 'orgroles.status', 'orgroles.action']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, list.map((r) => h('tr', { id: `role-${r.id}` },
        h('td', {}, r.insz), h('td', {}, roleName(r.role)),
        h('td', {}, dateText(r.valid_from)), h('td', {}, dateText(r.valid_until)),
        h('td', { class: 'status' }, h('span', { class: `tag ${status(r) === 'active' ? 'tag-ok' : 'tag-no'}` }, t(`orgroles.status.${status(r)}`))),
        h('td', {}, r.status === 'active' ? h('ul', { class: 'row-actions' },
          h('li', {}, h('a', { href: `#/org/roles/renew?id=${r.id}`, id: `renew-${r.id}` }, t('orgroles.renew'),
            h('span', { class: 'visually-hidden' }, ` – ${roleName(r.role)}, ${r.insz}`))),
          h('li', {}, h('a', { href: `#/org/roles/revoke?id=${r.id}`, id: `revoke-${r.id}` }, t('orgroles.revoke'),
            h('span', { class: 'visually-hidden' }, ` – ${roleName(r.role)}, ${r.insz}`)))) : '')))))) : h('p', {}, t('orgroles.none')),
    h('p', {}, h('a', { class: 'button', href: '#/org/roles/new', id: 'grant-role' }, t('orgroles.add'))),
    h('p', {}, link('#/org', 'org.back')),
  ]);
}

// The end date's checks, the same for a grant and a renewal.
function untilErrors(until) {
  if (!until) return [{ field: 'valid_until', text: t('orgrolenew.error.until') }];
  if (until < isoDate(new Date())) return [{ field: 'valid_until', text: t('orgrolenew.error.past') }];
  if (until > roleMax()) return [{ field: 'valid_until', text: t('error.role_validity_too_long', { date: dateText(roleMax()) }) }];
  return [];
}

function untilField(errors, value) {
  return field('valid_until', 'orgrolenew.until', {
    errors, type: 'date', value, min: isoDate(new Date()), max: roleMax(), hint: 'orgrolenew.until_hint',
  });
}

const ROLE_FIELDS = { invalid_insz: 'insz', unknown_person: 'insz', invalid_role: 'role-0', validity_too_long: 'valid_until',
  invalid_period: 'valid_until', beyond_own_role: 'valid_until' };
// The server's refusal of an end date names the maximum in words.
const roleProblem = (e) => (e.message === 'validity_too_long' ? t('error.role_validity_too_long', { date: dateText(roleMax()) }) : problemText(e));

// The answers of the grant's first page, this person's only: on a shared
// computer the next person to log in does not find them.
const pendingRole = () => (state.pendingRole?.owner === state.session.insz ? state.pendingRole : null);

async function pageRoleNew(errors, values = pendingRole() || {}) {
  const o = await allowed('orgrolenew.title', 'access_manager');
  if (!o) return;
  page('orgrolenew.title', [
    h('p', {}, t('orgrolenew.intro', { name: o.name })),
    form((fd) => {
      const v = {
        insz: String(fd.get('insz') || '').replace(/[\s.-]/g, ''),
        role: String(fd.get('role') || ''),
        valid_until: String(fd.get('valid_until') || ''),
      };
      const errs = [];
      if (!v.insz) errs.push({ field: 'insz', text: t('orgrolenew.error.insz') });
      else if (!inszValid(v.insz)) errs.push({ field: 'insz', text: t('error.invalid_insz') });
      if (!v.role) errs.push({ field: 'role-0', text: t('orgrolenew.error.role') });
      errs.push(...untilErrors(v.valid_until));
      if (errs.length) return pageRoleNew(errs, v);
      state.pendingRole = { ...v, owner: state.session.insz };
      go('#/org/roles/check');
    },
    field('insz', 'orgrolenew.insz', { errors, value: values.insz, hint: 'orgrolenew.insz_hint', inputmode: 'numeric', autocomplete: 'off' }),
    radios('role', 'orgrolenew.role', ROLES.map((r) => ({
      value: r, checked: values.role === r, label: `${roleName(r)} – ${t(`org.role_hint.${r}`)}`,
    })), { errors }),
    untilField(errors, values.valid_until),
    button('continue')),
    h('p', {}, link('#/org/roles', 'cancel')),
  ], { errors });
}

// Check your answers, then the grant.
async function pageRoleCheck(errors) {
  const o = await allowed('orgrolecheck.title', 'access_manager');
  if (!o) return;
  const v = pendingRole();
  if (!v) return go('#/org/roles/new');
  const change = (key) => h('a', { href: '#/org/roles/new' }, t('orgrolecheck.change'), h('span', { class: 'visually-hidden' }, ` – ${t(key)}`));
  page('orgrolecheck.title', [
    h('dl', { class: 'summary', id: 'role-answers' }, [
      ['orgrolecheck.org', `${o.name} (${kboText(o.kbo)})`, null],
      ['orgrolenew.insz', v.insz, 'orgrolenew.insz'],
      ['orgrolenew.role', roleName(v.role), 'orgrolenew.role'],
      ['orgrolecheck.period', t('orgrolecheck.period_text', { from: dateText(isoDate(new Date())), until: dateText(v.valid_until) }), 'orgrolenew.until'],
    ].map(([k, val, c]) => h('div', {}, h('dt', {}, t(k)), h('dd', {}, val), c ? h('dd', { class: 'summary-action' }, change(c)) : null))),
    h('p', {}, t('orgrolecheck.audit')),
    form(async () => {
      try {
        const r = await api('POST', `${base(o)}/roles`, { insz: v.insz, role: v.role, valid_until: v.valid_until });
        state.pendingRole = null;
        state.flash = t('orgrolecheck.done', { role: roleName(r.role), insz: r.insz, until: dateText(r.valid_until) });
        go('#/org/roles');
      } catch (e) {
        if (e instanceof Problem && e.status === 403 && e.message !== 'beyond_own_role') return orgBlocked('orgrolecheck.title', e);
        pageRoleNew([{ field: ROLE_FIELDS[e.message] || null, text: roleProblem(e) }], v);
      }
    },
    button('orgrolecheck.submit')),
    h('p', {}, link('#/org/roles', 'cancel')),
  ], { errors });
}

// One assignment of the list, or null (then back to the list).
async function assignment(o, titleKey) {
  const list = await orgApi(titleKey, 'GET', `${base(o)}/roles`);
  if (!list) return undefined;
  const r = list.find((x) => String(x.id) === params().get('id'));
  if (!r) go('#/org/roles');
  return r;
}

function assignmentSummary(r) {
  return summaryList([
    [t('orgroles.person'), r.insz],
    [t('orgroles.role'), roleName(r.role)],
    [t('orgroles.until'), dateText(r.valid_until)],
  ]);
}

async function pageRoleRenew(errors, value) {
  const o = await allowed('orgrolerenew.title', 'access_manager');
  if (!o) return;
  const r = await assignment(o, 'orgrolerenew.title');
  if (!r) return;
  page('orgrolerenew.title', [
    assignmentSummary(r),
    form(async (fd) => {
      const until = String(fd.get('valid_until') || '');
      const errs = untilErrors(until);
      if (errs.length) return pageRoleRenew(errs, until);
      try {
        const x = await api('POST', `${base(o)}/roles/${r.id}/renew`, { valid_until: until });
        state.flash = t('orgrolerenew.done', { role: roleName(x.role), insz: x.insz, until: dateText(x.valid_until) });
        go('#/org/roles');
      } catch (e) {
        if (e instanceof Problem && e.status === 403 && e.message !== 'beyond_own_role') return orgBlocked('orgrolerenew.title', e);
        pageRoleRenew([{ field: 'valid_until', text: roleProblem(e) }], until);
      }
    },
    untilField(errors, value),
    button('orgrolerenew.submit')),
    h('p', {}, link('#/org/roles', 'cancel')),
  ], { errors });
}

async function pageRoleRevoke(errors) {
  const o = await allowed('orgrolerevoke.title', 'access_manager');
  if (!o) return;
  const r = await assignment(o, 'orgrolerevoke.title');
  if (!r) return;
  page('orgrolerevoke.title', [
    assignmentSummary(r),
    h('p', {}, t('orgrolerevoke.warning')),
    form(async () => {
      try {
        await api('POST', `${base(o)}/roles/${r.id}/revoke`);
        state.flash = t('orgrolerevoke.done', { role: roleName(r.role), insz: r.insz });
        go('#/org/roles');
      } catch (e) {
        pageRoleRevoke([{ text: problemText(e) }]);
      }
    },
    button('orgrolerevoke.submit', 'button-warning'),
    h('a', { href: '#/org/roles', class: 'button button-secondary' }, t('cancel'))),
  ], { errors });
}

// --- the circle of trust --------------------------------------------------------

const CRITERIA = ['level', 'logging', 'control', 'register'];

async function pageCircle(errors, values = {}) {
  const o = await allowed('orgcircle.title', 'access_manager');
  if (!o) return;
  const c = await orgApi('orgcircle.title', 'GET', `${base(o)}/circle-of-trust`);
  if (!c) return;
  page('orgcircle.title', [
    h('p', {}, t('orgcircle.intro', { name: o.name })),
    h('h2', {}, t('orgcircle.now')),
    c.accepted ? summaryList([
      [t('orgcircle.status'), t('orgcircle.accepted')],
      [t('orgcircle.ref'), c.processing_register_ref],
      [t('orgcircle.by'), c.accepted_by],
      [t('orgcircle.at'), new Date(c.accepted_at).toLocaleString(state.lang)],
    ]) : h('p', { id: 'circle-none' }, t('orgcircle.none')),
    h('h2', {}, t(c.accepted ? 'orgcircle.again' : 'orgcircle.register')),
    h('p', {}, t('orgcircle.criteria')),
    h('ul', { id: 'criteria' }, CRITERIA.map((k) => h('li', {}, t(`orgcircle.criterion.${k}`)))),
    form(async (fd) => {
      const ref = String(fd.get('register_ref') || '').trim();
      const accept = fd.get('accept') === 'yes';
      const errs = [];
      if (!ref) errs.push({ field: 'register_ref', text: t('orgcircle.error.ref') });
      else if (ref.length > 128) errs.push({ field: 'register_ref', text: t('orgcircle.error.ref_long') });
      if (!accept) errs.push({ field: 'accept', text: t('orgcircle.error.accept') });
      if (errs.length) return pageCircle(errs, { ref });
      try {
        await api('POST', `${base(o)}/circle-of-trust`, { accept: true, processing_register_ref: ref });
        state.flash = t('orgcircle.done', { name: o.name, ref });
        await pageCircle();
      } catch (e) {
        pageCircle([{ field: 'register_ref', text: problemText(e) }], { ref });
      }
    },
    field('register_ref', 'orgcircle.ref', { errors, value: values.ref ?? (c.processing_register_ref || ''), hint: 'orgcircle.ref_hint', autocomplete: 'off' }),
    checkbox('accept', 'orgcircle.accept', { errors }),
    button('orgcircle.submit')),
    h('p', {}, link('#/org', 'org.back')),
  ], { errors });
}

// --- mandates held, and a consultation under one ------------------------------

const setName = (code) => t(`mandates.set.${code}`);

async function pageHeld() {
  const o = await allowed('orgmandates.title', 'mandate_consult');
  if (!o) return;
  const list = await orgApi('orgmandates.title', 'GET', `${base(o)}/mandates`);
  if (!list) return;
  page('orgmandates.title', [
    h('p', {}, t('orgmandates.intro', { name: o.name })),
    list.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, t('orgmandates.title')),
      h('thead', {}, h('tr', {}, ['orgmandates.person', 'orgmandates.data_set', 'orgmandates.from', 'orgmandates.until', 'orgmandates.action']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, list.map((m) => h('tr', { id: `held-${m.id}` },
        h('td', {}, m.mandator), h('td', {}, setName(m.data_set)),
        h('td', {}, dateText(m.valid_from)), h('td', {}, dateText(m.valid_until)),
        h('td', {}, h('a', { href: `#/org/consult?id=${m.id}`, id: `consult-${m.id}` }, t('orgmandates.consult'),
          h('span', { class: 'visually-hidden' }, ` – ${m.mandator}, ${setName(m.data_set)}`)))))))) : h('p', { id: 'held-none' }, t('orgmandates.none')),
    h('p', {}, t('orgmandates.audit')),
    h('p', {}, link('#/org', 'org.back')),
  ]);
}

// The answer in plain words: only what the data set says.
function answerText(m, data) {
  if (m.data_set === 'student_contingent')
    return t(data.hours_left === 1 ? 'orgconsult.hours_one' : 'orgconsult.hours', { insz: m.mandator, n: data.hours_left, year: data.year });
  if (m.data_set === 'flexi_eligibility')
    return t(data.flexi_eligible ? 'orgconsult.flexi_yes' : 'orgconsult.flexi_no', { insz: m.mandator });
  return t('orgconsult.other');
}

async function pageConsult(errors, answer) {
  const o = await allowed('orgconsult.title', 'mandate_consult');
  if (!o) return;
  const list = await orgApi('orgconsult.title', 'GET', `${base(o)}/mandates`);
  if (!list) return;
  const m = list.find((x) => String(x.id) === params().get('id'));
  if (!m) return go('#/org/mandates');
  page('orgconsult.title', [
    summaryList([
      [t('orgmandates.person'), m.mandator],
      [t('orgmandates.data_set'), setName(m.data_set)],
      [t('orgmandates.until'), dateText(m.valid_until)],
    ]),
    answer ? h('div', { class: 'answer', id: 'consult-answer', role: 'status', tabindex: '-1' },
      h('h2', {}, t('orgconsult.answer')),
      h('p', { class: 'lead' }, answerText(m, answer.data)),
      h('p', {}, t('orgconsult.ticket', { ticket: answer.ticket }))) : h('p', {}, t('orgconsult.intro')),
    answer ? null : form(async () => {
      try {
        const r = await api('POST', '/api/v1/mandates/consult', { mandator: m.mandator, data_set: m.data_set });
        await pageConsult(undefined, r);
        document.getElementById('consult-answer')?.focus();
      } catch (e) {
        if (e instanceof Problem && e.status === 403 && ['role_required', 'insufficient_level'].includes(e.message)) return orgBlocked('orgconsult.title', e);
        pageConsult([{ text: problemText(e) + (e.body?.ticket ? ` ${t('orgconsult.ticket', { ticket: e.body.ticket })}` : '') }]);
      }
    }, button('orgconsult.submit')),
    h('p', {}, link('#/org/mandates', 'orgconsult.back')),
  ].filter(Boolean), { errors });
}

addRoutes({
  '/org': needSession(pageOrg),
  '/org/roles': needSession(pageRoles),
  '/org/roles/new': needSession(pageRoleNew),
  '/org/roles/check': needSession(pageRoleCheck),
  '/org/roles/renew': needSession(pageRoleRenew),
  '/org/roles/revoke': needSession(pageRoleRevoke),
  '/org/circle': needSession(pageCircle),
  '/org/mandates': needSession(pageHeld),
  '/org/consult': needSession(pageConsult),
});
