// An application sends Jan to kruispunt to log in (OpenID Connect): the
// test plays the application's server (PKCE, the token request), Chromium
// plays Jan. The application asks for level 400; Jan logs in with his
// password, confirms with his authenticator app, continues, and the
// application gets an ID token that says who he is at level 400. Then the
// refusals a person sees: a request that was answered, and "cancel".
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { check, totp } from './lib.mjs';
import {
  PUB, LANGS, catalogue, demo, jan, newPage, submit, settle, audit, setLanguage, fitsPhone, shoot, passwordLogin,
} from './kit.mjs';

const RP = 'https://rp.example';
const b64url = (buf) => Buffer.from(buf).toString('base64url');

function register() {
  const out = execFileSync(process.env.KRUISPUNT, ['oidc', 'client', 'add', '--data', demo.dir,
    '--id', 'browser-rp', '--name', 'MyPension (test)', '--kbo', '0412345614',
    '--redirect-uri', `${RP}/cb`, '--post-logout-uri', `${RP}/bye`, '--scopes', 'openid profile egovnrn', '--min-level', '400'], { encoding: 'utf8' });
  return JSON.parse(out).client_secret;
}

function authorizeUrl(extra = {}) {
  const verifier = b64url(crypto.randomBytes(32));
  const q = new URLSearchParams({
    client_id: 'browser-rp', redirect_uri: `${RP}/cb`, response_type: 'code', scope: 'openid profile egovnrn',
    state: b64url(crypto.randomBytes(8)), nonce: b64url(crypto.randomBytes(8)),
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
    acr_values: 'urn:be:fedict:iam:fas:Level400', ...extra,
  });
  return { url: `${PUB}/oidc/authorize?${q}`, verifier, state: q.get('state'), nonce: q.get('nonce') };
}

// The application's redirect URI is not a real site: the browser's visit
// there is answered by the test, which keeps the URL.
async function catchRedirect(page) {
  let got = null;
  await page.route(`${RP}/**`, (route) => { got = route.request().url(); route.fulfill({ status: 200, body: 'ok' }); });
  return () => got;
}

async function tokenRequest(secret, code, verifier) {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${RP}/cb`, code_verifier: verifier });
  const r = await demo.request('POST', `${PUB}/oidc/token`, {
    raw: body.toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`browser-rp:${secret}`).toString('base64')}` },
  });
  return { status: r.status, json: JSON.parse(r.body) };
}

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

export async function journeysOidc(browser) {
  const secret = register();
  const page = await newPage(browser);
  const redirected = await catchRedirect(page);
  const req = authorizeUrl();
  await page.goto(req.url);
  await settle(page);
  check('oidc: the application\'s request lands on the portal, named', (await page.textContent('h1')).includes('MyPension (test)'));
  check('oidc: it says what the application will learn', (await page.textContent('main')).includes(catalogue.nl['oidc.scope.egovnrn']));
  await audit(page, '#/oidc (nl, not logged in)');
  await fitsPhone(page, '#/oidc');
  for (const l of LANGS.filter((x) => x !== 'nl')) {
    await setLanguage(page, l);
    await audit(page, `#/oidc (${l}, not logged in)`);
  }
  await setLanguage(page, 'nl');
  await shoot(page, 'oidc-login');
  await submit(page, '#oidc-login');
  await passwordLogin(page, jan);
  check('oidc: after the password it comes back and asks for a second key', await page.isVisible('#oidc-step-up'));
  await audit(page, '#/oidc (nl, level 200)');
  await submit(page, '#oidc-step-up');
  await page.check('input[value="totp"]');
  await submit(page);
  await page.fill('#code', totp(jan.totp_secret));
  await submit(page);
  check('oidc: after the step-up it offers to continue', await page.isVisible('main form button[type="submit"]'));
  await audit(page, '#/oidc (nl, ready)');
  await shoot(page, 'oidc-continue');
  await Promise.all([page.waitForURL(`${RP}/**`), page.click('main form button[type="submit"]')]);
  const back = new URL(redirected());
  check('oidc: the browser goes back to the application with a code and its state',
    back.searchParams.get('code')?.length === 64 && back.searchParams.get('state') === req.state);
  check('oidc: and the issuer (RFC 9207)', back.searchParams.get('iss') === PUB);
  const t = await tokenRequest(secret, back.searchParams.get('code'), req.verifier);
  const c = t.status === 200 ? claimsOf(t.json.id_token) : {};
  check('oidc: the code gives an ID token', t.status === 200, JSON.stringify(t.json));
  check('oidc: at level 400, in the FAS form', c.acr === 'urn:be:fedict:iam:fas:Level400', c.acr);
  check('oidc: naming Jan by his national number, for egovnrn', c.egovNRN === jan.insz);
  check('oidc: with his names', c.givenName === 'Jan' && c.surname === 'Peeters');
  check('oidc: the nonce of the request', c.nonce === req.nonce);
  check('oidc: password and app code as amr', JSON.stringify(c.amr) === JSON.stringify(['pwd', 'otp', 'mfa']), JSON.stringify(c.amr));
  const again = await tokenRequest(secret, back.searchParams.get('code'), req.verifier);
  check('oidc: the code works once', again.status === 400 && again.json.error === 'invalid_grant');

  // The application logs Jan out (RP-initiated logout): he is asked, says
  // yes, and is back at the application's page, logged out of kruispunt.
  const out = new URLSearchParams({ id_token_hint: t.json.id_token, post_logout_redirect_uri: `${RP}/bye`, state: 'bye1' });
  await page.goto(`${PUB}/oidc/logout?${out}`);
  await settle(page);
  check('oidc: logout asks first, naming the application', (await page.textContent('main')).includes('MyPension (test)'));
  await audit(page, '#/oidc/logout (nl)');
  await Promise.all([page.waitForURL(`${RP}/**`), page.click('main form button[type="submit"]')]);
  const bye = new URL(redirected());
  check('oidc: then back to the application\'s registered page, with its state',
    bye.pathname === '/bye' && bye.searchParams.get('state') === 'bye1');
  const sess = await page.context().request.get(`${PUB}/api/v1/auth/session`, { headers: { 'Sec-Fetch-Site': 'same-origin' } });
  check('oidc: and the kruispunt session has ended', sess.status() === 401, String(sess.status()));

  // A request already answered, and one the person cancels.
  await page.goto(`${PUB}/#/oidc?request=${'0'.repeat(64)}`);
  await settle(page);
  check('oidc: an unknown request says so in Dutch', (await page.textContent('#oidc-unknown')).includes(catalogue.nl['error.unknown_request']));
  await audit(page, '#/oidc (unknown request)');
  const second = authorizeUrl();
  await page.goto(second.url);
  await settle(page);
  await Promise.all([page.waitForURL(`${RP}/**`), page.click('#oidc-cancel')]);
  const refused = new URL(redirected());
  check('oidc: cancel tells the application access_denied, with its state',
    refused.searchParams.get('error') === 'access_denied' && refused.searchParams.get('state') === second.state);
  await page.context().close();
}
