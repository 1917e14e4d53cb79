// Activating an account from a registration office's letter and e-mail
// (issue 16 item 2). The e-mail's link opens #/activate?token=…; the
// person enters the code printed on the letter, chooses a username and a
// password, then a key, and confirms it with its first code. One thing per
// page; what the pages share lives in this module's memory only (never in
// web storage), so a reload starts again from the e-mail's link.
import {
  state, t, h, page, field, radios, form, button, Problem, api, problemText, go, params, addRoutes,
} from './ui.js';

// The link's token, the activation the paper code opened, the username
// and password chosen (until the key is chosen: the API takes them
// together) and the key's answer (QR code, or where the code went).
const act = { token: null, id: null, cred: null, key: null, done: null };

function reset() {
  Object.assign(act, { id: null, cred: null, key: null });
}

// An activation that can no longer go on (expired, locked, completed):
// the way forward is the registration office.
function pageEnded(e) {
  reset();
  act.token = null;
  page('activate.ended.title', [
    h('p', { id: 'activate-ended' }, problemText(e)),
    h('p', {}, t('activate.ended.office')),
  ]);
}

const ENDS = ['activation_expired', 'activation_locked', 'invalid_activation'];
const ended = (e) => e instanceof Problem && ENDS.includes(e.message) && (e.status !== 401 || act.id);

function pageCode(errors) {
  const token = params().get('token');
  if (token) {
    // The token leaves the address bar (and the history) at once.
    act.token = token;
    reset();
    history.replaceState(null, '', '#/activate');
  }
  if (!act.token) {
    return page('activate.title', [h('p', {}, t('activate.no_link')), h('p', {}, t('activate.ended.office'))]);
  }
  page('activate.title', [
    h('p', {}, t('activate.intro')),
    form(async (fd) => {
      const code = String(fd.get('activation-code') || '').toUpperCase().replace(/[\s-]/g, '');
      if (!/^[A-Z0-9]{20}$/.test(code)) return pageCode([{ field: 'activation-code', text: t('activate.error.code') }]);
      try {
        const r = await api('POST', '/api/v1/activation/start', { link_token: act.token, activation_code: code });
        act.id = r.activation_id;
        go('#/activate/credentials');
      } catch (e) {
        if (e instanceof Problem && e.status === 410) return pageEnded(e);
        pageCode([{ field: 'activation-code', text: problemText(e) }]);
      }
    },
    field('activation-code', 'activate.code', { errors, hint: 'activate.code_hint', cls: 'input-activation', autocomplete: 'off' }),
    button('continue')),
  ], { errors });
}

const CRED_FIELDS = { username_taken: 'new-username', invalid_field: 'new-username', weak_password: 'new-password' };

function pageCredentials(errors, values = act.cred || {}) {
  if (!act.id) return go('#/activate');
  page('activate.cred.title', [
    h('p', {}, t('activate.cred.intro')),
    form((fd) => {
      const username = String(fd.get('new-username') || '').trim().toLowerCase();
      const password = String(fd.get('new-password') || '');
      const errs = [];
      if (username && !/^[a-z0-9._@-]{3,64}$/.test(username)) errs.push({ field: 'new-username', text: t('activate.error.username') });
      if (password.length < 12) errs.push({ field: 'new-password', text: t('activate.error.short') });
      if (errs.length) return pageCredentials(errs, { username });
      act.cred = { username, password };
      go('#/activate/key');
    },
    field('new-username', 'activate.cred.username', { errors, value: values.username, autocomplete: 'username', hint: 'activate.cred.username_hint' }),
    field('new-password', 'activate.cred.password', { errors, type: 'password', autocomplete: 'new-password', hint: 'activate.cred.password_hint' }),
    button('continue')),
  ], { errors });
}

const KEYS = ['totp', 'email_code', 'sms_code'];

function pageKey(errors) {
  if (!act.id) return go('#/activate');
  if (!act.cred) return go('#/activate/credentials');
  page('activate.key.title', [
    h('p', {}, t('activate.key.intro')),
    form(async (fd) => {
      const key = fd.get('key');
      if (!key) return pageKey([{ field: 'key-0', text: t('activate.error.key') }]);
      const { username, password } = act.cred;
      try {
        const r = await api('POST', `/api/v1/activation/${encodeURIComponent(act.id)}/credentials`,
          { ...(username ? { username } : {}), password, key });
        act.key = { ...r, type: key };
        go('#/activate/confirm');
      } catch (e) {
        if (ended(e)) return pageEnded(e);
        // A refused username or password is fixed on the page that asks it.
        if (['username_taken', 'weak_password'].includes(e.message) || (e.message === 'invalid_field' && key !== 'sms_code')) {
          return pageCredentials([{ field: CRED_FIELDS[e.message], text: problemText(e) }], act.cred);
        }
        const text = e.message === 'invalid_field' ? t('activate.error.no_phone') : problemText(e);
        pageKey([{ field: 'key-0', text }]);
      }
    },
    radios('key', 'activate.key.question', KEYS.map((k) => ({ value: k, label: t(`keyadd.type.${k}`), checked: act.key?.type === k })), { errors }),
    button('continue')),
  ], { errors });
}

async function resend() {
  try {
    const r = await api('POST', `/api/v1/activation/${encodeURIComponent(act.id)}/resend`);
    act.key.sent_to = r.sent_to;
    state.flash = t('activate.resent', { to: r.sent_to });
    pageConfirm();
  } catch (e) {
    if (ended(e)) return pageEnded(e);
    pageConfirm([{ text: problemText(e) }]);
  }
}

// The key's first code completes the activation: the account is ready.
async function complete(code) {
  if (!/^\d{6,8}$/.test(code)) return pageConfirm([{ field: 'code', text: t('code.error.format') }]);
  const username = act.key.username;
  try {
    await api('POST', `/api/v1/activation/${encodeURIComponent(act.id)}/complete`, { code });
  } catch (e) {
    return ended(e) ? pageEnded(e) : pageConfirm([{ field: 'code', text: problemText(e) }]);
  }
  act.done = { username };
  reset();
  act.token = null;
  go('#/activate/done');
}

function pageConfirm(errors) {
  if (!act.id || !act.key) return go('#/activate');
  const k = act.key;
  const minutes = Math.round((k.code_valid_s || 300) / 60);
  const intro = k.qr_png_base64 ? [
    h('p', {}, t('keyconfirm.totp')),
    h('img', { class: 'qr', src: `data:image/png;base64,${k.qr_png_base64}`, alt: t('keyconfirm.qr_alt') }),
    h('details', {}, h('summary', {}, t('keyconfirm.manual')), h('p', { class: 'code-text', id: 'otpauth-uri' }, k.otpauth_uri)),
  ] : [h('p', {}, t('activate.confirm.sent', { to: k.sent_to || '', minutes }))];
  page('activate.confirm.title', [
    ...intro,
    form((fd) => complete(String(fd.get('code') || '').replace(/\s/g, '')),
    field('code', 'code.label', { errors, hint: 'code.hint', cls: 'input-code', inputmode: 'numeric', autocomplete: 'one-time-code' }),
    button('activate.confirm.submit')),
    ...(k.qr_png_base64 ? [] : [h('p', {}, h('button', { type: 'button', class: 'button button-secondary', id: 'resend', onclick: resend },
      t('activate.confirm.resend')))]),
  ], { errors });
}

function pageDone() {
  if (!act.done) return go('#/activate');
  page('activate.done.title', [
    h('p', {}, t('activate.done.text')),
    ...(act.done.username ? [h('p', { id: 'activate-username' }, t('activate.done.username', { username: act.done.username }))] : []),
    h('p', {}, h('a', { class: 'button', href: '#/login/password', id: 'activate-login' }, t('activate.done.login'))),
  ]);
}

addRoutes({
  '/activate': pageCode,
  '/activate/credentials': pageCredentials,
  '/activate/key': pageKey,
  '/activate/confirm': pageConfirm,
  '/activate/done': pageDone,
});
