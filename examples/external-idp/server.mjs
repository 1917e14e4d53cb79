// An external OpenID Provider for kruispunt's demo and tests (docs/OIDC.md,
// "External keys by federation"): panva's oidc-provider, standing in for
// itsme or MyGov.be. kruispunt is its one client ("kruispunt",
// client_secret_basic, PKCE S256). Its login page is oidc-provider's own
// development page: any login name is accepted, and the name typed is the
// person's national number (INSZ), given back in the ID token as the
// claim egovNRN. A demo, never a provider to trust.
//
//   node server.mjs PORT CERT KEY SECRET_FILE
//
// Listens on 127.0.0.1:PORT (0: a free port) over TLS with CERT and KEY
// (the demo's server certificate, for localhost, from the demo's CA, so
// that kruispunt verifies it), and prints "listening on N" once ready.
import fs from 'node:fs';
import https from 'node:https';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [port, certFile, keyFile, secretFile] = process.argv.slice(2);
if (!secretFile) {
  console.error('usage: node server.mjs PORT CERT KEY SECRET_FILE');
  process.exit(2);
}
const secret = fs.readFileSync(secretFile, 'utf8').trim();
const CALLBACK = '/api/v1/auth/federation/callback';

const server = https.createServer({
  cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile),
});
server.listen(Number(port), '127.0.0.1', () => {
  const actual = server.address().port;
  const provider = new Provider(`https://localhost:${actual}`, {
    clients: [{
      client_id: 'kruispunt',
      client_secret: secret,
      redirect_uris: [`https://localhost:8443${CALLBACK}`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // The national number is a claim of its own, asked for by name
    // (the claims parameter), as kruispunt does.
    claims: { openid: ['sub'], egovNRN: null },
    features: {
      devInteractions: { enabled: true },
      claimsParameter: { enabled: true },
    },
    pkce: { methods: ['S256'], required: () => true },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() { return { sub: id, egovNRN: id }; },
      };
    },
  });
  // kruispunt's demo listens wherever the kernel gave it a port: any
  // loopback address's callback is this client's (a demo's liberty; a
  // real provider registers the one URI exactly).
  const allowed = provider.Client.prototype.redirectUriAllowed;
  provider.Client.prototype.redirectUriAllowed = function (value) {
    try {
      const u = new URL(value);
      if (u.protocol === 'https:' && u.pathname === CALLBACK
          && ['localhost', '127.0.0.1'].includes(u.hostname) && !u.search) return true;
    } catch { /* not a URL: the original check refuses it */ }
    return allowed.call(this, value);
  };
  server.on('request', provider.callback());
  // The demo reads this one line and closes the pipe: everything else
  // oidc-provider says goes to stderr.
  process.stdout.write(`listening on ${actual}\n`);
});
process.stdout.on('error', () => {});
console.log = console.info = console.warn = (...a) => console.error(...a);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
