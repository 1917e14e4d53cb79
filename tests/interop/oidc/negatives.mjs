// The refusals of the OpenID Foundation's Basic OP test plan, against the
// running demo: what a provider must not do for a wrong redirect URI, a
// reused or expired code, a missing PKCE challenge, a wrong client secret,
// a nonce that is not the client's, and alg none. openid-client plays the
// client where it has a say (the nonce, the ID token's checks); plain
// HTTPS where the test must see the provider's own answer.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as client from 'openid-client';
import { check } from '../../browser/lib.mjs';
import { PUB, demo, jan } from '../../browser/kit.mjs';

const RP = 'https://neg-rp.example';
const CB = `${RP}/cb`;
const SCOPE = 'openid profile';
const CODE_TTL_S = Number(process.env.KRUISPUNT_OIDC_CODE_TTL_S || 60);
const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

let secret = null;
let bearer = null;

function register(id, ...extra) {
  const out = execFileSync(process.env.KRUISPUNT, ['oidc', 'client', 'add', '--data', demo.dir, '--id', id,
    '--name', `${id} (interop test)`, '--kbo', '0412345614', '--redirect-uri', CB, '--scopes', SCOPE, ...extra],
  { encoding: 'utf8' });
  return JSON.parse(out).client_secret ?? null;
}

function authorizeUrl(params) {
  return `${PUB}/oidc/authorize?${new URLSearchParams({ response_type: 'code', scope: SCOPE, redirect_uri: CB, ...params })}`;
}

// A code for clientId without a browser: the request, then Jan's answer
// as the portal's page gives it (his session, the request's binding
// cookie). Level 200 (password) is what these clients need.
async function codeFor(clientId, extra = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const r = { verifier, nonce: client.randomNonce(), state: client.randomState() };
  const a = await demo.request('GET', authorizeUrl({
    client_id: clientId, state: r.state, nonce: r.nonce, code_challenge_method: 'S256',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), ...extra,
  }));
  const id = new URL(a.headers.location, PUB).hash.match(/request=([0-9a-f]+)/)?.[1];
  const binding = a.headers['set-cookie']?.join(';').match(/__Host-kp_oidc=([^;]+)/)?.[1];
  bearer ??= await demo.bearer(jan);
  const c = await demo.request('POST', `${PUB}/api/v1/oidc/requests/${id}/continue`,
    { headers: { Authorization: `Bearer ${bearer}`, Cookie: `__Host-kp_oidc=${binding}` } });
  if (c.status !== 200) throw new Error(`continue: ${c.status} ${c.body}`);
  r.callback = new URL(JSON.parse(c.body).redirect);
  r.code = r.callback.searchParams.get('code');
  r.at = Date.now();
  return r;
}

const token = (params, headers = {}) => demo.request('POST', `${PUB}/oidc/token`,
  { raw: new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: CB, ...params }).toString(),
    headers: { ...form, ...headers } });
const basic = (id, s) => ({ Authorization: `Basic ${Buffer.from(`${id}:${s}`).toString('base64')}` });
const json = (r) => { try { return JSON.parse(r.body); } catch { return {}; } };

// Registered first and given a code before the other tests, so that the
// wait past its expiry overlaps them.
export async function codeExpiring() {
  secret = register('neg-rp');
  return codeFor('neg-rp');
}

async function redirectUris() {
  const q = { client_id: 'neg-rp', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' };
  const wrong = await demo.request('GET', authorizeUrl({ ...q, redirect_uri: 'https://evil.example/cb' }));
  check('basic-op: an unregistered redirect URI is a 400, never a redirect',
    wrong.status === 400 && !wrong.headers.location, `${wrong.status} ${wrong.headers.location}`);
  const near = await demo.request('GET', authorizeUrl({ ...q, redirect_uri: `${CB}/` }));
  check('basic-op: a redirect URI is compared exactly (a trailing slash is another URI)',
    near.status === 400 && !near.headers.location);
  const unknown = await demo.request('GET', authorizeUrl({ ...q, client_id: 'nobody' }));
  check('basic-op: an unknown client is a 400, never a redirect', unknown.status === 400 && !unknown.headers.location);
  const noPkce = await demo.request('GET', authorizeUrl({ client_id: 'neg-rp', state: 'st8' }));
  const back = new URL(noPkce.headers.location ?? 'about:blank');
  check('basic-op: without PKCE the client gets error=invalid_request at its redirect URI, with its state',
    noPkce.status === 302 && back.href.startsWith(`${CB}?`) && back.searchParams.get('error') === 'invalid_request'
    && back.searchParams.get('state') === 'st8', noPkce.headers.location);
}

async function reusedCode(config) {
  const r = await codeFor('neg-rp');
  const checks = { pkceCodeVerifier: r.verifier, expectedNonce: r.nonce, expectedState: r.state };
  const first = await client.authorizationCodeGrant(config, r.callback, checks);
  const ok = await client.fetchUserInfo(config, first.access_token, first.claims().sub);
  check('basic-op: the code gives tokens, and the access token reads userinfo', ok.sub === first.claims().sub);
  let err = null;
  await client.authorizationCodeGrant(config, r.callback, checks).catch((e) => { err = e; });
  check('basic-op: a code used twice is invalid_grant', err?.error === 'invalid_grant', err?.message);
  const after = await demo.request('GET', `${PUB}/oidc/userinfo`, { headers: { Authorization: `Bearer ${first.access_token}` } });
  check('basic-op: and the access token of its first use is revoked', after.status === 401, after.body);
}

async function wrongSecret(config) {
  const r = await codeFor('neg-rp');
  const bad = await token({ code: r.code, code_verifier: r.verifier }, basic('neg-rp', 'f'.repeat(64)));
  check('basic-op: a wrong client secret is 401 invalid_client, with WWW-Authenticate',
    bad.status === 401 && json(bad).error === 'invalid_client' && /^Basic/.test(bad.headers['www-authenticate'] ?? ''),
    `${bad.status} ${bad.body}`);
  const wrong = await discover('neg-rp', client.ClientSecretBasic('0'.repeat(64)));
  let err = null;
  await client.authorizationCodeGrant(wrong, r.callback, { pkceCodeVerifier: r.verifier, expectedNonce: r.nonce,
    expectedState: r.state }).catch((e) => { err = e; });
  check('basic-op: openid-client with a wrong secret is refused with 401', err?.status === 401, err?.message);
  const t = await client.authorizationCodeGrant(config, r.callback,
    { pkceCodeVerifier: r.verifier, expectedNonce: r.nonce, expectedState: r.state });
  check('basic-op: the refusals used nothing up: the right secret still trades the code', !!t.id_token);
}

async function nonceMismatch(config) {
  const r = await codeFor('neg-rp');
  let err = null;
  await client.authorizationCodeGrant(config, r.callback, { pkceCodeVerifier: r.verifier,
    expectedNonce: client.randomNonce(), expectedState: r.state }).catch((e) => { err = e; });
  check('basic-op: openid-client refuses an ID token whose nonce is not the one it sent',
    err?.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && err.cause?.cause?.claim === 'nonce',
    `${err?.message}: ${err?.cause?.message}`);
}

async function algNone() {
  const d = JSON.parse((await demo.request('GET', `${PUB}/.well-known/openid-configuration`)).body);
  const jwks = JSON.parse((await demo.request('GET', `${PUB}/oidc/jwks`)).body);
  const only = (list) => Array.isArray(list) && list.length > 0 && list.every((a) => a === 'ES256' || a === 'RS256');
  check('basic-op: discovery offers ID tokens and assertions signed ES256 or RS256 only (no none, no HMAC)',
    only(d.id_token_signing_alg_values_supported) && only(d.token_endpoint_auth_signing_alg_values_supported));
  check('basic-op: the JWKS holds EC and RSA keys for ES256 and RS256 only, no secret ones',
    only(jwks.keys.map((k) => k.alg)) && jwks.keys.every((k) => (k.kty === 'EC' || k.kty === 'RSA') && !k.d));
  const keys = await crypto.webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const pub = { ...(await crypto.webcrypto.subtle.exportKey('jwk', keys.publicKey)), kid: 'interop-1', alg: 'ES256', use: 'sig' };
  const file = path.join(demo.dir, 'jwt-rp.jwks');
  fs.writeFileSync(file, JSON.stringify({ keys: [pub] }));
  register('jwt-rp', '--auth-method', 'private_key_jwt', '--jwks', file);
  const r = await codeFor('jwt-rp');
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: 'jwt-rp', sub: 'jwt-rp', aud: d.token_endpoint, jti: crypto.randomUUID(), iat: now, exp: now + 60 };
  const none = await token({ code: r.code, code_verifier: r.verifier, client_id: 'jwt-rp',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.` });
  check('basic-op: a private_key_jwt assertion with alg none is 401 invalid_client',
    none.status === 401 && json(none).error === 'invalid_client', `${none.status} ${none.body}`);
  const config = await discover('jwt-rp', client.PrivateKeyJwt({ key: keys.privateKey, kid: 'interop-1' }));
  const t = await client.authorizationCodeGrant(config, r.callback,
    { pkceCodeVerifier: r.verifier, expectedNonce: r.nonce, expectedState: r.state });
  const alg = JSON.parse(Buffer.from(t.id_token.split('.')[0], 'base64url')).alg;
  check('basic-op: the same code, with openid-client\'s ES256 assertion, gives an ES256-signed ID token', alg === 'ES256', alg);
}

async function expiredCode(config, r) {
  const wait = r.at + (CODE_TTL_S + 2) * 1000 - Date.now();
  if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  let err = null;
  await client.authorizationCodeGrant(config, r.callback,
    { pkceCodeVerifier: r.verifier, expectedNonce: r.nonce, expectedState: r.state }).catch((e) => { err = e; });
  check(`basic-op: a code older than oidc.code_ttl_s (${CODE_TTL_S} s) is invalid_grant`,
    err?.error === 'invalid_grant', err?.message);
}

export function discover(id, auth) {
  return client.discovery(new URL(PUB), id, undefined, auth);
}

export async function negatives(expiring) {
  const config = await discover('neg-rp', client.ClientSecretBasic(secret));
  await redirectUris();
  await reusedCode(config);
  await wrongSecret(config);
  await nonceMismatch(config);
  await algNone();
  await expiredCode(config, expiring);
}
