// An application's login request (OpenID Connect, docs/OIDC.md): the
// application sent the browser to /oidc/authorize, which kept the request
// and sent it here, #/oidc?request=ID. The page says who asks and what
// they will learn, has the person log in or step up first when needed,
// then sends the browser back with the server's answer. The request is
// bound to this browser by an HttpOnly cookie the server set.
import {
  state, t, h, page, form, button, link, api, problemText, params, addRoutes,
  levelText, summaryList, profileText, loadLanguage, renderHeader,
} from './ui.js';

const SCOPES = ['profile', 'email', 'egovnrn'];

// What the session still lacks for the request, as the server judges it
// (src/oidc lacking()): a login, a fresh login, a step-up or an eID.
function lacking(v) {
  const s = state.session;
  // Above 400 only the eID will do: say so at once, not after a password.
  if (!s) return v.level > 400 ? 'eid' : 'login';
  const authAge = (Date.now() - Date.parse(s.auth_time)) / 1000;
  if (v.max_age !== undefined && authAge > v.max_age) return 'login';
  // prompt=login: a login after the application asked.
  if ((v.prompt || '').split(' ').includes('login') && Date.parse(s.auth_time) / 1000 < v.created_at) return 'login';
  if (s.level < v.level) return v.level > 400 ? 'eid' : 'step_up';
  return null;
}

async function leave(path) {
  const r = await api('POST', path);
  window.location.assign(r.redirect);
}

function shared(v) {
  const items = SCOPES.filter((sc) => v.scope.split(' ').includes(sc)).map((sc) => h('li', {}, t(`oidc.scope.${sc}`)));
  return [h('p', {}, t('oidc.shares', { app: v.client_name })),
    h('ul', {}, h('li', {}, t('oidc.scope.openid')), items)];
}

function blocked(v, id, lack) {
  const back = `#/oidc?request=${id}`;
  state.next = back;
  const how = {
    login: h('p', {}, h('a', { class: 'button', href: '#/login', id: 'oidc-login' }, t('oidc.login'))),
    step_up: h('p', {}, h('a', { class: 'button', href: '#/step-up', id: 'oidc-step-up' }, t('oidc.step_up'))),
    eid: h('p', {}, h('a', { class: 'button', href: '#/login/eid', id: 'oidc-eid' }, t('oidc.eid'))),
  }[lack];
  return [h('p', { id: 'oidc-need' }, t(`oidc.need.${lack}`, { level: levelText(v.level) })), how];
}

async function pageOidc(errors) {
  const id = params().get('request') || '';
  let v;
  try {
    v = await api('GET', `/api/v1/oidc/requests/${encodeURIComponent(id)}`);
  } catch (e) {
    return page('oidc.title_unknown', [h('p', { id: 'oidc-unknown' }, problemText(e))]);
  }
  if (v.ui_locale && v.ui_locale !== state.lang && !localStorage.getItem('kp-lang')) {
    await loadLanguage(v.ui_locale);
    renderHeader();
  }
  const lack = lacking(v);
  const silent = (v.prompt || '').split(' ').includes('none');
  // prompt=none: no page at all; the application learns the answer.
  const rid = encodeURIComponent(id);
  if (silent) return leave(`/api/v1/oidc/requests/${rid}/${lack ? 'cancel' : 'continue'}`);
  const cancel = h('button', {
    type: 'button', class: 'button button-secondary', id: 'oidc-cancel',
    onclick: () => leave(`/api/v1/oidc/requests/${rid}/cancel`).catch((e) => pageOidc([{ text: problemText(e) }])),
  }, t('oidc.cancel'));
  const body = [
    h('p', { class: 'lead' }, t('oidc.asks', { app: v.client_name })),
    summaryList([[t('oidc.application'), v.client_name], [t('oidc.level'), levelText(v.level)]]),
    ...shared(v),
  ];
  if (lack) return page('oidc.title', [...body, ...blocked(v, id, lack), h('p', {}, cancel)], { errors, vars: { app: v.client_name } });
  state.next = `#/oidc?request=${id}`; // a change of profile comes back here
  page('oidc.title', [
    ...body,
    summaryList([[t('oidc.as'), profileText(state.session.profile)]]),
    h('p', {}, link('#/profile', 'oidc.change_profile')),
    form(async () => {
      try {
        await leave(`/api/v1/oidc/requests/${rid}/continue`);
      } catch (e) {
        pageOidc([{ text: problemText(e) }]);
      }
    }, button('oidc.continue')),
    h('p', {}, cancel),
  ], { errors, vars: { app: v.client_name } });
}

// RP-initiated logout: the application asks; the person decides. The
// portal's own logout ends the session (and is audited there); the way
// back to the application comes with the request's answer.
async function pageOidcLogout() {
  const id = params().get('request') || '';
  let v;
  try {
    v = await api('GET', `/api/v1/oidc/requests/${encodeURIComponent(id)}`);
  } catch (e) {
    return page('oidc.logout.title', [h('p', { id: 'oidc-unknown' }, problemText(e))]);
  }
  const done = () => leave(`/api/v1/oidc/requests/${encodeURIComponent(id)}/cancel`);
  if (!state.session) return done();
  page('oidc.logout.title', [
    h('p', {}, v.client_name ? t('oidc.logout.asks', { app: v.client_name }) : t('oidc.logout.asks_anon')),
    form(async () => {
      try {
        await api('POST', '/api/v1/auth/logout');
        state.session = null;
        state.csrf = null;
        await done();
      } catch (e) {
        page('oidc.logout.title', [h('p', {}, problemText(e))]);
      }
    }, button('oidc.logout.yes')),
    h('p', {}, link('#/account', 'oidc.logout.no')),
  ]);
}

addRoutes({ '/oidc': pageOidc, '/oidc/logout': pageOidcLogout });
