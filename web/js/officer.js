// The registration officer's pages (issue 16 item 3), under #/office: the
// usage conditions, finding the person at the desk, the identification
// with its checks and a "check your answers" page, the activation code
// with the letter to print, and the officer's own recent actions. The
// officer logs in with the eID and acts for the office (#/profile); the
// API checks both, and its refusal is shown with the way forward.
import {
  state, t, h, page, field, radios, checkbox, form, button, link, Problem, api, problemText,
  go, params, addRoutes, needSession, summaryList, dateText,
} from './ui.js';

// What the pages of one person's visit share, in memory only.
const off = { purpose: '', persons: [], person: null, ident: null, outcome: null, issued: null };

// The way forward from a refusal: the eID login, the office as profile,
// or the conditions.
function blocked(titleKey, e) {
  const fix = e.message === 'insufficient_level'
    ? h('a', { class: 'button', href: '#/login/eid', id: 'office-eid' }, t('office.blocked.eid'))
    : e.message === 'conditions_not_accepted'
      ? h('a', { class: 'button', href: '#/office/conditions', id: 'office-conditions' }, t('office.blocked.conditions'))
      : link('#/profile', 'office.blocked.profile');
  page(titleKey, [h('p', {}, t('office.intro')), h('p', { id: 'office-blocked' }, problemText(e)), h('p', {}, fix)]);
}

// Runs fn; a 403 of the API becomes the page saying why, and null.
async function guarded(titleKey, fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Problem && e.status === 403) {
      blocked(titleKey, e);
      return null;
    }
    throw e;
  }
}

// The level needs no call to know: an eID login is the only way in.
function levelOk(titleKey) {
  const s = state.session;
  if (s.level >= 500) return true;
  blocked(titleKey, new Problem(403, { code: 'insufficient_level', required: 500, current: s.level }));
  return false;
}

const paragraphs = (text) => String(text).split(/\n\s*\n/).filter((x) => x.trim()).map((x) => h('p', {}, x.trim()));

async function pageOffice() {
  if (!levelOk('office.title')) return;
  const c = await guarded('office.title', () => api('GET', '/api/v1/lra/conditions'));
  if (!c) return;
  if (!c.accepted_at) return go('#/office/conditions');
  page('office.title', [
    h('p', {}, t('office.intro')),
    summaryList([
      [t('office.acting_for'), String(state.session.profile || '').replace(/^org:/, '')],
      [t('office.accepted'), new Date(c.accepted_at).toLocaleString(state.lang)],
    ]),
    h('p', {}, h('a', { class: 'button', href: '#/office/search', id: 'office-search' }, t('office.search'))),
    h('p', {}, link('#/office/actions', 'office.actions')),
  ]);
}

async function pageConditions(errors) {
  if (!levelOk('conditions.title')) return;
  const c = await guarded('conditions.title', () => api('GET', '/api/v1/lra/conditions'));
  if (!c) return;
  const text = h('div', { class: 'conditions', id: 'conditions', 'data-version': c.version }, paragraphs(c.text));
  if (c.accepted_at) {
    return page('conditions.title', [text,
      h('p', { id: 'conditions-accepted' }, t('conditions.accepted_on', { date: new Date(c.accepted_at).toLocaleString(state.lang) })),
      h('p', {}, h('a', { class: 'button', href: '#/office' }, t('continue')))]);
  }
  page('conditions.title', [
    h('p', {}, t('conditions.intro')),
    text,
    form(async (fd) => {
      if (fd.get('accept') !== 'yes') return pageConditions([{ field: 'accept', text: t('conditions.error.accept') }]);
      try {
        await api('POST', '/api/v1/lra/conditions', { accept: true, version: c.version });
        state.flash = t('conditions.done');
        go('#/office');
      } catch (e) {
        if (e instanceof Problem && e.status === 403) return blocked('conditions.title', e);
        // A changed text must be read again: the page shows the new one.
        pageConditions([{ field: 'accept', text: problemText(e) }]);
      }
    },
    checkbox('accept', 'conditions.accept', { errors }),
    button('conditions.submit')),
  ], { errors });
}

// What the office's record says the search was for, in one language
// whatever the officer's: the purposes are the office's own.
const PURPOSES = { activation: 'activation code', recovery: 'activation code after a lost key' };
const SEARCH_FIELDS = { invalid_insz: 'insz', too_many_matches: 'last_name' };

function pageSearch(errors, v = {}) {
  if (!levelOk('search.title')) return;
  page('search.title', [
    form(async (fd) => {
      const q = {
        purpose: String(fd.get('purpose') || ''),
        insz: String(fd.get('insz') || '').replace(/[\s.-]/g, ''),
        last_name: String(fd.get('last_name') || '').trim(),
        first_name: String(fd.get('first_name') || '').trim(),
        birth_date: String(fd.get('birth_date') || ''),
      };
      const errs = [];
      if (!q.purpose) errs.push({ field: 'purpose-0', text: t('search.error.purpose') });
      if (q.insz && !/^\d{11}$/.test(q.insz)) errs.push({ field: 'insz', text: t('error.invalid_insz') });
      if (!q.insz && !(q.last_name && q.first_name && q.birth_date)) errs.push({ field: 'insz', text: t('search.error.who') });
      if (errs.length) return pageSearch(errs, q);
      const purpose = PURPOSES[q.purpose];
      const query = new URLSearchParams({ purpose, ...(q.insz ? { insz: q.insz }
        : { last_name: q.last_name, first_name: q.first_name, birth_date: q.birth_date }) });
      try {
        off.persons = await api('GET', `/api/v1/lra/persons?${query}`);
        off.purpose = purpose;
        go('#/office/persons');
      } catch (e) {
        if (e instanceof Problem && e.status === 403) return blocked('search.title', e);
        pageSearch([{ field: SEARCH_FIELDS[e.message] || 'insz', text: problemText(e) }], q);
      }
    },
    radios('purpose', 'search.purpose', Object.keys(PURPOSES).map((p) => ({ value: p, label: t(`search.purpose.${p}`), checked: v.purpose === p })), { errors }),
    h('h2', {}, t('search.by_insz')),
    field('insz', 'search.insz', { errors, value: v.insz, hint: 'search.insz_hint', inputmode: 'numeric', autocomplete: 'off' }),
    h('h2', {}, t('search.by_name')),
    field('last_name', 'search.last_name', { errors, value: v.last_name, autocomplete: 'off' }),
    field('first_name', 'search.first_name', { errors, value: v.first_name, autocomplete: 'off' }),
    field('birth_date', 'search.birth_date', { errors, type: 'date', value: v.birth_date }),
    button('search.submit')),
  ], { errors });
}

const fullName = (p) => `${p.first_names} ${p.last_name}`;
function addressText(a) {
  if (!a) return '–';
  return [a.street, [a.postal_code, a.municipality].filter(Boolean).join(' '), a.country].filter(Boolean).join(', ');
}

function personRows(p) {
  return [
    [t('person.insz'), p.insz],
    [t('person.register'), t(`person.register.${p.register}`)],
    [t('person.name'), fullName(p)],
    [t('person.birth'), [p.birth_date, p.birth_place].filter(Boolean).join(', ')],
    [t('person.sex'), p.sex ? t(`person.sex.${p.sex}`) : t('person.sex.unknown')],
    [t('person.address'), addressText(p.address)],
  ];
}

function pagePersons() {
  if (!off.purpose) return go('#/office/search');
  const n = off.persons.length;
  page('persons.title', [
    h('p', { role: 'status' }, t(n === 1 ? 'persons.count_one' : 'persons.count', { n })),
    ...off.persons.map((p) => h('section', { class: 'person', id: `person-${p.insz}` },
      h('h2', {}, fullName(p)),
      summaryList(personRows(p)),
      h('p', {}, h('a', { class: 'button', href: `#/office/identify?insz=${p.insz}`, id: `identify-${p.insz}` },
        t('persons.identify'), h('span', { class: 'visually-hidden' }, ` – ${fullName(p)}`))))),
    h('p', {}, link('#/office/search', 'persons.again')),
  ]);
}

const DOCS = ['be_eid', 'foreign_id', 'passport', 'residence_permit'];
const CHECKS = ['photo_compared', 'document_genuine', 'document_not_expired', 'person_present'];

function chosenPerson() {
  const insz = params().get('insz') || off.person?.insz;
  const p = off.persons.find((x) => x.insz === insz);
  if (p && p !== off.person) {
    off.person = p;
    off.ident = null;
  }
  return p;
}

function pageIdentify(errors, v = off.ident || {}) {
  const p = chosenPerson();
  if (!p) return go('#/office/search');
  page('identify.title', [
    h('p', {}, t('identify.intro', { name: fullName(p) })),
    form((fd) => {
      const x = {
        document_type: String(fd.get('document_type') || ''),
        document_number: String(fd.get('document_number') || '').trim().toUpperCase(),
        document_valid_until: String(fd.get('document_valid_until') || ''),
        issuing_country: String(fd.get('issuing_country') || '').trim().toUpperCase(),
        checks: Object.fromEntries(CHECKS.map((c) => [c, fd.get(c) === 'yes'])),
      };
      const errs = [];
      if (!x.document_type) errs.push({ field: 'document_type-0', text: t('identify.error.type') });
      if (!x.document_number) errs.push({ field: 'document_number', text: t('identify.error.number') });
      if (!x.document_valid_until) errs.push({ field: 'document_valid_until', text: t('identify.error.valid') });
      if (!/^[A-Z]{2}$/.test(x.issuing_country)) errs.push({ field: 'issuing_country', text: t('identify.error.country') });
      off.ident = x;
      if (errs.length) return pageIdentify(errs, x);
      go('#/office/identify/check');
    },
    radios('document_type', 'identify.type', DOCS.map((d) => ({ value: d, label: t(`doc.${d}`), checked: v.document_type === d })), { errors }),
    field('document_number', 'identify.number', { errors, value: v.document_number, autocomplete: 'off' }),
    field('document_valid_until', 'identify.valid', { errors, type: 'date', value: v.document_valid_until }),
    field('issuing_country', 'identify.country', { errors, value: v.issuing_country, hint: 'identify.country_hint', cls: 'input-country', autocomplete: 'off' }),
    h('fieldset', { class: 'form-group' },
      h('legend', {}, t('identify.checks')),
      h('span', { class: 'hint' }, t('identify.checks_hint')),
      CHECKS.map((c) => checkbox(c, `check.${c}`, { checked: v.checks?.[c] }))),
    button('continue')),
  ], { errors });
}

const yesNo = (b) => (b ? t('office.yes') : t('office.no'));

function pageIdentifyCheck(errors) {
  const p = off.person;
  const x = off.ident;
  if (!p || !x) return go('#/office/search');
  page('identcheck.title', [
    summaryList([
      [t('person.name'), `${fullName(p)} (${p.insz})`],
      [t('identify.type'), t(`doc.${x.document_type}`)],
      [t('identify.number'), x.document_number],
      [t('identify.valid'), dateText(x.document_valid_until)],
      [t('identify.country'), x.issuing_country],
      ...CHECKS.map((c) => [t(`check.${c}`), yesNo(x.checks[c])]),
    ]),
    h('p', {}, link(`#/office/identify?insz=${p.insz}`, 'identcheck.change')),
    ...(CHECKS.every((c) => x.checks[c]) ? [] : [h('div', { class: 'warning-text', id: 'identcheck-warning' },
      h('strong', {}, t('office.warning'), ' ', t('identcheck.incomplete')))]),
    h('p', {}, t('identcheck.declare')),
    form(async () => {
      try {
        const r = await api('POST', '/api/v1/lra/identifications', { insz: p.insz, purpose: off.purpose, ...x });
        off.outcome = r;
        if (r.outcome === 'identified') {
          state.flash = t('identcheck.identified', { name: fullName(p) });
          return go('#/office/activation');
        }
        go('#/office/identify/failed');
      } catch (e) {
        if (e instanceof Problem && e.status === 403) return blocked('identcheck.title', e);
        pageIdentifyCheck([{ text: problemText(e) }]);
      }
    }, button('identcheck.submit')),
  ], { errors });
}

function pageIdentifyFailed() {
  const p = off.person;
  if (!p || off.outcome?.outcome !== 'failed') return go('#/office/search');
  const missing = CHECKS.filter((c) => !off.ident.checks[c]);
  page('identfailed.title', [
    h('div', { class: 'warning-text', id: 'identification-failed' },
      h('strong', {}, t('office.warning'), ' ', t('identfailed.text', { name: fullName(p) }))),
    ...(missing.length ? [h('p', {}, t('identfailed.missing')), h('ul', {}, missing.map((c) => h('li', {}, t(`check.${c}`))))]
      : [h('p', {}, t('identfailed.document'))]),
    h('p', {}, t('identfailed.recorded')),
    h('p', {}, link(`#/office/identify?insz=${p.insz}`, 'identfailed.again')),
    h('p', {}, link('#/office', 'identfailed.back')),
  ]);
}

const LETTER_LANGS = ['nl', 'fr', 'de', 'en'];
const LANG_LABEL = { nl: 'Nederlands', fr: 'Français', de: 'Deutsch', en: 'English' };
const ACTIVATION_FIELDS = { invalid_field: 'email' };

function pageActivation(errors, v = {}) {
  const p = off.person;
  if (!p || off.outcome?.outcome !== 'identified') return go('#/office/search');
  const lang = v.language || state.lang;
  page('issue.title', [
    h('p', {}, t('issue.intro', { name: fullName(p) })),
    form(async (fd) => {
      const x = {
        email: String(fd.get('email') || '').trim(),
        phone: String(fd.get('phone') || '').replace(/\s/g, ''),
        language: String(fd.get('language') || ''),
      };
      const errs = [];
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(x.email)) errs.push({ field: 'email', text: t('issue.error.email') });
      if (x.phone && !/^\+\d{8,15}$/.test(x.phone)) errs.push({ field: 'phone', text: t('keyadd.error.phone') });
      if (errs.length) return pageActivation(errs, x);
      try {
        const r = await api('POST', `/api/v1/lra/identifications/${off.outcome.id}/activation`,
          { email: x.email, ...(x.phone ? { phone: x.phone } : {}), language: x.language });
        off.issued = { ...r, language: x.language, email: x.email, person: p };
        off.outcome = null;
        go('#/office/letter');
      } catch (e) {
        if (e instanceof Problem && e.status === 403) return blocked('issue.title', e);
        pageActivation([{ field: ACTIVATION_FIELDS[e.message] || null, text: problemText(e) }], x);
      }
    },
    field('email', 'issue.email', { errors, type: 'email', value: v.email, hint: 'issue.email_hint', autocomplete: 'off' }),
    field('phone', 'issue.phone', { errors, type: 'tel', value: v.phone, hint: 'issue.phone_hint', autocomplete: 'off' }),
    radios('language', 'issue.language', LETTER_LANGS.map((l) => ({ value: l, label: LANG_LABEL[l], checked: l === lang }))),
    button('issue.submit')),
  ], { errors });
}

// The letter the server wrote (letter_html, in the person's language),
// rebuilt element by element from a short list: nothing of it is ever
// inserted as markup, and its own style gives way to style.css's.
const LETTER_TAGS = { H1: 'h2', H2: 'h3', P: 'p', STRONG: 'strong', EM: 'em', OL: 'ol', UL: 'ul', LI: 'li', SPAN: 'span',
  HEADER: 'div', MAIN: 'div', FOOTER: 'div', BR: 'br' };
function letterNodes(node) {
  const out = [];
  for (const c of node.childNodes) {
    if (c.nodeType === Node.TEXT_NODE) out.push(c.textContent);
    else if (c.nodeType === Node.ELEMENT_NODE && LETTER_TAGS[c.tagName]) {
      const cls = c.getAttribute('class') || c.tagName.toLowerCase();
      out.push(h(LETTER_TAGS[c.tagName], { class: /^[a-z-]+$/.test(cls) ? `letter-${cls}` : null }, letterNodes(c)));
    }
  }
  return out;
}

function letter(issued) {
  if (!issued.letter_html) {
    return [h('p', {}, fullName(issued.person)), h('p', { class: 'letter-code' }, issued.activation_code)];
  }
  // Its <style> (for printing the file alone) goes before parsing: the
  // page's policy refuses inline style even in a parsed, unshown document.
  const html = issued.letter_html.replace(/<style[\s\S]*?<\/style>/gi, '');
  const doc = new DOMParser().parseFromString(html, 'text/html');
  return letterNodes(doc.body);
}

function keysWarning(issued) {
  const keys = issued.keys_to_deactivate || [];
  if (!keys.length) return [];
  return [h('div', { class: 'warning-text', id: 'letter-keys' },
    h('p', {}, h('strong', {}, t('office.warning'), ' ', t('letter.keys'))),
    h('ul', {}, keys.map((k) => h('li', {}, k.holder === 'self'
      ? t('letter.key_own', { key: t(`key.${k.type}`) }) : t('letter.key_other')))))];
}

function pageLetter() {
  const x = off.issued;
  if (!x) return go('#/office');
  page('letter.title', [
    h('p', {}, t('letter.intro', { name: fullName(x.person), email: x.email, until: new Date(x.expires_at).toLocaleString(state.lang) })),
    ...keysWarning(x),
    h('p', {}, h('button', { type: 'button', class: 'button', id: 'print-letter', onclick: () => window.print() }, t('letter.print'))),
    h('section', { class: 'letter', id: 'letter', lang: x.language, 'aria-label': t('letter.label') }, letter(x)),
    h('p', {}, link('#/office/search', 'letter.next')),
  ]);
}

async function pageActions() {
  if (!levelOk('actions.title')) return;
  const list = await guarded('actions.title', () => api('GET', '/api/v1/lra/actions'));
  if (!list) return;
  const known = (prefix, v) => (`${prefix}${v}` in state.msg ? t(`${prefix}${v}`) : v);
  page('actions.title', [
    h('p', {}, t('actions.intro')),
    list.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, t('actions.title')),
      h('thead', {}, h('tr', {}, ['actions.at', 'actions.action', 'actions.outcome', 'actions.subject', 'actions.purpose']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, list.map((a) => h('tr', { id: `action-${a.seq}` },
        h('td', {}, new Date(a.at).toLocaleString(state.lang)),
        h('td', { class: 'action' }, known('action.', a.action)),
        h('td', {}, h('span', { class: `tag ${a.outcome === 'refused' ? 'tag-no' : 'tag-ok'}` }, known('outcome.', a.outcome))),
        h('td', {}, a.subject || '–'),
        h('td', {}, a.purpose || a.reason || '–')))))) : h('p', { id: 'actions-none' }, t('actions.none')),
    h('p', {}, link('#/office', 'actions.back')),
  ]);
}

addRoutes({
  '/office': needSession(pageOffice),
  '/office/conditions': needSession(pageConditions),
  '/office/search': needSession(pageSearch),
  '/office/persons': needSession(pagePersons),
  '/office/identify': needSession(pageIdentify),
  '/office/identify/check': needSession(pageIdentifyCheck),
  '/office/identify/failed': needSession(pageIdentifyFailed),
  '/office/activation': needSession(pageActivation),
  '/office/letter': needSession(pageLetter),
  '/office/actions': needSession(pageActions),
});
