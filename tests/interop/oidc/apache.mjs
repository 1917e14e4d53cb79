// An Apache httpd of the test's own, with mod_auth_openidc as the relying
// party of the demo: its own ServerRoot and configuration in a scratch
// directory, on a free loopback port, in the foreground, never the
// system's service or /etc/apache2. Behind it, one protected CGI script
// that prints the OIDC_CLAIM_* variables mod_auth_openidc sets.
import crypto from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const MODULES = '/usr/lib/apache2/modules';
// Debian's mods-available/*.load name these; auth_openidc depends on
// setenvif, mime and socache_shmcb, ssl on socache_shmcb.
const LOAD = [
  ['mpm_prefork_module', 'mod_mpm_prefork.so'], ['authn_core_module', 'mod_authn_core.so'],
  ['authz_core_module', 'mod_authz_core.so'], ['authz_user_module', 'mod_authz_user.so'],
  ['alias_module', 'mod_alias.so'],
  ['mime_module', 'mod_mime.so'], ['setenvif_module', 'mod_setenvif.so'],
  ['socache_shmcb_module', 'mod_socache_shmcb.so'], ['ssl_module', 'mod_ssl.so'],
  ['cgi_module', 'mod_cgi.so'],
  ['auth_openidc_module', 'mod_auth_openidc.so'],
];

export const APACHE = '/usr/sbin/apache2';

export function versions() {
  const httpd = execFileSync(APACHE, ['-v'], { encoding: 'utf8' }).match(/Apache\/\S+/)?.[0] ?? '?';
  let openidc = '?';
  try {
    openidc = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libapache2-mod-auth-openidc'], { encoding: 'utf8' });
  } catch { /* not from Debian's package: the error log names it */ }
  return { httpd, openidc };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// The claims page: every OIDC_CLAIM_* variable, one "name=value" a line.
const CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
env | grep '^OIDC_CLAIM_' | sort
`;

function config(o) {
  const q = (s) => `"${s.replace(/["\\]/g, '\\$&')}"`;
  return [
    ...LOAD.map(([m, f]) => `LoadModule ${m} ${MODULES}/${f}`),
    `ServerRoot ${q(o.dir)}`, `DefaultRuntimeDir ${q(o.dir)}`, `PidFile ${q(path.join(o.dir, 'httpd.pid'))}`,
    `Mutex file:${o.dir} default`, `ServerName 127.0.0.1`,
    `ErrorLog ${q(path.join(o.dir, 'error.log'))}`, 'LogLevel warn auth_openidc:info',
    'StartServers 2', 'MinSpareServers 1', 'MaxSpareServers 4',
    `Listen 127.0.0.1:${o.port} https`,
    `SSLSessionCache shmcb:${path.join(o.dir, 'ssl_scache')}(512000)`,
    `<VirtualHost 127.0.0.1:${o.port}>`,
    '  SSLEngine on',
    `  SSLCertificateFile ${q(o.cert)}`, `  SSLCertificateKeyFile ${q(o.key)}`,
    `  ScriptAlias /claims ${q(path.join(o.dir, 'claims.sh'))}`,
    `  OIDCProviderMetadataURL ${o.issuer}/.well-known/openid-configuration`,
    `  OIDCCABundlePath ${q(o.ca)}`, '  OIDCSSLValidateServer On',
    `  OIDCClientID ${o.clientId}`, `  OIDCClientSecret ${o.secret}`,
    `  OIDCRedirectURI ${o.redirectUri}`,
    `  OIDCCryptoPassphrase ${crypto.randomBytes(24).toString('hex')}`,
    '  OIDCScope "openid profile egovnrn"',
    '  OIDCAuthRequestParams acr_values=urn:be:fedict:iam:fas:Level400',
    '  OIDCPKCEMethod S256',
    '  OIDCPassClaimsAs environment',
    '  <Location />',
    '    AuthType openid-connect',
    '    Require valid-user',
    '  </Location>',
    '</VirtualHost>',
    '',
  ].join('\n');
}

// Who Apache runs as: the test's own user, or nobody when that is root
// (CI), so that Apache never holds a privilege.
function runAs() {
  if (process.getuid() !== 0) return {};
  const id = (flag) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }));
  return { uid: id('-u'), gid: id('-g') };
}

// Starts Apache (o: cert, key, ca, issuer, clientId, and register, which
// registers the client for a redirect URI and returns its secret); resolves
// to {url, redirectUri, stop(), log()} once it listens. Its directory is
// one of its own, the only one it writes to.
export async function startApache(o) {
  const as = runAs();
  o.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-apache.'));
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const redirectUri = `${url}/redirect_uri`;
  o.secret = o.register(redirectUri);
  fs.writeFileSync(path.join(o.dir, 'claims.sh'), CGI, { mode: 0o755 });
  fs.writeFileSync(path.join(o.dir, 'mime.types'), ''); // mod_mime's, none needed
  for (const f of ['cert', 'key', 'ca']) {
    const copy = path.join(o.dir, `${f}.pem`);
    fs.copyFileSync(o[f], copy);
    o[f] = copy;
  }
  const conf = path.join(o.dir, 'httpd.conf');
  fs.writeFileSync(conf, config({ ...o, port, redirectUri }), { mode: 0o600 });
  const err = fs.openSync(path.join(o.dir, 'stderr.log'), 'w');
  if (as.uid !== undefined)
    for (const f of ['', ...fs.readdirSync(o.dir)]) fs.chownSync(path.join(o.dir, f), as.uid, as.gid);
  const child = spawn(APACHE, ['-f', conf, '-DFOREGROUND'], { stdio: ['ignore', err, err], ...as });
  const log = () => ['stderr.log', 'error.log'].map((f) => {
    try { return fs.readFileSync(path.join(o.dir, f), 'utf8'); } catch { return ''; }
  }).join('');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`apache2 exited ${child.exitCode}: ${log()}`);
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async (keep) => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
    if (!keep) fs.rmSync(o.dir, { recursive: true, force: true });
  };
  const uid = Number(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1]);
  return { url, redirectUri, uid, stop, log };
}
