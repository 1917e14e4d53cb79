// The portal's frame, shared by its parts (citizen.js, officer.js,
// org.js): texts, DOM helpers in the GOV.UK patterns, the API client, the
// header and the hash router. ES modules, no build step, no library.
// The session is the HttpOnly cookie the server sets; its CSRF value lives
// in memory only (never in web storage), and a reloaded page asks
// GET /api/v1/auth/session for it again.

export const LANGS = ['nl', 'fr', 'de', 'en'];
const LANG_NAMES = { nl: 'Nederlands', fr: 'Français', de: 'Deutsch', en: 'English' };
let renders = 0;
export const state = { lang: 'nl', msg: {}, session: null, csrf: null, flash: null, next: null };

// --- texts -------------------------------------------------------------

export function t(key, vars = {}) {
  const s = state.msg[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
}

export function pickLanguage() {
  const saved = localStorage.getItem('kp-lang');
  if (LANGS.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || 'nl']) {
    const base = String(l).slice(0, 2).toLowerCase();
    if (LANGS.includes(base)) return base;
  }
  return 'nl';
}

export // Each part has its own catalogue per language (web/i18n/<part>/<lang>.json,
// the frame and the citizen's pages in web/i18n/<lang>.json), merged.
const PARTS = ['', 'activate/', 'officer/', 'org/', 'oidc/'];

export async function loadLanguage(lang) {
  const parts = await Promise.all(PARTS.map(async (p) => {
    const r = await fetch(`/i18n/${p}${lang}.json`, { credentials: 'same-origin' });
    return r.ok ? r.json() : {};
  }));
  state.msg = Object.assign({}, ...parts);
  state.lang = lang;
  document.documentElement.lang = lang;
}

// --- DOM -----------------------------------------------------------------

// h('p', {class: 'x'}, 'text', child…): an element; never innerHTML, so no
// text from the server or the user is ever parsed as markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const main = () => document.getElementById('main');

// Replaces the page: title, h1 (focused, so a screen reader announces the
// new page), optional error summary or banner, then the content.
export function page(titleKey, content, opt = {}) {
  const m = main();
  m.replaceChildren();
  m.dataset.rendered = String(++renders); // tells tests a page is complete
  const title = t(titleKey, opt.vars);
  document.title = `${opt.errors?.length ? `${t('error.prefix')} ` : ''}${title} – kruispunt`;
  if (opt.errors?.length) m.append(errorSummary(opt.errors));
  else if (state.flash) m.append(banner(state.flash));
  state.flash = null;
  const h1 = h('h1', { id: 'page-heading', tabindex: '-1' }, title);
  m.append(h1, ...[content].flat().filter((c) => c !== null && c !== undefined && c !== false));
  // Focus moves on a change of page only: a page just loaded starts at the
  // top, where the skip link is the first Tab.
  if (renders > 1) (m.querySelector('.error-summary') || m.querySelector('.banner') || h1).focus();
}

export function errorSummary(errors) {
  return h('div', { class: 'error-summary', tabindex: '-1', role: 'alert', 'aria-labelledby': 'error-summary-title' },
    h('h2', { id: 'error-summary-title' }, t('error.summary')),
    h('ul', {}, errors.map((e) => h('li', {},
      e.field ? h('a', { href: `#${e.field}`, onclick: (ev) => { ev.preventDefault(); document.getElementById(e.field)?.focus(); } }, e.text)
        : e.text))));
}

export function banner(text) {
  return h('div', { class: 'banner', tabindex: '-1', role: 'status', 'aria-labelledby': 'banner-title' },
    h('h2', { id: 'banner-title' }, t('banner.done')), h('p', {}, text));
}

// A text field with label, hint and its error (GOV.UK "text input").
export function field(id, labelKey, opt = {}) {
  const err = opt.errors?.find((e) => e.field === id);
  const hintId = opt.hint ? `${id}-hint` : null;
  const errId = err ? `${id}-error` : null;
  return h('div', { class: `form-group${err ? ' form-group-error' : ''}` },
    h('label', { for: id }, t(labelKey)),
    opt.hint ? h('span', { class: 'hint', id: hintId }, t(opt.hint)) : null,
    err ? h('span', { class: 'error-message', id: errId }, h('span', { class: 'visually-hidden' }, `${t('error.prefix')} `), err.text) : null,
    h('input', {
      id, name: id, type: opt.type || 'text', class: opt.cls, value: opt.value ?? '',
      autocomplete: opt.autocomplete, inputmode: opt.inputmode, spellcheck: 'false', min: opt.min, max: opt.max,
      'aria-describedby': [hintId, errId].filter(Boolean).join(' ') || null,
      'aria-invalid': err ? 'true' : null,
    }));
}

// Radios in a fieldset whose legend is the page's question.
export function radios(name, legendKey, options, opt = {}) {
  const err = opt.errors?.find((e) => e.field === `${name}-0`);
  return h('fieldset', { class: `form-group${err ? ' form-group-error' : ''}`, 'aria-describedby': err ? `${name}-error` : null },
    h('legend', {}, t(legendKey)),
    err ? h('span', { class: 'error-message', id: `${name}-error` }, h('span', { class: 'visually-hidden' }, `${t('error.prefix')} `), err.text) : null,
    options.map((o, i) => h('div', { class: 'radio' },
      h('input', { type: 'radio', id: `${name}-${i}`, name, value: o.value, checked: o.checked }),
      h('label', { for: `${name}-${i}` }, o.label))));
}

// One checkbox with its error (GOV.UK "checkboxes", a single one).
export function checkbox(id, labelKey, opt = {}) {
  const err = opt.errors?.find((e) => e.field === id);
  return h('div', { class: `form-group${err ? ' form-group-error' : ''}` },
    err ? h('span', { class: 'error-message', id: `${id}-error` }, h('span', { class: 'visually-hidden' }, `${t('error.prefix')} `), err.text) : null,
    h('div', { class: 'radio' },
      h('input', { type: 'checkbox', id, name: id, value: 'yes', checked: opt.checked,
        'aria-describedby': err ? `${id}-error` : null, 'aria-invalid': err ? 'true' : null }),
      h('label', { for: id }, t(labelKey))));
}

export function form(onsubmit, ...children) {
  return h('form', { novalidate: true, onsubmit: (ev) => { ev.preventDefault(); onsubmit(new FormData(ev.target)); } }, ...children);
}

export const button = (key, cls = '') => h('button', { type: 'submit', class: `button ${cls}` }, t(key));
export const link = (href, key, vars) => h('a', { href }, t(key, vars));

// --- the API ---------------------------------------------------------------

export class Problem extends Error {
  constructor(status, body) {
    super(body?.code || `http_${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['Kruispunt-CSRF'] = state.csrf;
  if (path === '/api/v1/auth/login') headers['Kruispunt-Session'] = 'cookie';
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!r.ok) throw new Problem(r.status, json);
  return json;
}

// An API refusal in the user's language, from the problem's code.
export function problemText(e) {
  if (!(e instanceof Problem)) return t('error.network');
  const key = `error.${e.message}`;
  const vars = { required: e.body.required, current: e.body.current, retry: e.body.retry_after };
  return key in state.msg ? t(key, vars) : t('error.unknown', { code: e.message });
}

export async function refreshSession() {
  try {
    state.session = await api('GET', '/api/v1/auth/session');
    state.csrf = state.session.csrf;
  } catch (e) {
    state.session = null;
    state.csrf = null;
    if (!(e instanceof Problem) || e.status !== 401) throw e;
  }
  renderHeader();
}

// The eID login starts at the portal's own host: the server gives this
// browser the login's state (an HttpOnly cookie) and sends it on to the
// eID host (auth.eid_url), so the page need not know where that is.
export function eidStart(back) {
  return `/api/v1/auth/eid/start?return=${encodeURIComponent(back)}`;
}

// Where a login with an external provider starts (src/federation).
export function federationStart(id, back) {
  return `/api/v1/auth/federation/${encodeURIComponent(id)}/start?return=${encodeURIComponent(back)}`;
}

// --- chrome ----------------------------------------------------------------

export function renderHeader() {
  document.getElementById('skip-link').textContent = t('skip');
  const nav = document.getElementById('lang-nav');
  nav.setAttribute('aria-label', t('lang.label'));
  nav.replaceChildren(h('ul', {}, LANGS.map((l) => h('li', {},
    h('button', {
      type: 'button', lang: l, 'aria-current': l === state.lang ? 'true' : null,
      onclick: async () => { localStorage.setItem('kp-lang', l); await loadLanguage(l); renderHeader(); route(); },
    }, LANG_NAMES[l])))));
  const s = document.getElementById('header-session');
  s.replaceChildren(state.session
    ? h('ul', {}, h('li', {}, h('a', { href: '#/account', class: 'header-link' }, t('nav.account'))),
      h('li', {}, h('button', { type: 'button', id: 'logout', onclick: logout }, t('nav.logout'))))
    : []);
  document.getElementById('footer-text').replaceChildren(h('p', {}, t('footer')));
}

async function logout() {
  try { await api('POST', '/api/v1/auth/logout'); } catch { /* the session may be gone already */ }
  state.session = null;
  state.csrf = null;
  state.flash = t('logout.done');
  renderHeader();
  go('#/');
}

// --- shared pieces of pages ---------------------------------------------------

export const levelText = (l) => t(`level.${l}`) === `level.${l}` ? String(l) : `${l} – ${t(`level.${l}`)}`;
export const keyName = (type) => t(`key.${type}`);
export function summaryList(rows) {
  return h('dl', { class: 'summary' }, rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}
export const dateText = (s) => (s ? new Date(`${s}T12:00:00`).toLocaleDateString(state.lang) : '');
export const isoDate = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
export function profileText(p) {
  if (!p || p === 'self') return t('profile.self');
  const [kind, id] = String(p).split(':');
  return kind === 'child' ? t('profile.child_is', { id }) : kind === 'org' ? t('profile.org_is', { id }) : p;
}

// Where a login, a step-up or a change of profile goes on to, once: set
// by a page that sent the person there (an application's login request,
// js/oidc.js), in memory only.
export function takeNext() {
  const n = state.next;
  state.next = null;
  return n;
}

// --- routes ----------------------------------------------------------------

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

export function params() {
  const q = location.hash.split('?')[1] || '';
  return new URLSearchParams(q);
}

// Each part adds its pages with addRoutes; a path is one page.
export const routes = {};
export const addRoutes = (r) => Object.assign(routes, r);

export function needSession(fn) {
  return (...a) => (state.session ? fn(...a) : go('#/login'));
}

export async function route() {
  const path = (location.hash.replace(/^#/, '').split('?')[0]) || '/';
  const fn = routes[path];
  try {
    if (fn) await fn();
    else page('notfound.title', h('p', {}, link('#/', 'notfound.home')));
  } catch (e) {
    if (e instanceof Problem && e.status === 401) {
      state.session = null;
      renderHeader();
      return go('#/login');
    }
    page('error.page', h('p', {}, problemText(e)));
  }
}

// --- pages -----------------------------------------------------------------
