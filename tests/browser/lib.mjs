// Helpers of the browser test: counting results, TOTP codes, and node-side
// calls to the demo (an institution's consultation, a bearer session).
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

export const results = { passed: 0, failed: 0 };

export function check(name, ok, detail = '') {
  if (ok) { results.passed++; console.log(`ok   - ${name}`); }
  else { results.failed++; console.log(`FAIL - ${name}${detail ? ` (${detail})` : ''}`); }
}

// RFC 6238 with SHA-1, 30-second steps, 6 digits, as the demo's keys are.
export function totp(base32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '').toUpperCase())
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = crypto.createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, '0');
}

// The secret of an otpauth:// URI.
export function otpauthSecret(uri) {
  return new URL(uri).searchParams.get('secret');
}

export class Demo {
  constructor(dir) {
    this.dir = dir;
    this.m = JSON.parse(fs.readFileSync(path.join(dir, 'demo.json'), 'utf8'));
    this.ca = fs.readFileSync(path.join(dir, this.m.ca));
  }

  file(rel) { return path.join(this.dir, rel); }
  person(username) { return this.m.persons.find((p) => p.username === username); }

  // request(METHOD, URL, {body (JSON) or raw (text), headers, cert, key})
  //   -> {status, headers, body}
  request(method, url, opt = {}) {
    return new Promise((resolve, reject) => {
      const data = opt.raw ?? (opt.body === undefined ? null : JSON.stringify(opt.body));
      const req = https.request(url, {
        method, ca: this.ca,
        cert: opt.cert && fs.readFileSync(this.file(opt.cert)),
        key: opt.key && fs.readFileSync(this.file(opt.key)),
        headers: { ...(data ? { 'Content-Type': 'application/json' } : {}), ...opt.headers },
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  // An institution (its KBO) consults a person's identification: an
  // entry of that person's access log.
  async consult(kbo, insz) {
    const inst = this.m.institutions.find((i) => i.kbo === kbo);
    const r = await this.request('POST', `${this.m.network_url}/api/v1/exchange`, {
      cert: inst.cert, key: inst.key,
      body: { data_type: 'identification', capacity: '001', purpose: 'health_insurance_rights', subject: insz },
    });
    return r.status === 200 ? JSON.parse(r.body).ticket : null;
  }

  async bearer(p) {
    const r = await this.request('POST', `${this.m.public_url}/api/v1/auth/login`,
      { body: { username: p.username, password: p.password } });
    return JSON.parse(r.body).token;
  }

  // The code the demo's mail or SMS sink (dirKey mail_dir or sms_dir)
  // received last for ADDRESS since SINCE (ms); the sinks write a moment
  // after the request, from the durable outbox.
  async codeSent(dirKey, address, since) {
    const dir = this.file(this.m[dirKey]);
    for (let i = 0; i < 100; i++) {
      // Whole messages only: a sink writes NAME.tmp and renames it, so a
      // .tmp may be half a message, or gone by the time it is read.
      const mtime = (f) => fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0;
      const files = fs.readdirSync(dir).filter((f) => !f.endsWith('.tmp'))
        .map((f) => path.join(dir, f))
        .filter((f) => mtime(f) >= since - 1000)
        .sort((a, b) => mtime(b) - mtime(a));
      for (const f of files) {
        const text = fs.readFileSync(f, 'utf8');
        const m = text.includes(address) && text.match(/\b(?:is|est|lautet) (\d{6,8})\b/);
        if (m) return m[1];
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  }
}
