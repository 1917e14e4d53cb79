/*
 * TOTP keys (RFC 6238: 30 s, 6 digits, HMAC-SHA-1, one step either way)
 * with liboath. The secret is sealed at rest with the master key
 * (libsodium secretbox); enrolment hands the person an otpauth:// URI and
 * the same as a QR code (libqrencode, PNG by libpng) for an authenticator
 * app; a first code confirms the key. A code is accepted once: the time
 * counter of the last accepted code is kept, and only a later one passes.
 */
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <png.h>
#include <qrencode.h>
#include <sodium.h>

#include "auth/auth_internal.h"

#define TOTP_SECRET_LEN 20
#define TOTP_WINDOW 1
#define QR_SCALE 6
#define QR_BORDER 4

static const char sql_totp_add[] =
	"INSERT INTO credential (insz, type, status, secret, created_at) "
	"VALUES (?1, 'totp_app', ?4, ?2, ?3) RETURNING id";
/* Every active key: a person may use more than one authenticator app. */
static const char sql_totp_active[] =
	"SELECT id, status, secret, last_counter FROM credential WHERE "
	"insz = ?1 AND type = 'totp_app' AND status = 'active' ORDER BY id DESC";
static const char sql_totp_count[] =
	"SELECT count(*) FROM credential WHERE insz = ?1 AND type = 'totp_app' "
	"AND status IN ('active', 'pending')";
static const char sql_username[] =
	"SELECT username FROM account WHERE insz = ?1";
static const char sql_totp_get[] =
	"SELECT id, status, secret, last_counter FROM credential WHERE "
	"insz = ?1 AND type = 'totp_app' AND (?2 = 0 OR id = ?2) AND "
	"(?2 != 0 OR status = 'active') ORDER BY id DESC LIMIT 1";
/* Only a later code than the last accepted passes, also against a
 * request that checked the same code a moment earlier; a key deactivated
 * meanwhile stays so. */
static const char sql_totp_used[] =
	"UPDATE credential SET status = 'active', last_counter = ?2, "
	"failures = 0, last_used_at = ?3 WHERE id = ?1 AND last_counter < ?2 "
	"AND status IN ('active', 'pending')";

/* A key refers to its account. */
static const struct store_refusal no_account = {
	ERR_CONFLICT, "no_account", "a TOTP key needs an account"};

/* ------------------------------------------------------------- sealing */

size_t auth_seal(const struct auth *a, const uint8_t *in, size_t n,
		 uint8_t *out)
{
	_Static_assert(AUTH_SEAL_OVERHEAD == crypto_secretbox_NONCEBYTES +
						    crypto_secretbox_MACBYTES,
		       "the overhead of a sealed secret");
	rand_bytes(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, in, n, out,
			      a->opt.master_key);
	return AUTH_SEAL_OVERHEAD + n;
}

int auth_unseal(const struct auth *a, const uint8_t *in, size_t n,
		uint8_t *out, size_t cap)
{
	if (n < AUTH_SEAL_OVERHEAD || n - AUTH_SEAL_OVERHEAD > cap)
		return -1;
	return crypto_secretbox_open_easy(out, in + crypto_secretbox_NONCEBYTES,
					  n - crypto_secretbox_NONCEBYTES, in,
					  a->opt.master_key) == 0
		       ? (int)(n - AUTH_SEAL_OVERHEAD)
		       : -1;
}

/* ------------------------------------------------------------------ QR */

struct png_out {
	struct buf b;
};

static void png_write(png_structp png, png_bytep data, png_size_t n)
{
	struct png_out *o = png_get_io_ptr(png);
	if (buf_append(&o->b, data, n) != 0)
		png_error(png, "QR image too large");
}

static void png_flush(png_structp png)
{
	KP_UNUSED(png);
}

/* The QR code of text as a black-and-white PNG; the caller frees it. */
static uint8_t *qr_png(const char *text, size_t *len)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr)
		return NULL;
	int side = (qr->width + 2 * QR_BORDER) * QR_SCALE;
	struct png_out o;
	buf_init(&o.b, 1024 * 1024);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
						  NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	uint8_t *row = xcalloc((size_t)side, 1);
	uint8_t *volatile result = NULL;
	if (!info || setjmp(png_jmpbuf(png)))
		goto done;
	png_set_write_fn(png, &o, png_write, png_flush);
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 8,
		     PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < side; y++) {
		int my = y / QR_SCALE - QR_BORDER;
		for (int x = 0; x < side; x++) {
			int mx = x / QR_SCALE - QR_BORDER;
			bool dark = mx >= 0 && my >= 0 && mx < qr->width &&
				    my < qr->width &&
				    (qr->data[my * qr->width + mx] & 1);
			row[x] = dark ? 0 : 255;
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	result = (uint8_t *)buf_take(&o.b, len);
done:
	png_destroy_write_struct(&png, &info);
	free(row);
	buf_free(&o.b);
	QRcode_free(qr);
	return result;
}

/* ---------------------------------------------------------------- codes */

/* auth_totp_check with a time step of step seconds. */
static int totp_check(const uint8_t *secret, size_t n, const char *code,
		      int64_t now, int step, uint64_t *counter)
{
	if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return -1;
	int pos;
	int rc = oath_totp_validate4((const char *)secret, n, (time_t)now,
				     (unsigned)step, 0, TOTP_WINDOW, &pos,
				     counter, 0, code);
	return rc >= 0 ? 0 : -1;
}

int auth_totp_check(const uint8_t *secret, size_t n, const char *code,
		    int64_t now, uint64_t *counter)
{
	return totp_check(secret, n, code, now, AUTH_TOTP_STEP_S, counter);
}

/* A TOTP key with its sealed secret, as audit_commit runs it. */
struct totp_add {
	const char *insz, *status;
	const uint8_t *sealed;
	size_t n;
	int64_t id;
};

static int totp_add_change(struct store_conn *w, void *ctx,
			   struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct totp_add *c = ctx;
	/* Counted in the transaction, so two enrolments at once cannot both
	 * pass the limit. */
	struct store_stmt *st = store_prepare(w, sql_totp_count);
	store_bind_text(st, 1, c->insz);
	int64_t held = 0;
	if (store_one(st, store_read_int, &held, e) < 0)
		return -1;
	if (held >= LIMIT_TOTP_KEYS)
		return err_set(e, ERR_CONFLICT, "too_many_keys",
			       "at most %d authenticator apps; deactivate one "
			       "first", LIMIT_TOTP_KEYS);
	st = store_prepare(w, sql_totp_add);
	store_bind_text(st, 1, c->insz);
	store_bind_blob(st, 2, c->sealed, c->n);
	store_bind_int(st, 3, time_now());
	store_bind_text(st, 4, c->status);
	return store_insert(st, &c->id, &no_account, e) < 0 ? -1 : 0;
}

/* The otpauth:// URI of secret and its QR code as base64 PNG (the caller
 * frees both). Returns 0, or -1 with e. */
static int totp_uri(const uint8_t *secret, size_t n, const char *label,
		    int step, char **uri, char **png_base64, struct error *e)
{
	char *b32 = NULL;
	size_t b32len;
	if (oath_base32_encode((const char *)secret, n, &b32, &b32len) !=
	    OATH_OK)
		return err_set(e, ERR_INTERNAL, "auth_failed", "base32");
	*uri = xasprintf("otpauth://totp/kruispunt:%s?secret=%s&issuer=kruispunt"
			 "&algorithm=SHA1&digits=6&period=%d", label, b32,
			 step);
	secret_wipe(b32, b32len);
	free(b32);
	size_t png_len = 0;
	uint8_t *png = qr_png(*uri, &png_len);
	if (!png) {
		free(*uri);
		return err_set(e, ERR_INTERNAL, "auth_failed", "QR code");
	}
	size_t b64 = sodium_base64_encoded_len(png_len,
					       sodium_base64_VARIANT_ORIGINAL);
	*png_base64 = xmalloc(b64);
	sodium_bin2base64(*png_base64, b64, png, png_len,
			  sodium_base64_VARIANT_ORIGINAL);
	free(png);
	return 0;
}

static void read_username(struct store_stmt *st, void *out)
{
	str_copy(out, AUTH_USERNAME_MAX + 1, store_col_text(st, 0));
}

/* user as an app's label: its '@' percent-encoded (a username holds
 * a-z 0-9 . _ - @ only). */
static void label_of(const char *user, char *label, size_t n)
{
	size_t k = 0;
	for (const char *p = user; *p && k + 4 < n; p++)
		if (*p == '@')
			k += (size_t)snprintf(label + k, n - k, "%%40");
		else
			label[k++] = *p;
	label[k] = '\0';
}

/* The label an authenticator app shows: the username, its '@'
 * percent-encoded (a username holds a-z 0-9 . _ - @ only). Never the
 * national register number: the app and its backups are no place for it.
 * Returns 0, 1 when insz has no account, -1 with e. */
static int totp_label(struct auth *a, const char *insz, char *label,
		      size_t n, struct error *e)
{
	char user[AUTH_USERNAME_MAX + 1] = "";
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "try again");
	struct store_stmt *st = store_prepare(r, sql_username);
	store_bind_text(st, 1, insz);
	int rc = store_one(st, read_username, user, e);
	label_of(user, label, n);
	return rc;
}

int auth_totp_new(const struct auth *a, const char *username,
		  uint8_t sealed[AUTH_TOTP_SEALED_MAX], size_t *sn, char **uri,
		  char **png_base64, struct error *e)
{
	_Static_assert(TOTP_SECRET_LEN + crypto_secretbox_NONCEBYTES +
			       crypto_secretbox_MACBYTES <= AUTH_TOTP_SEALED_MAX,
		       "a sealed TOTP secret fits");
	char label[3 * AUTH_USERNAME_MAX + 1];
	uint8_t secret[TOTP_SECRET_LEN];
	label_of(username, label, sizeof(label));
	rand_bytes(secret, sizeof(secret));
	*sn = auth_seal(a, secret, sizeof(secret), sealed);
	int rc = totp_uri(secret, sizeof(secret), label, a->opt.totp_step_s,
			  uri, png_base64, e);
	secret_wipe(secret, sizeof(secret));
	return rc;
}

int auth_totp_sealed_check(const struct auth *a, const uint8_t *sealed,
			   size_t n, const char *code, int64_t *counter)
{
	uint8_t secret[TOTP_SECRET_LEN];
	uint64_t c = 0;
	int len = auth_unseal(a, sealed, n, secret, sizeof(secret));
	int rc = len > 0 ? totp_check(secret, (size_t)len, code, time_now(),
				      a->opt.totp_step_s, &c)
			 : -1;
	secret_wipe(secret, sizeof(secret));
	*counter = (int64_t)c;
	return rc;
}

int auth_totp_enrol(struct auth *a, const struct audit_actor *by,
		    const char *insz, int level, int64_t *id, char **uri,
		    char **png_base64, struct error *e)
{
	struct audit_event ev = auth_event(by, insz, "key_create", "totp_app");
	char label[3 * AUTH_USERNAME_MAX + 1];
	if (auth_level_refusal(a, "totp_app", level, e))
		return audit_refused(a->log, &ev, e);
	int rc = totp_label(a, insz, label, sizeof(label), e);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		err_set(e, ERR_CONFLICT, "no_account",
			"a TOTP key needs an account");
		return audit_refused(a->log, &ev, e);
	}
	uint8_t secret[TOTP_SECRET_LEN];
	uint8_t sealed[TOTP_SECRET_LEN + crypto_secretbox_NONCEBYTES +
		       crypto_secretbox_MACBYTES];
	rand_bytes(secret, sizeof(secret));
	size_t sn = auth_seal(a, secret, sizeof(secret), sealed);
	rc = totp_uri(secret, sizeof(secret), label, a->opt.totp_step_s, uri,
		      png_base64, e);
	secret_wipe(secret, sizeof(secret));
	if (rc != 0)
		return -1;
	struct totp_add c = {insz, "pending", sealed, sn, 0};
	if (audit_commit(a->log, &ev, 1, totp_add_change, &c, e) != 0) {
		free(*uri);
		free(*png_base64);
		return -1;
	}
	*id = c.id;
	return 0;
}

int auth_totp_key_add(struct auth *a, const struct audit_actor *by,
		      const char *insz, const uint8_t *secret, size_t n,
		      struct error *e)
{
	uint8_t sealed[TOTP_SECRET_LEN + crypto_secretbox_NONCEBYTES +
		       crypto_secretbox_MACBYTES];
	struct audit_event ev = auth_event(by, insz, "key_create", "totp_app");
	if (n == 0 || n > TOTP_SECRET_LEN) {
		err_set(e, ERR_INVALID, "invalid_field", "TOTP secret");
		return audit_refused(a->log, &ev, e);
	}
	size_t sn = auth_seal(a, secret, n, sealed);
	struct totp_add c = {insz, "active", sealed, sn, 0};
	return audit_commit(a->log, &ev, 1, totp_add_change, &c, e);
}

struct totp_key {
	int64_t id;
	char status[16];
	int64_t last_counter;
	uint8_t secret[TOTP_SECRET_LEN];
	int secret_len;
};

/* A TOTP key row, unsealed with the master key. */
struct totp_row {
	const struct auth *a;
	struct totp_key *k;
};

static void read_totp(struct store_stmt *st, void *row)
{
	struct totp_row *t = row;
	struct totp_key *k = t->k;
	size_t n;
	const uint8_t *sealed = store_col_blob(st, 2, &n);
	k->id = store_col_int(st, 0);
	str_copy(k->status, sizeof(k->status), store_col_text(st, 1));
	k->last_counter = store_col_int(st, 3);
	k->secret_len = auth_unseal(t->a, sealed, n, k->secret,
			       sizeof(k->secret));
}

/* id 0: the person's active TOTP key. Returns 0, 1 when none, -1 with e. */
static int load_totp(struct auth *a, const char *insz, int64_t id,
		     struct totp_key *k, struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "try again");
	struct store_stmt *st = store_prepare(r, sql_totp_get);
	store_bind_text(st, 1, insz);
	store_bind_int(st, 2, id);
	struct totp_row row = {a, k};
	int rc = store_one(st, read_totp, &row, e);
	/* A secret sealed under another master key cannot be used. */
	if (rc == 0 && k->secret_len < 0)
		return store_fail(e, "try again");
	return rc;
}

/* Check code against k now: p says whether it is good (a later time step
 * than the last accepted) and how to remember its counter; a wrong one
 * counts towards the lock of an active key when p is committed. */
static void totp_proof(const struct auth *a, struct totp_key *k,
		       const char *code, struct auth_proof *p)
{
	uint64_t counter = 0;
	int ok = totp_check(k->secret, (size_t)k->secret_len, code, time_now(),
			    a->opt.totp_step_s, &counter);
	secret_wipe(k->secret, sizeof(k->secret));
	p->key_id = k->id;
	p->valid = ok == 0 && (int64_t)counter > k->last_counter;
	p->wrong = ok != 0 ? "the code is wrong or too old"
			   : "this code was used already";
	p->use_sql = sql_totp_used;
	p->use_id = k->id;
	p->use_num = (int64_t)counter;
}

int auth_totp_confirm(struct auth *a, const struct audit_actor *by,
		      const char *insz, int level, int64_t id,
		      const char *code, struct error *e)
{
	struct audit_event ev = auth_event(by, insz, "key_confirm", "totp_app");
	struct totp_key k;
	/* The session may have lost the key that raised it since the
	 * enrolment: the rule holds when the key starts to count. */
	if (auth_level_refusal(a, "totp_app", level, e))
		return audit_refused(a->log, &ev, e);
	int rc = load_totp(a, insz, id, &k, e);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		err_set(e, ERR_NOT_FOUND, "unknown_key",
			"you have no TOTP key with this id");
		return audit_refused(a->log, &ev, e);
	}
	if (strcmp(k.status, "pending") != 0) {
		secret_wipe(k.secret, sizeof(k.secret));
		err_set(e, ERR_CONFLICT, "already_confirmed",
			"this key is not waiting for confirmation");
		return audit_refused(a->log, &ev, e);
	}
	struct auth_proof p = {.insz = insz, .key_type = "totp_app"};
	totp_proof(a, &k, code, &p);
	return auth_proof_commit(a, &ev, &p, e);
}

int auth_totp_proof(struct auth *a, const char *insz, const char *code,
		    struct auth_proof *p, struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "try again");
	struct store_stmt *st = store_prepare(r, sql_totp_active);
	store_bind_text(st, 1, insz);
	struct totp_key k;
	struct totp_row row = {a, &k};
	int found = 0;
	enum store_rc step = STORE_DONE;
	/* A code of any of the person's apps steps up; one that none
	 * accepts counts against the newest key, as with a single app. */
	while (!p->valid && (step = store_step(st)) == STORE_ROW) {
		read_totp(st, &row);
		if (k.secret_len < 0)
			continue; /* sealed under another master key */
		struct auth_proof q = *p;
		totp_proof(a, &k, code, &q);
		if (found++ == 0 || q.valid)
			*p = q;
	}
	store_done(st);
	/* A read that failed half-way proves nothing either way: no failure
	 * is counted against a key that was never compared. */
	if (step != STORE_ROW && step != STORE_DONE)
		return store_fail(e, "try again");
	return found ? 0 : 1;
}
