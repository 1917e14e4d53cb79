// The citizen's pages: log in (password and a second factor, or eID),
// forgotten password, the session and its profile, the catalogue of
// applications with step-up, keys, the access log with its proofs, and
// mandates. Hash routes (#/login, #/apps…), one thing per page.
import {
  state, t, h, main, page, field, radios, checkbox, form, button, link, Problem, api, problemText,
  refreshSession, eidStart, federationStart, go, params, addRoutes, needSession,
  levelText, keyName, summaryList, dateText, isoDate, profileText, takeNext,
} from './ui.js';

function pageHome() {
  if (state.session) return go('#/account');
  page('home.title', [
    h('p', { class: 'lead' }, t('home.lead')),
    h('p', {}, h('a', { class: 'button', href: '#/login', id: 'start' }, t('home.start'))),
    h('h2', {}, t('home.apps.title')),
    h('p', {}, link('#/apps', 'home.apps.link')),
  ]);
}

// The external providers (itsme, MyGov.be, eIDAS ...) the login page
// offers beside our own keys: GET /api/v1/auth/providers, asked once per
// page load. A failure offers none: our own keys still work.
let providers = null;

async function loginProviders() {
  if (!providers) providers = await api('GET', '/api/v1/auth/providers').catch(() => []);
  return providers;
}

async function pageLoginChoice(errors) {
  const external = await loginProviders();
  page('login.title', [
    h('p', {}, t('login.intro')),
    form((fd) => {
      const k = String(fd.get('key') || '');
      if (k === 'password') return go('#/login/password');
      if (k === 'eid') return go('#/login/eid');
      const p = external.find((x) => `provider:${x.id}` === k);
      // A full navigation: the provider's page is another site's.
      if (p) return window.location.assign(federationStart(p.id, state.next ? `/${state.next}` : '/'));
      pageLoginChoice([{ field: 'key-0', text: t('login.error.choose') }]);
    },
    radios('key', 'login.question', [
      { value: 'password', label: t('login.key.password') },
      { value: 'eid', label: t('login.key.eid') },
      ...external.map((p) => ({ value: `provider:${p.id}`, label: t('login.key.provider', { name: p.name, level: p.level }) })),
    ], { errors }),
    button('continue')),
    h('p', {}, link('#/forgot', 'login.forgot')),
  ], { errors });
}

function pageLoginPassword(errors, values = {}) {
  page('password.title', [
    form(async (fd) => {
      const username = String(fd.get('username') || '').trim();
      const password = String(fd.get('password') || '');
      const errs = [];
      if (!username) errs.push({ field: 'username', text: t('password.error.username') });
      if (!password) errs.push({ field: 'password', text: t('password.error.password') });
      if (errs.length) return pageLoginPassword(errs, { username });
      try {
        await api('POST', '/api/v1/auth/login', { username, password });
        await refreshSession();
        state.flash = t('login.done');
        go(takeNext() || '#/account');
      } catch (e) {
        pageLoginPassword([{ field: 'username', text: problemText(e) }], { username });
      }
    },
    field('username', 'password.username', { errors, value: values.username, autocomplete: 'username' }),
    field('password', 'password.password', { errors, type: 'password', autocomplete: 'current-password' }),
    button('password.submit')),
    h('p', {}, link('#/forgot', 'login.forgot')),
  ], { errors });
}

function pageLoginEid() {
  page('eid.title', [
    h('p', {}, t('eid.intro')),
    h('ul', {}, h('li', {}, t('eid.need.reader')), h('li', {}, t('eid.need.card')), h('li', {}, t('eid.need.pin'))),
    h('p', {}, h('a', { class: 'button', id: 'eid-start', href: eidStart(state.next ? `/${state.next}` : '/') }, t('eid.start'))),
  ]);
}

function pageForgot() {
  page('forgot.title', [
    h('p', {}, t('forgot.intro')),
    h('h2', {}, t('forgot.eid.title')),
    h('ol', {}, h('li', {}, link('#/login/eid', 'forgot.eid.step1')), h('li', {}, t('forgot.eid.step2'))),
    h('h2', {}, t('forgot.office.title')),
    h('p', {}, t('forgot.office.text')),
  ]);
}



function pageAccount() {
  const s = state.session;
  page('account.title', [
    summaryList([
      [t('account.insz'), s.insz],
      [t('account.level'), levelText(s.level)],
      [t('account.keys'), (s.keys || []).map((k) => keyName(k.type)).join(', ')],
      [t('account.profile'), profileText(s.profile)],
      [t('account.expires'), new Date(s.expires_at).toLocaleString(state.lang)],
    ]),
    h('h2', {}, t('account.next')),
    h('ul', {},
      h('li', {}, link('#/apps', 'account.apps')),
      h('li', {}, link('#/keys', 'account.manage_keys')),
      h('li', {}, link('#/access-log', 'account.access_log')),
      h('li', {}, link('#/mandates', 'account.mandates')),
      h('li', {}, link('#/profile', 'account.change_profile')),
      String(s.profile).startsWith('org:') ? h('li', {}, link('#/org', 'account.org')) : null,
      s.level >= 500 ? h('li', {}, link('#/credentials', 'account.credentials')) : null),
  ]);
}

// eID self-service: a new username and password, the way back from a
// forgotten password or a locked key (PUT /api/v1/me/credentials, level 500).
function pageCredentials(errors, values = {}) {
  if (state.session.level < 500) {
    return page('credentials.title', [h('p', {}, t('credentials.need_eid')), h('p', {}, link('#/login/eid', 'eid.start'))]);
  }
  page('credentials.title', [
    h('p', {}, t('credentials.intro')),
    form(async (fd) => {
      const username = String(fd.get('new-username') || '').trim().toLowerCase();
      const password = String(fd.get('new-password') || '');
      if (password.length < 12) return pageCredentials([{ field: 'new-password', text: t('credentials.error.short') }], { username });
      try {
        const r = await api('PUT', '/api/v1/me/credentials', { ...(username ? { username } : {}), password });
        state.flash = t('credentials.done', { username: r.username });
        go('#/account');
      } catch (e) {
        const f = ['username_taken', 'invalid_field'].includes(e.message) ? 'new-username' : 'new-password';
        pageCredentials([{ field: f, text: problemText(e) }], { username });
      }
    },
    field('new-username', 'credentials.username', { errors, value: values.username, autocomplete: 'username', hint: 'credentials.username_hint' }),
    field('new-password', 'credentials.password', { errors, type: 'password', autocomplete: 'new-password', hint: 'credentials.password_hint' }),
    button('credentials.submit')),
  ], { errors });
}


// The profiles this person may take, as the server lists them (self, each
// minor child, each organisation where they hold a role today).
function profileValue(p) {
  return p.kind === 'child' ? `child:${p.insz}` : p.kind === 'organisation' ? `org:${p.kbo}` : 'self';
}

function profileLabel(p) {
  if (p.kind === 'child') return t('profile.child_is', { id: p.name });
  if (p.kind === 'organisation') return `${t('profile.org_is', { id: p.name })} (${p.roles.join(', ')})`;
  return `${t('profile.self')} (${p.name})`;
}

async function pageProfile(errors) {
  const list = await api('GET', '/api/v1/auth/profiles');
  page('profile.title', [
    form(async (fd) => {
      const v = String(fd.get('as') || '');
      if (!v) return pageProfile([{ field: 'as-0', text: t('profile.error.choose') }]);
      const [kind, id] = v.split(':');
      const body = kind === 'child' ? { child: id } : kind === 'org' ? { organisation: id } : { as: 'self' };
      try {
        await api('POST', '/api/v1/auth/profile', body);
        await refreshSession();
        state.flash = t('profile.done', { profile: profileText(state.session.profile) });
        go(takeNext() || '#/account');
      } catch (e) {
        pageProfile([{ field: 'as-0', text: problemText(e) }]);
      }
    },
    radios('as', 'profile.question', list.map((p) => ({
      value: profileValue(p), label: profileLabel(p), checked: p.current,
    })), { errors }),
    button('continue')),
  ], { errors });
}

const PORTALS = ['socialsecurity', 'ehealth', 'federal'];

async function pageApps(errors) {
  const apps = await api('GET', '/api/v1/apps');
  const level = state.session?.level ?? 0;
  const focusApp = params().get('app');
  const content = [h('p', {}, state.session ? t('apps.intro', { level: levelText(level) }) : t('apps.intro_anon'))];
  for (const portal of PORTALS) {
    content.push(h('h2', {}, t(`portal.${portal}`)));
    content.push(h('ul', { class: 'app-list' }, apps.filter((a) => a.portal === portal).map((a) => appRow(a, level))));
  }
  page('apps.title', content, { errors });
  if (focusApp && !errors?.length && !main().querySelector('.banner'))
    document.getElementById(`app-${focusApp}`)?.focus();
}

function appRow(a, level) {
  const ok = level >= a.min_level;
  let action;
  if (!state.session) action = h('a', { href: '#/login' }, t('apps.login_first'), h('span', { class: 'visually-hidden' }, ` – ${a.name}`));
  else if (ok) action = h('button', { type: 'button', class: 'button', id: `enter-${a.id}`, onclick: () => enterApp(a) },
    t('apps.enter'), h('span', { class: 'visually-hidden' }, ` – ${a.name}`));
  else if (a.min_level <= 400) action = h('a', { href: `#/step-up?app=${encodeURIComponent(a.id)}`, id: `stepup-${a.id}` },
    t('apps.step_up'), h('span', { class: 'visually-hidden' }, ` – ${a.name}`));
  else action = h('a', { href: '#/login/eid' }, t('apps.need_eid'), h('span', { class: 'visually-hidden' }, ` – ${a.name}`));
  return h('li', {},
    h('span', { class: 'app-name', id: `app-${a.id}`, tabindex: '-1' }, a.name),
    h('span', { class: `tag ${ok ? 'tag-ok' : 'tag-no'}` }, ok ? t('apps.ok') : t('apps.needs', { level: a.min_level })),
    action);
}

async function enterApp(a) {
  try {
    await api('POST', `/api/v1/apps/${encodeURIComponent(a.id)}/enter`);
    state.flash = t('apps.entered', { name: a.name });
    await pageApps();
  } catch (e) {
    await pageApps([{ field: `app-${a.id}`, text: `${a.name}: ${problemText(e)}` }]);
  }
}

const CODE_TYPES = { totp: 'totp_app', email_code: 'email_code', sms_code: 'sms_code' };

async function pageStepUpChoice(errors) {
  const keys = await api('GET', '/api/v1/me/keys');
  const app = params().get('app') || '';
  const next = params().get('next') === 'mandates' ? 'mandates' : '';
  const methods = Object.keys(CODE_TYPES).filter((m) => keys.some((k) => k.type === CODE_TYPES[m] && k.status === 'active'));
  page('stepup.title', [
    h('p', {}, t('stepup.intro')),
    methods.length ? form(async (fd) => {
      const m = fd.get('method');
      if (!m) return pageStepUpChoice([{ field: 'method-0', text: t('stepup.error.choose') }]);
      let sent = '';
      if (m !== 'totp') {
        try { sent = (await api('POST', '/api/v1/auth/step-up/send', { method: m })).sent_to; } catch (e) {
          return pageStepUpChoice([{ field: 'method-0', text: problemText(e) }]);
        }
      }
      go(`#/step-up/code?method=${m}&app=${encodeURIComponent(app)}&to=${encodeURIComponent(sent || '')}${next ? `&next=${next}` : ''}`);
    },
    radios('method', 'stepup.question', methods.map((m) => ({ value: m, label: t(`stepup.method.${m}`) })), { errors }),
    button('continue')) : h('p', {}, t('stepup.none'), ' ', link('#/keys/add', 'keys.add')),
  ], { errors });
}

function pageStepUpCode(errors) {
  const p = params();
  const method = p.get('method');
  const intro = method === 'totp' ? t('stepup.code.totp') : t('stepup.code.sent', { to: p.get('to') || '' });
  page('stepup.code.title', [
    h('p', {}, intro),
    form(async (fd) => {
      const code = String(fd.get('code') || '').replace(/\s/g, '');
      if (!/^\d{6,8}$/.test(code)) return pageStepUpCode([{ field: 'code', text: t('code.error.format') }]);
      try {
        await api('POST', '/api/v1/auth/step-up', { method, code });
        await refreshSession();
        state.flash = t('stepup.done', { level: levelText(state.session.level) });
        go(takeNext() || (p.get('app') ? `#/apps?app=${encodeURIComponent(p.get('app'))}` : p.get('next') === 'mandates' ? '#/mandates' : '#/account'));
      } catch (e) {
        pageStepUpCode([{ field: 'code', text: problemText(e) }]);
      }
    },
    field('code', 'code.label', { errors, hint: 'code.hint', cls: 'input-code', inputmode: 'numeric', autocomplete: 'one-time-code' }),
    button('stepup.submit')),
  ], { errors });
}

async function pageKeys() {
  const keys = await api('GET', '/api/v1/me/keys');
  const fmt = (s) => (s ? new Date(s).toLocaleDateString(state.lang) : t('keys.never'));
  page('keys.title', [
    h('p', {}, t('keys.intro')),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, t('keys.title')),
      h('thead', {}, h('tr', {}, ['keys.type', 'keys.level', 'keys.status', 'keys.created', 'keys.used', 'keys.action']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, keys.map((k) => h('tr', {},
        h('td', {}, keyName(k.type)), h('td', {}, String(k.level)), h('td', {}, t(`keys.status.${k.status}`)),
        h('td', {}, fmt(k.created_at)), h('td', {}, fmt(k.last_used_at)),
        h('td', {}, k.status === 'active' && k.type !== 'password'
          ? h('a', { href: `#/keys/deactivate?id=${k.id}`, id: `deactivate-${k.id}` }, t('keys.deactivate'),
            h('span', { class: 'visually-hidden' }, ` – ${keyName(k.type)} ${k.id}`))
          : '')))))),
    h('p', {}, h('a', { class: 'button', href: '#/keys/add', id: 'add-key' }, t('keys.add'))),
  ]);
}

function pageKeyAdd(errors, values = {}) {
  page('keyadd.title', [
    form(async (fd) => {
      const type = fd.get('type');
      const email = String(fd.get('email') || '').trim();
      const phone = String(fd.get('phone') || '').replace(/\s/g, '');
      const errs = [];
      if (!type) errs.push({ field: 'type-0', text: t('keyadd.error.choose') });
      if (type === 'email_code' && !email.includes('@')) errs.push({ field: 'email', text: t('keyadd.error.email') });
      if (type === 'sms_code' && !/^\+\d{8,15}$/.test(phone)) errs.push({ field: 'phone', text: t('keyadd.error.phone') });
      if (errs.length) return pageKeyAdd(errs, { type, email, phone });
      const body = { type, ...(type === 'email_code' ? { email } : {}), ...(type === 'sms_code' ? { phone } : {}) };
      try {
        const r = await api('POST', '/api/v1/me/keys', body);
        state.pendingKey = { ...r, type };
        go(`#/keys/confirm?id=${r.id}`);
      } catch (e) {
        const f = type === 'email_code' ? 'email' : type === 'sms_code' ? 'phone' : 'type-0';
        pageKeyAdd([{ field: f, text: problemText(e) }], { type, email, phone });
      }
    },
    radios('type', 'keyadd.question', ['totp', 'email_code', 'sms_code'].map((k) =>
      ({ value: k, label: t(`keyadd.type.${k}`), checked: values.type === k })), { errors }),
    field('email', 'keyadd.email', { errors, type: 'email', value: values.email, autocomplete: 'email', hint: 'keyadd.email_hint' }),
    field('phone', 'keyadd.phone', { errors, type: 'tel', value: values.phone, autocomplete: 'tel', hint: 'keyadd.phone_hint' }),
    button('continue')),
  ], { errors });
}

function pageKeyConfirm(errors) {
  const id = params().get('id');
  const k = state.pendingKey && String(state.pendingKey.id) === id ? state.pendingKey : null;
  if (!k) return go('#/keys');
  const parts = [];
  if (k.qr_png_base64) {
    parts.push(h('p', {}, t('keyconfirm.totp')));
    parts.push(h('img', { class: 'qr', src: `data:image/png;base64,${k.qr_png_base64}`, alt: t('keyconfirm.qr_alt') }));
    parts.push(h('details', {}, h('summary', {}, t('keyconfirm.manual')),
      h('p', { class: 'code-text', id: 'otpauth-uri' }, k.otpauth_uri)));
  } else {
    parts.push(h('p', {}, t('stepup.code.sent', { to: k.sent_to || '' })));
  }
  page('keyconfirm.title', [
    ...parts,
    form(async (fd) => {
      const code = String(fd.get('code') || '').replace(/\s/g, '');
      if (!/^\d{6,8}$/.test(code)) return pageKeyConfirm([{ field: 'code', text: t('code.error.format') }]);
      try {
        await api('POST', `/api/v1/me/keys/${encodeURIComponent(id)}/confirm`, { code });
        state.pendingKey = null;
        state.flash = t('keyconfirm.done', { key: keyName(k.type === 'totp' ? 'totp_app' : k.type) });
        go('#/keys');
      } catch (e) {
        pageKeyConfirm([{ field: 'code', text: problemText(e) }]);
      }
    },
    field('code', 'code.label', { errors, hint: 'code.hint', cls: 'input-code', inputmode: 'numeric', autocomplete: 'one-time-code' }),
    button('keyconfirm.submit')),
  ], { errors });
}

function pageKeyDeactivate(errors) {
  const id = params().get('id');
  page('keyoff.title', [
    h('p', {}, t('keyoff.warning')),
    form(async () => {
      try {
        await api('POST', `/api/v1/me/keys/${encodeURIComponent(id)}/deactivate`);
        state.flash = t('keyoff.done');
        await refreshSession();
        go(state.session ? '#/keys' : '#/login');
      } catch (e) {
        pageKeyDeactivate([{ text: problemText(e) }]);
      }
    },
    button('keyoff.submit', 'button-warning'),
    h('a', { href: '#/keys', class: 'button button-secondary' }, t('cancel'))),
  ], { errors });
}

// Every page of the access log (?after= the last seq), at most 50 pages.
async function loadAccessLog() {
  const all = [];
  let after = 0;
  for (let i = 0; i < 50; i++) {
    const page_ = await api('GET', `/api/v1/me/access-log${after ? `?after=${after}` : ''}`);
    if (!page_.length) break;
    all.push(...page_);
    after = page_[page_.length - 1].seq;
  }
  return all;
}

// Data sets, purposes and channels are codes the network registers; the
// common ones have words in the catalogues, any other shows as its code
// made readable (never hidden: the citizen must see what was consulted).
function codeText(kind, code) {
  const key = `${kind}.${code}`;
  return key in state.msg ? t(key) : String(code || '–').replace(/_/g, ' ');
}

async function pageAccessLog(errors) {
  const p = params();
  const from = p.get('from') || '';
  const to = p.get('to') || '';
  const items = (await loadAccessLog()).filter((a) =>
    (!from || a.at.slice(0, 10) >= from) && (!to || a.at.slice(0, 10) <= to)).reverse();
  const fmt = (s) => new Date(s).toLocaleString(state.lang);
  page('access.title', [
    h('p', {}, t('access.intro')),
    form((fd) => {
      const f = String(fd.get('from') || '');
      const tt = String(fd.get('to') || '');
      if (f && tt && f > tt) return pageAccessLog([{ field: 'to', text: t('access.error.period') }]);
      go(`#/access-log?from=${encodeURIComponent(f)}&to=${encodeURIComponent(tt)}`);
    },
    h('div', { class: 'filter' },
      field('from', 'access.from', { errors, type: 'date', value: from }),
      field('to', 'access.to', { errors, type: 'date', value: to }),
      h('div', { class: 'form-group' }, button('access.filter', 'button-secondary')))),
    h('p', { role: 'status' }, t(items.length === 1 ? 'access.count_one' : 'access.count', { n: items.length })),
    items.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, t('access.title')),
      h('thead', {}, h('tr', {}, ['access.at', 'access.org', 'access.person', 'access.data', 'access.purpose', 'access.channel', 'access.ticket', 'access.proof']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, items.map((a) => h('tr', {},
        h('td', {}, fmt(a.at)), h('td', {}, a.organisation), h('td', {}, a.person || '–'),
        h('td', {}, codeText('data', a.data_type)), h('td', {}, codeText('purpose', a.purpose)),
        h('td', {}, codeText('channel', a.channel)),
        h('td', { class: 'ticket' }, a.ticket),
        h('td', {}, h('a', { href: `/api/v1/me/access-log/${a.seq}/proof`, download: `kruispunt-proof-${a.seq}.txt`, class: 'proof-link' },
          t('access.download'), h('span', { class: 'visually-hidden' }, ` – ${fmt(a.at)}, ${a.organisation}`)))))))) : null,
    h('p', {}, t('access.proof_help')),
  ], { errors });
}

// --- mandates ---------------------------------------------------------------
// A citizen lets an organisation consult one data set about them in a job
// application (docs/API.md, "Mandates"): the list, a new one, revoking one.

const MANDATE_TYPE = 'precontractual';

// Today plus n calendar months, a day the target month lacks becoming its
// last day (31 January + 1 month = the end of February), as the server counts.
function plusMonths(n, from = new Date()) {
  const y = from.getFullYear();
  const m = from.getMonth() + n;
  const last = new Date(y, m + 1, 0).getDate();
  return isoDate(new Date(y, m, Math.min(from.getDate(), last)));
}

const months = (iso) => Number(/^P(\d+)M$/.exec(iso || '')?.[1] || 0);
const dataSetName = (code) => t(`mandates.set.${code}`);

// The page to show instead when the session cannot manage mandates: a
// second step first, or acting for oneself.
function mandatesBlocked(titleKey, e) {
  const fix = e.message === 'insufficient_level'
    ? h('a', { class: 'button', href: '#/step-up?next=mandates', id: 'mandates-step-up' }, t('mandates.step_up'))
    : link('#/profile', 'account.change_profile');
  page(titleKey, [h('p', {}, t('mandates.intro')), h('p', { id: 'mandates-blocked' }, problemText(e)), h('p', {}, fix)]);
}

function mandatesAllowed(titleKey) {
  const s = state.session;
  if (s.level < 400) {
    mandatesBlocked(titleKey, new Problem(403, { code: 'insufficient_level', required: 400, current: s.level }));
    return false;
  }
  if (s.profile && s.profile !== 'self') {
    mandatesBlocked(titleKey, new Problem(403, { code: 'self_profile_required' }));
    return false;
  }
  return true;
}

async function pageMandates() {
  if (!mandatesAllowed('mandates.title')) return;
  let list;
  try { list = await api('GET', '/api/v1/me/mandates'); } catch (e) {
    if (e instanceof Problem && e.status === 403) return mandatesBlocked('mandates.title', e);
    throw e;
  }
  page('mandates.title', [
    h('p', {}, t('mandates.intro')),
    list.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, t('mandates.title')),
      h('thead', {}, h('tr', {}, ['mandates.holder', 'mandates.data_set', 'mandates.from', 'mandates.until', 'mandates.status', 'mandates.action']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, list.map((m) => h('tr', { id: `mandate-${m.id}` },
        h('td', { class: 'holder' }, holderText(m)), h('td', {}, dataSetName(m.data_set)),
        h('td', {}, dateText(m.valid_from)), h('td', {}, dateText(m.valid_until)),
        h('td', { class: 'status' }, h('span', { class: `tag ${m.status === 'active' ? 'tag-ok' : 'tag-no'}` }, t(`mandates.status.${m.status}`))),
        h('td', {}, m.status === 'active'
          ? h('a', { href: `#/mandates/revoke?id=${m.id}`, id: `revoke-${m.id}` }, t('mandates.revoke'),
            h('span', { class: 'visually-hidden' }, ` – ${holderText(m)}, ${dataSetName(m.data_set)}`))
          : '')))))) : h('p', { id: 'mandates-none' }, t('mandates.none')),
    h('p', {}, h('a', { class: 'button', href: '#/mandates/new', id: 'add-mandate' }, t('mandates.add'))),
  ]);
}

// An organisation by its registered name and its enterprise number, as
// the citizen knows it and as the register names it.
function holderText(m) {
  return m.holder_name ? `${m.holder_name} (${m.holder})` : m.holder;
}

const MANDATE_FIELDS = { holder_not_eligible: 'holder', invalid_kbo: 'holder', org_unknown: 'holder', validity_too_long: 'valid_until' };

// The type, its conditions in the page's language and the latest end date
// of each data set, as both steps of a new mandate need them.
async function mandateType() {
  const types = await api('GET', '/api/v1/mandate-types');
  const type = types.find((x) => x.code === MANDATE_TYPE) || types[0];
  const cond = await api('GET', `/api/v1/mandate-types/${encodeURIComponent(type.code)}/conditions?lang=${state.lang}`);
  const maxOf = (code) => plusMonths(months(type.data_sets.find((d) => d.code === code)?.max_validity));
  return { type, cond, sets: type.data_sets, maxOf };
}

// The holder as registered, and whether it may hold this type: the name
// the citizen confirms on the next page. Returns the organisation, or
// the error for the holder field.
async function lookUpHolder(kbo, type) {
  try {
    const o = await api('GET', `/api/v1/organisations/${encodeURIComponent(kbo)}?mandate_type=${encodeURIComponent(type)}`);
    return o.may_hold ? { org: o } : { error: t('error.holder_not_eligible') };
  } catch (e) {
    if (e instanceof Problem && ['org_unknown', 'invalid_kbo'].includes(e.message)) return { error: problemText(e) };
    throw e;
  }
}

// The answers of step one, this person's only: on a shared computer the
// next person to log in does not find them.
const pendingMandate = () => (state.pendingMandate?.owner === state.session.insz ? state.pendingMandate : null);

// Step one: the data set, the holder and the end date; step two
// (#/mandates/check) names the holder as registered, with the conditions.
async function pageMandateNew(errors, values = pendingMandate() || {}) {
  if (!mandatesAllowed('mandatenew.title')) return;
  const { type, sets, maxOf } = await mandateType();
  const longest = plusMonths(Math.max(...sets.map((d) => months(d.max_validity))));
  const today = isoDate(new Date());
  page('mandatenew.title', [
    h('p', {}, t('mandatenew.intro')),
    form(async (fd) => {
      const v = {
        data_set: String(fd.get('data_set') || ''),
        holder: String(fd.get('holder') || '').replace(/[\s.]/g, ''),
        valid_until: String(fd.get('valid_until') || ''),
      };
      const errs = [];
      if (!v.data_set) errs.push({ field: 'data_set-0', text: t('mandatenew.error.data_set') });
      if (!v.holder) errs.push({ field: 'holder', text: t('mandatenew.error.holder') });
      else if (!/^\d{10}$/.test(v.holder)) errs.push({ field: 'holder', text: t('error.invalid_kbo') });
      if (v.valid_until && v.valid_until < today) errs.push({ field: 'valid_until', text: t('mandatenew.error.past') });
      else if (v.valid_until && v.data_set && v.valid_until > maxOf(v.data_set)) errs.push({ field: 'valid_until', text: t('error.validity_too_long') });
      if (!errs.some((x) => x.field === 'holder') && v.holder) {
        const found = await lookUpHolder(v.holder, type.code);
        if (found.error) errs.push({ field: 'holder', text: found.error });
        else v.holder_name = found.org.name;
      }
      if (errs.length) return pageMandateNew(errs, v);
      state.pendingMandate = { ...v, owner: state.session.insz };
      go('#/mandates/check');
    },
    radios('data_set', 'mandatenew.data_set', sets.map((d) => ({
      value: d.code, checked: values.data_set === d.code,
      label: `${dataSetName(d.code)} (${t(months(d.max_validity) === 1 ? 'mandatenew.max_one' : 'mandatenew.max', { n: months(d.max_validity) })})`,
    })), { errors }),
    field('holder', 'mandatenew.holder', { errors, value: values.holder, hint: 'mandatenew.holder_hint', inputmode: 'numeric', autocomplete: 'off' }),
    field('valid_until', 'mandatenew.until', { errors, type: 'date', value: values.valid_until, hint: 'mandatenew.until_hint', min: today,
      max: values.data_set ? maxOf(values.data_set) : longest }),
    button('continue')),
    h('p', {}, link('#/mandates', 'cancel')),
  ], { errors });
  // The end date's latest day follows the data set chosen.
  const until = document.getElementById('valid_until');
  for (const r of main().querySelectorAll('input[name="data_set"]'))
    r.addEventListener('change', () => { until.max = maxOf(r.value); });
}

// Check your answers: the holder by its registered name, the data, the
// end date and the conditions in full, then the mandate is given.
async function pageMandateCheck(errors) {
  if (!mandatesAllowed('mandatecheck.title')) return;
  const v = pendingMandate();
  if (!v) return go('#/mandates/new');
  const { type, cond, maxOf } = await mandateType();
  const change = (key) => h('a', { href: '#/mandates/new' }, t('mandatecheck.change'), h('span', { class: 'visually-hidden' }, ` – ${t(key)}`));
  page('mandatecheck.title', [
    h('dl', { class: 'summary', id: 'mandate-answers' }, [
      ['mandatecheck.holder', `${v.holder_name} (${v.holder})`],
      ['mandatecheck.data_set', dataSetName(v.data_set)],
      ['mandatecheck.until', v.valid_until ? dateText(v.valid_until) : t('mandatecheck.until_longest', { date: dateText(maxOf(v.data_set)) })],
    ].map(([k, val]) => h('div', {}, h('dt', {}, t(k)), h('dd', {}, val), h('dd', { class: 'summary-action' }, change(k))))),
    h('h2', {}, t('mandatenew.conditions')),
    h('div', { class: 'conditions', id: 'conditions', lang: state.lang, 'data-version': cond.version },
      String(cond.text).split(/\n\s*\n/).filter((x) => x.trim()).map((para) => h('p', {}, para.trim()))),
    form(async (fd) => {
      if (fd.get('accept') !== 'yes') return pageMandateCheck([{ field: 'accept', text: t('mandatenew.error.accept') }]);
      try {
        const r = await api('POST', '/api/v1/me/mandates', {
          type: type.code, data_set: v.data_set, holder: v.holder,
          ...(v.valid_until ? { valid_until: v.valid_until } : {}), conditions_version: cond.version,
        });
        state.pendingMandate = null;
        state.flash = t('mandatenew.done', { holder: holderText(r), data_set: dataSetName(v.data_set), until: dateText(r.valid_until) });
        go('#/mandates');
      } catch (e) {
        if (e instanceof Problem && e.status === 403) return mandatesBlocked('mandatecheck.title', e);
        // A changed text must be read again: the page shows the new one.
        if (e.message === 'conditions_changed') return pageMandateCheck([{ field: 'accept', text: problemText(e) }]);
        pageMandateNew([{ field: MANDATE_FIELDS[e.message] || null, text: problemText(e) }], v);
      }
    },
    checkbox('accept', 'mandatenew.accept', { errors }),
    button('mandatenew.submit')),
    h('p', {}, link('#/mandates', 'cancel')),
  ], { errors });
}

async function pageMandateRevoke(errors) {
  if (!mandatesAllowed('mandaterevoke.title')) return;
  const id = params().get('id');
  const m = (await api('GET', '/api/v1/me/mandates')).find((x) => String(x.id) === id);
  if (!m) return go('#/mandates');
  page('mandaterevoke.title', [
    summaryList([
      [t('mandates.holder'), holderText(m)],
      [t('mandates.data_set'), dataSetName(m.data_set)],
      [t('mandates.until'), dateText(m.valid_until)],
    ]),
    h('p', {}, t('mandaterevoke.warning')),
    form(async () => {
      try {
        await api('POST', `/api/v1/me/mandates/${encodeURIComponent(id)}/revoke`);
        state.flash = t('mandaterevoke.done', { holder: holderText(m) });
        go('#/mandates');
      } catch (e) {
        pageMandateRevoke([{ text: problemText(e) }]);
      }
    },
    button('mandaterevoke.submit', 'button-warning'),
    h('a', { href: '#/mandates', class: 'button button-secondary' }, t('cancel'))),
  ], { errors });
}



addRoutes({
  '/': pageHome,
  '/login': pageLoginChoice,
  '/login/password': pageLoginPassword,
  '/login/eid': pageLoginEid,
  '/forgot': pageForgot,
  '/account': needSession(pageAccount),
  '/profile': needSession(pageProfile),
  '/apps': pageApps,
  '/step-up': needSession(pageStepUpChoice),
  '/step-up/code': needSession(pageStepUpCode),
  '/keys': needSession(pageKeys),
  '/keys/add': needSession(pageKeyAdd),
  '/keys/confirm': needSession(pageKeyConfirm),
  '/keys/deactivate': needSession(pageKeyDeactivate),
  '/access-log': needSession(pageAccessLog),
  '/credentials': needSession(pageCredentials),
  '/mandates': needSession(pageMandates),
  '/mandates/new': needSession(pageMandateNew),
  '/mandates/check': needSession(pageMandateCheck),
  '/mandates/revoke': needSession(pageMandateRevoke),
});
