// kruispunt's OpenID Provider against relying parties nobody here wrote
// (ctest interop_oidc; tests/browser/run.mjs starts the demo and runs this
// with the demo's directory):
//   1. Apache httpd with mod_auth_openidc (Debian's) protects a page; Jan
//      logs in through the portal with password and app code (level 400);
//      the page shows the claims mod_auth_openidc passed on;
//   2. panva's openid-client (pinned in package.json) does discovery, the
//      code flow with PKCE at level 500, which Jan answers with his eID,
//      the token exchange (ID token signature, nonce, state, iss) and
//      userinfo;
//   3. the refusals of the OpenID Foundation's Basic OP test plan.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import * as client from 'openid-client';
import { check, results, totp } from '../../browser/lib.mjs';
import { PUB, EID, demo, jan, newPage, settle, submit, passwordLogin, withBrowser } from '../../browser/kit.mjs';
import { startApache, versions } from './apache.mjs';
import { codeExpiring, discover, negatives } from './negatives.mjs';

const ACR = (level) => `urn:be:fedict:iam:fas:Level${level}`;
const SCOPE = 'openid profile egovnrn';

// `kruispunt oidc client add`, as an operator registers one; its secret,
// or null for a private_key_jwt client.
function register(id, redirectUri, ...extra) {
  const out = execFileSync(process.env.KRUISPUNT, ['oidc', 'client', 'add', '--data', demo.dir, '--id', id,
    '--name', `${id} (interop test)`, '--kbo', '0412345614', '--redirect-uri', redirectUri, '--scopes', SCOPE,
    ...extra], { encoding: 'utf8' });
  return JSON.parse(out).client_secret ?? null;
}

// The browser's visits to a relying party that is not a real site are
// answered here; the last URL is kept.
async function catchRedirect(page, origin) {
  let got = null;
  await page.route(`${origin}/**`, (route) => { got = route.request().url(); route.fulfill({ status: 200, body: 'ok' }); });
  return () => got;
}

async function apacheJourney(browser, apache) {
  check('apache: runs as an unprivileged user, on its own configuration', apache.uid > 0, `uid ${apache.uid}`);
  const page = await newPage(browser);
  await page.goto(`${apache.url}/claims`);
  await settle(page);
  check('apache: the protected page sends the browser to the portal\'s page for the request',
    page.url().startsWith(`${PUB}/#/oidc?request=`), page.url());
  await submit(page, '#oidc-login');
  await passwordLogin(page, jan);
  check('apache: Level400 in acr_values makes the portal ask for a second key', await page.isVisible('#oidc-step-up'));
  await submit(page, '#oidc-step-up');
  await page.check('input[value="totp"]');
  await submit(page);
  await page.fill('#code', totp(jan.totp_secret));
  await submit(page);
  await Promise.all([page.waitForURL(`${apache.url}/claims`), page.click('main form button[type="submit"]')]);
  const text = await page.textContent('body');
  const claims = Object.fromEntries(text.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  check('apache: mod_auth_openidc accepts the answer and shows the page', 'OIDC_CLAIM_sub' in claims, text.slice(0, 300));
  check('apache: egovNRN is Jan\'s national number', claims.OIDC_CLAIM_egovNRN === jan.insz, claims.OIDC_CLAIM_egovNRN);
  check('apache: acr is Level400', claims.OIDC_CLAIM_acr === ACR(400), claims.OIDC_CLAIM_acr);
  check('apache: givenName is Jan', claims.OIDC_CLAIM_givenName === 'Jan', claims.OIDC_CLAIM_givenName);
  await page.context().close();
}

async function eidJourney(browser) {
  const RP = 'https://node-rp.example';
  const secret = register('node-rp', `${RP}/cb`, '--auth-method', 'client_secret_post');
  const config = await discover('node-rp', client.ClientSecretPost(secret));
  check('openid-client: discovery names kruispunt as the issuer', config.serverMetadata().issuer === PUB);
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${RP}/cb`, scope: SCOPE, nonce, state, acr_values: ACR(500),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const page = await newPage(browser, {
    context: { clientCertificates: [{ origin: EID, certPath: demo.file(jan.eid_cert), keyPath: demo.file(jan.eid_key) }] },
  });
  const redirected = await catchRedirect(page, RP);
  await page.goto(url.href);
  await settle(page);
  // Without a session, for level 500 the page asks for the eID at once
  // (the one key of that level), not for any login first.
  check('openid-client: a level-500 request asks for the eID straight away', await page.isVisible('#oidc-eid'));
  await submit(page, '#oidc-eid');
  await page.click('#eid-start');
  await page.waitForURL(`${PUB}/#/oidc?request=*`);
  await settle(page);
  await Promise.all([page.waitForURL(`${RP}/**`), page.click('main form button[type="submit"]')]);
  await page.context().close();
  const tokens = await client.authorizationCodeGrant(config, new URL(redirected()),
    { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
  const c = tokens.claims();
  check('openid-client: the ID token passes its checks (signature, iss, aud, nonce, state)', !!c);
  check('openid-client: acr is Level500', c.acr === ACR(500), c.acr);
  check('openid-client: amr says smart card and PIN', c.amr?.includes('sc') && c.amr?.includes('pin'), JSON.stringify(c.amr));
  check('openid-client: egovNRN is Jan\'s', c.egovNRN === jan.insz);
  const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url'));
  check('openid-client: the ID token is signed ES256', header.alg === 'ES256', header.alg);
  const info = await client.fetchUserInfo(config, tokens.access_token, c.sub);
  check('openid-client: userinfo, for the same sub, names Jan', info.givenName === 'Jan' && info.egovNRN === jan.insz,
    JSON.stringify(info));
}

export function versionsLine(browser) {
  const { httpd, openidc } = versions();
  const oc = JSON.parse(fs.readFileSync(new URL('./node_modules/openid-client/package.json', import.meta.url))).version;
  return `# ${httpd}, mod_auth_openidc ${openidc}, openid-client ${oc}, Chromium ${browser.version()}`;
}

async function main() {
  const expiring = await codeExpiring();
  const apache = await startApache({
    cert: demo.file('pki/server.crt'), key: demo.file('pki/server.key'), ca: demo.file(demo.m.ca), issuer: PUB,
    clientId: 'apache-rp', register: (uri) => register('apache-rp', uri, '--min-level', '400'),
  });
  // Apache serves the demo server's certificate (it names 127.0.0.1 too),
  // so Chromium trusts the one key for both.
  await withBrowser(async (browser) => {
    console.log(versionsLine(browser));
    await apacheJourney(browser, apache);
    await eidJourney(browser);
    await negatives(expiring);
  });
  const failed = results.failed > 0;
  if (failed) console.error(apache.log());
  await apache.stop(failed);
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
