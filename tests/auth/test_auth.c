/* Accounts, password login with lockout, sessions and their lifetimes,
 * certificate login, keys, and the key types and applications as data;
 * the events each change records, and that a change whose event cannot
 * be written leaves nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <liboath/oath.h>
#include <sodium.h>

#include "org/org.h"
#include "support/support.h"
#include "auth/auth.h"
#include "auth/auth_internal.h" /* the session cache, emptied */
#include "notify/notify.h"
#include "registry/registry.h"

static struct ts_store tmp;
static struct store *s;
static struct auth *a;

#define JAN "85073003328"
/* A session opened with an eID: it may add any key. */
#define EID_LEVEL 500

/* The person at the portal, as src/api names them before a login. */
static const struct audit_actor citizen = {AUDIT_CHANNEL_API, NULL, NULL,
					   "self"};

static int setup(void **state)
{
	(void)state;
	struct error e;
	/* Lifetimes are checked to the second on the test clock, from a
	 * whole second, without sleeping. */
	ts_clock_start();
	if (ts_store_open(&tmp, "auth") != 0)
		return -1;
	s = tmp.s;
	/* The smallest Argon2id libsodium allows: the tests check logic,
	 * bench/auth measures cost. */
	struct auth_options o = {.argon2_ops = crypto_pwhash_OPSLIMIT_MIN,
				 .argon2_mem = crypto_pwhash_MEMLIMIT_MIN,
				 .max_failures = 3,
				 .max_code_failures = 3,
				 .session_absolute_s = 3600,
				 .session_idle_s = 2};
	rand_bytes(o.master_key, sizeof(o.master_key));
	if (auth_open(tmp.log, &o, &a, &e) != 0)
		return -1;
	return ts_person(tmp.log, "85073003328", "Peeters", "Jan", "", &e);
}

static int teardown(void **state)
{
	(void)state;
	auth_close(a);
	clock_reset();
	return ts_store_close(&tmp);
}

/* The events about Jan recorded since mark (audit_size before), each
 * {action, outcome, reason, purpose}; all on the person's own
 * authentication, by Jan at the portal. */
static void expect_events(uint64_t mark, size_t nwant,
			  const char *const want[][4])
{
	struct audit_filter f = {.subject = JAN, .limit = 100,
				 .after = mark ? mark - 1 : 0,
				 .has_after = mark > 0};
	/* Set, and the loop bound by nwant too: the analyzer does not know
	 * that a failed assertion ends the test, and would follow a failed
	 * query or a wrong count into the loop. */
	struct audit_record *ev = NULL;
	int n = 0;
	bool more;
	uint64_t next;
	struct error e;
	assert_int_equal(audit_query(tmp.log, &f, &ev, &n, &more, &next, &e),
			 0);
	assert_int_equal(n, (int)nwant);
	for (int i = 0; i < n && i < (int)nwant; i++) {
		assert_string_equal(ev[i].action, want[i][0]);
		assert_string_equal(ev[i].outcome, want[i][1]);
		assert_string_equal(ev[i].reason, want[i][2]);
		assert_string_equal(ev[i].purpose, want[i][3]);
		assert_string_equal(ev[i].data_type, "authentication");
		assert_string_equal(ev[i].channel, "api");
		assert_string_equal(ev[i].user, JAN);
		assert_string_equal(ev[i].profile, "self");
	}
	free(ev);
}

/* Jan logs in as jan.peeters: 0, or -1 with e. */
static int jan_login(char token[TOKEN_HEX_LEN], const char *password,
		     struct error *e)
{
	char insz[INSZ_BUF];
	struct auth_session ses;
	enum auth_failure why;
	return auth_login_password(a, &citizen, "jan.peeters", password, token,
				   &ses, &why, insz, e);
}

/* A fresh session of Jan's (user "jan") stepped up with an e-mail code:
 * the result of auth_step_up. */
static int email_step_up(const char *code, struct error *e)
{
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses;
	enum auth_failure why;
	int level;
	assert_int_equal(auth_login_password(a, &citizen, "jan",
					     "correct horse", token, &ses, &why,
					     insz, e),
			 0);
	return auth_step_up(a, &citizen, token, JAN, "email_code", code,
			    &level, e);
}

static struct auth_account account(const char *insz, const char *user)
{
	struct auth_account acc;
	memset(&acc, 0, sizeof(acc));
	str_copy(acc.insz, sizeof(acc.insz), insz);
	str_copy(acc.username, sizeof(acc.username), user);
	return acc;
}

static void levels_are_data(void **state)
{
	(void)state;
	assert_int_equal(auth_key_level(a, "password"), 200);
	assert_int_equal(auth_key_level(a, "totp_app"), 400);
	assert_int_equal(auth_key_level(a, "eid"), 500);
	/* Types the service has no code for yet count at their level. */
	assert_int_equal(auth_key_level(a, "itsme_pin"), 450);
	assert_int_equal(auth_key_level(a, "mygov_pin"), 490);
	assert_int_equal(auth_key_level(a, "carrier_pigeon"), 0);
	struct auth_app *apps;
	int n;
	struct error e;
	assert_int_equal(auth_apps(a, &apps, &n, &e), 0);
	assert_int_equal(n, 59);
	free(apps);
	struct auth_app app;
	assert_int_equal(auth_app(a, "mypension", &app), 0);
	assert_int_equal(app.min_level, 400);
	assert_int_equal(auth_app(a, "nothing", &app), 1);
}

static void accounts(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc, "short",
					     &e),
			 -1);
	assert_string_equal(e.code, "weak_password");
	acc = account("85073003328", "Jan Peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "long enough pw", &e),
			 -1);
	acc = account("85073003329", "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "long enough pw", &e),
			 -1);
	acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "long enough pw", &e),
			 0);
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "long enough pw", &e),
			 -1);
	assert_string_equal(e.code, "account_exists");
	acc = account("90031524651", "JAN.PEETERS"); /* usernames ignore case */
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "long enough pw", &e),
			 -1);
}

static void password_login_and_lockout(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e),
			 0);
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses, check;
	enum auth_failure why;
	uint64_t mark = audit_size(tmp.log);
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "correct horse", token, &ses, &why,
					     insz, &e),
			 0);
	assert_int_equal(ses.level, 200);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	assert_string_equal(check.insz, "85073003328");
	/* Unknown user and wrong password: the same answer. */
	assert_int_equal(auth_login_password(a, &citizen, "nobody",
					     "correct horse", token, &ses, &why,
					     insz, &e),
			 -1);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(why, AUTH_UNKNOWN_USER);
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "wrong", token, &ses, &why, insz,
					     &e),
			 -1);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(why, AUTH_BAD_PASSWORD);
	/* A success resets the count; three failures in a row lock. */
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "correct horse", token, &ses, &why,
					     insz, &e),
			 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
						     "wrong", token, &ses, &why,
						     insz, &e),
				 -1);
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "wrong", token, &ses, &why, insz,
					     &e),
			 -1);
	/* Outside, a lock looks like any wrong password (no enumeration). */
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(why, AUTH_KEY_NOW_LOCKED);
	/* Locked means locked, even with the right password. */
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "correct horse", token, &ses, &why,
					     insz, &e),
			 -1);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(why, AUTH_KEY_LOCKED);
	assert_string_equal(insz, "85073003328");
	struct auth_key *keys;
	int n;
	assert_int_equal(auth_keys(a, "85073003328", &keys, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(keys[0].status, "locked");
	free(keys);
	/* The unknown user left no event: there is nobody to record it
	 * about. A run of wrong passwords is its first one, then the count
	 * of the others when its window is written; the lock is always an
	 * event of its own. */
	static const char *const want[][4] = {
		{"login", "granted", "", "password"},
		{"login", "refused", "invalid_credentials", "password"},
		{"login", "granted", "", "password"},
		{"login", "refused", "invalid_credentials", "password"},
		{"key_lock", "refused", "key_locked", "password"},
		{"login", "refused", "key_locked", "password"},
		{"login", "refused", "invalid_credentials", "password"},
	};
	assert_int_equal(auth_failures_flush(a, true, &e), 1);
	expect_events(mark, KP_NELEM(want), want);
}

static void sessions_end(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e),
			 0);
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses, check;
	enum auth_failure why;
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "correct horse", token, &ses, &why,
					     insz, &e),
			 0);
	assert_int_equal(auth_session_check(a, "not-a-token", &check), 1);
	char other[TOKEN_HEX_LEN];
	memcpy(other, token, TOKEN_HEX_LEN);
	other[0] = other[0] == 'a' ? 'b' : 'a';
	assert_int_equal(auth_session_check(a, other, &check), 1);
	/* Checked twice: the second answer comes from the session cache,
	 * which a logout must empty. */
	assert_int_equal(auth_session_check(a, token, &check), 0);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	assert_string_equal(check.insz, "85073003328");
	uint64_t mark = audit_size(tmp.log);
	assert_int_equal(auth_logout(a, &citizen, token, &e), 0);
	assert_int_equal(auth_session_check(a, token, &check), 1);
	/* Over already: nothing to end, nothing recorded. */
	assert_int_equal(auth_logout(a, &citizen, token, &e), 1);
	static const char *const want[][4] = {
		{"logout", "granted", "", "password"}};
	expect_events(mark, KP_NELEM(want), want);
	/* Idle for the idle lifetime (2 s here): over, to the millisecond,
	 * whether the answer comes from the cache or the store. */
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "correct horse", token, &ses, &why,
					     insz, &e),
			 0);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	clock_advance_ms(1999);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	clock_advance_ms(1);
	assert_int_equal(auth_session_check(a, token, &check), 1);
	auth_cache_invalidate(a);
	assert_int_equal(auth_session_check(a, token, &check), 1);
}

static void certificate_login(void **state)
{
	(void)state;
	struct error e;
	char token[TOKEN_HEX_LEN];
	struct auth_session ses;
	assert_int_equal(auth_login_certificate(a, &citizen, "85073003328",
						token, &ses, &e),
			 0);
	assert_int_equal(ses.level, 500);
	/* Not in the National Register, a BIS number, or no number. */
	assert_int_equal(auth_login_certificate(a, &citizen, "90031524651",
						token, &ses, &e),
			 -1);
	assert_string_equal(e.code, "certificate_rejected");
	assert_int_equal(auth_login_certificate(a, &citizen, "85473003317",
						token, &ses, &e),
			 -1);
	assert_int_equal(auth_login_certificate(a, &citizen, "", token, &ses,
						&e),
			 -1);
}

static void deactivated_keys_open_nothing(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e),
			 0);
	struct auth_key *keys;
	int n;
	assert_int_equal(auth_keys(a, "85073003328", &keys, &n, &e), 0);
	int64_t id = keys[0].id;
	free(keys);
	/* A live session, validated (and so cached) before the key goes. */
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses, check;
	enum auth_failure why;
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "correct horse", token, &ses, &why,
					     insz, &e),
			 0);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	assert_int_equal(auth_key_deactivate(a, &citizen, "90031524651", id,
					     &e),
			 -1);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	uint64_t mark = audit_size(tmp.log);
	assert_int_equal(auth_key_deactivate(a, &citizen, "85073003328", id,
					     &e),
			 0);
	assert_int_equal(auth_key_deactivate(a, &citizen, "85073003328", id,
					     &e),
			 -1);
	assert_string_equal(e.code, "unknown_key");
	static const char *const want[][4] = {
		{"key_deactivate", "granted", "", "self_service"},
		{"key_deactivate", "refused", "unknown_key", "self_service"}};
	expect_events(mark, KP_NELEM(want), want);
	/* The key's sessions end with it, cached or not. */
	assert_int_equal(auth_session_check(a, token, &check), 1);
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "correct horse", token, &ses, &why,
					     insz, &e),
			 -1);
	assert_int_equal(why, AUTH_NO_KEY);
	assert_string_equal(e.code, "invalid_credentials");
}

/* RFC 6238 appendix B (SHA-1), cut to our six digits. */
static void rfc6238_vectors(void **state)
{
	(void)state;
	const uint8_t *secret = (const uint8_t *)"12345678901234567890";
	static const struct {
		int64_t t;
		const char *code;
		uint64_t counter;
	} v[] = {{59, "287082", 1},
		 {1111111109, "081804", 37037036},
		 {1111111111, "050471", 37037037},
		 {1234567890, "005924", 41152263},
		 {2000000000, "279037", 66666666}};
	for (size_t i = 0; i < KP_NELEM(v); i++) {
		uint64_t counter;
		assert_int_equal(auth_totp_check(secret, 20, v[i].code, v[i].t,
						 &counter), 0);
		assert_int_equal(counter, v[i].counter);
		/* One step either way is accepted, two are not. */
		assert_int_equal(auth_totp_check(secret, 20, v[i].code,
						 v[i].t + 30, &counter), 0);
		assert_int_equal(auth_totp_check(secret, 20, v[i].code,
						 v[i].t + 90, &counter), -1);
	}
	uint64_t c;
	assert_int_equal(auth_totp_check(secret, 20, "28708", 59, &c), -1);
	assert_int_equal(auth_totp_check(secret, 20, "28708x", 59, &c), -1);
	assert_int_equal(auth_totp_check(secret, 20, "2870822", 59, &c), -1);
	assert_int_equal(auth_totp_check(secret, 20, "287083", 59, &c), -1);
}

/* The current code of an otpauth:// URI's secret. */
/* The secret of uri is sealed: its bytes appear nowhere in key id's row. */
static void assert_secret_sealed(const char *uri, int64_t id)
{
	const char *p = strstr(uri, "secret=") + 7;
	char b32[64], *raw;
	size_t n = strcspn(p, "&"), len;
	memcpy(b32, p, n);
	b32[n] = '\0';
	assert_int_equal(oath_base32_decode(b32, n, &raw, &len), OATH_OK);
	struct store_conn *r = store_reader(s);
	static const char sql[] = "SELECT secret FROM credential WHERE id = ?1";
	struct store_stmt *st = store_prepare(r, sql);
	store_bind_int(st, 1, id);
	assert_int_equal(store_step(st), STORE_ROW);
	size_t blen;
	const uint8_t *blob = store_col_blob(st, 0, &blen);
	assert_null(memmem(blob, blen, raw, len));
	assert_int_equal(blen, len + crypto_secretbox_NONCEBYTES +
				       crypto_secretbox_MACBYTES);
	store_done(st);
	free(raw);
}

static void totp_enrol_confirm_step_up(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e),
			 0);
	int64_t id;
	char *uri, *png;
	assert_int_equal(auth_totp_enrol(a, &citizen, "85073003328", EID_LEVEL, &id,
					 &uri, &png, &e),
			 0);
	assert_non_null(strstr(uri, "otpauth://totp/kruispunt:jan.peeters?secret="));
	assert_true(strlen(png) > 100);
	char code[7];
	assert_int_equal(ts_totp_code(uri, time_now() - 300, code), 0);
	assert_int_equal(auth_totp_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					   &e),
			 -1);
	assert_string_equal(e.code, "invalid_code");
	assert_int_equal(ts_totp_code(uri, time_now(), code), 0);
	assert_int_equal(auth_totp_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					   &e),
			 0);
	assert_int_equal(auth_totp_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					   &e),
			 -1);
	assert_string_equal(e.code, "already_confirmed");
	/* Step-up: the same code again is a replay. */
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses, check;
	enum auth_failure why;
	int level;
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "correct horse", token, &ses, &why,
					     insz, &e),
			 0);
	uint64_t mark = audit_size(tmp.log);
	assert_int_equal(auth_step_up(a, &citizen, token, "85073003328", "totp",
				      code, &level, &e),
			 -1);
	assert_string_equal(e.code, "invalid_code");
	/* The next step's code lifts the session to 400. */
	assert_int_equal(ts_totp_code(uri, time_now() + 30, code), 0);
	assert_int_equal(auth_step_up(a, &citizen, token, "85073003328", "totp",
				      code, &level, &e),
			 0);
	assert_int_equal(level, 400);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	assert_int_equal(check.level, 400);
	/* E-mail and SMS codes come with the notification outbox. */
	assert_int_equal(auth_step_up(a, &citizen, token, "85073003328",
				      "sms_code", "123456", &level, &e),
			 -1);
	assert_int_equal(auth_step_up(a, &citizen, token, "85073003328",
				      "fax\r\n", "123456", &level, &e),
			 -1);
	assert_string_equal(e.code, "invalid_field");
	static const char *const want[][4] = {
		{"step_up", "refused", "invalid_code", "totp"},
		{"step_up", "granted", "", "totp"},
		{"step_up", "refused", "invalid_code", "sms_code"},
		{"step_up", "refused", "invalid_field", "fax\\x0d\\x0a"}};
	expect_events(mark, KP_NELEM(want), want);
	assert_secret_sealed(uri, id);
	free(uri);
	free(png);
	(void)check;
}

static void addresses(void **state)
{
	(void)state;
	assert_true(auth_address_valid("email_code", "jan@example.org"));
	assert_true(auth_address_valid("sms_code", "+32470123456"));
	assert_false(auth_address_valid("email_code",
					"jan@example.org\r\nBcc: x@y"));
	assert_false(auth_address_valid("email_code", "a@b,c@d"));
	assert_false(auth_address_valid("email_code", "<a@b>"));
	assert_false(auth_address_valid("email_code", "@b"));
	assert_false(auth_address_valid("email_code", "a@"));
	assert_false(auth_address_valid("email_code", "a@b@c"));
	assert_false(auth_address_valid("sms_code", "0470123456"));
	assert_false(auth_address_valid("sms_code", "+32 470 12"));
	assert_false(auth_address_valid("sms_code", "+3247012345678901"));
	assert_false(auth_address_valid("totp_app", "jan@example.org"));
}

/* An e-mail key is pending until the code sent to it comes back; the
 * code works once; a wrong one counts towards the lock. */
static void code_key_enrol_confirm(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e),
			 0);
	int64_t id;
	char code[7], type[32];
	assert_int_equal(auth_code_key_enrol(a, &citizen, "85073003328", EID_LEVEL,
					     "email_code", "jan@example.org",
					     &id, code, &e),
			 0);
	assert_int_equal(strspn(code, "0123456789"), 6);
	/* Pending: it offers no step-up yet. */
	char c2[7], to[64];
	assert_int_equal(auth_code_issue(a, "85073003328", "email_code", c2, to,
					 sizeof(to), &e), -1);
	uint64_t mark = audit_size(tmp.log);
	assert_int_equal(auth_key_confirm(a, &citizen, JAN, EID_LEVEL, id,
					  "000000", type, &e),
			 -1);
	assert_string_equal(e.code, "invalid_code");
	assert_int_equal(auth_key_confirm(a, &citizen, "01010100126", EID_LEVEL, id, code,
					  type, &e),
			 -1);
	assert_string_equal(e.code, "unknown_key");
	assert_int_equal(auth_key_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					  type, &e),
			 0);
	assert_string_equal(type, "email_code");
	assert_int_equal(auth_key_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					  type, &e),
			 -1);
	assert_string_equal(e.code, "already_confirmed");
	/* Another's key is refused about him, not about Jan. */
	static const char *const want[][4] = {
		{"key_confirm", "refused", "invalid_code", "email_code"},
		{"key_confirm", "granted", "", "email_code"},
		{"key_confirm", "refused", "already_confirmed", "email_code"}};
	expect_events(mark, KP_NELEM(want), want);
	assert_int_equal(auth_code_issue(a, "85073003328", "email_code", c2, to,
					 sizeof(to), &e), 0);
	assert_string_equal(to, "jan@example.org");
	assert_int_equal(email_step_up(c2, &e), 0);
	assert_int_equal(email_step_up(c2, &e), -1);
	/* Bad input changes nothing. */
	assert_int_equal(auth_code_key_enrol(a, &citizen, "85073003328", EID_LEVEL,
					     "sms_code", "0470", &id, code, &e),
			 -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(auth_code_key_enrol(a, &citizen, "85073003328", EID_LEVEL,
					     "password", "x", &id, code, &e),
			 -1);
	assert_string_equal(e.code, "unsupported_key_type");
	struct auth_key *keys;
	int n;
	assert_int_equal(auth_keys(a, "85073003328", &keys, &n, &e), 0);
	assert_int_equal(n, 2);
	free(keys);
}

/* A confirmed e-mail key of 85073003328 (its enrolment sent one code). */
static void email_key(void)
{
	struct error e;
	struct auth_account acc = account("85073003328", "jan");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e),
			 0);
	int64_t id;
	char code[7], type[32];
	assert_int_equal(auth_code_key_enrol(a, &citizen, "85073003328", EID_LEVEL,
					     "email_code", "jan@example.org",
					     &id, code, &e),
			 0);
	assert_int_equal(auth_key_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					  type, &e),
			 0);
}

/* A code lives ten minutes: its last second works, the next does not. */
static void code_expires_at_its_lifetime(void **state)
{
	(void)state;
	struct error e;
	email_key();
	char code[7], to[64];
	assert_int_equal(auth_code_issue(a, "85073003328", "email_code", code,
					 to, sizeof(to), &e), 0);
	clock_advance_ms(599 * 1000);
	assert_int_equal(email_step_up(code, &e), 0);
	assert_int_equal(auth_code_issue(a, "85073003328", "email_code", code,
					 to, sizeof(to), &e), 0);
	clock_advance_ms(600 * 1000);
	assert_int_equal(email_step_up(code, &e), -1);
	assert_string_equal(e.code, "invalid_code");
}

/* At most five codes in ten minutes per key (the enrolment's counts); the
 * window slides: the sixth is refused until the first is ten minutes old. */
static void code_send_window(void **state)
{
	(void)state;
	struct error e;
	email_key();
	char code[7], to[64];
	for (int i = 0; i < 4; i++)
		assert_int_equal(auth_code_issue(a, "85073003328", "email_code",
						 code, to, sizeof(to), &e), 0);
	assert_int_equal(auth_code_issue(a, "85073003328", "email_code", code,
					 to, sizeof(to), &e), -1);
	assert_string_equal(e.code, "rate_limited");
	clock_advance_ms(599 * 1000);
	assert_int_equal(auth_code_issue(a, "85073003328", "email_code", code,
					 to, sizeof(to), &e), -1);
	clock_advance_ms(1000);
	assert_int_equal(auth_code_issue(a, "85073003328", "email_code", code,
					 to, sizeof(to), &e), 0);
}

/* A TOTP code is good for its 30-second step and one step either side,
 * read on the clock the module reads. */
static void totp_window_on_the_clock(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e),
			 0);
	int64_t id;
	char *uri, *png, code[7];
	assert_int_equal(auth_totp_enrol(a, &citizen, "85073003328", EID_LEVEL, &id,
					 &uri, &png, &e),
			 0);
	assert_int_equal(ts_totp_code(uri, time_now(), code), 0);
	clock_advance_ms(90 * 1000);
	assert_int_equal(auth_totp_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					   &e),
			 -1);
	clock_advance_ms(-60 * 1000);
	assert_int_equal(auth_totp_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					   &e),
			 0);
	free(uri);
	free(png);
}

/* A change whose event cannot be written is not made: the caller gets
 * audit_unavailable, the database is as before, and the same change
 * succeeds once the log takes events again. */
static void nothing_without_its_event(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account(JAN, "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	char token[TOKEN_HEX_LEN];
	static const char sessions[] = "SELECT count(*) FROM session";
	static const char used[] = "SELECT count(*) FROM credential WHERE "
				   "failures > 0 OR last_used_at IS NOT NULL";
	uint64_t size = audit_size(tmp.log);
	ts_audit_refuse(s, true);
	assert_int_equal(jan_login(token, "correct horse", &e), -1);
	assert_string_equal(e.code, "audit_unavailable");
	assert_int_equal(jan_login(token, "wrong", &e), -1);
	assert_string_equal(e.code, "audit_unavailable");
	assert_int_equal(ts_int(s, sessions), 0);
	assert_int_equal(ts_int(s, used), 0);
	struct auth_key *keys;
	int n;
	assert_int_equal(auth_keys(a, JAN, &keys, &n, &e), 0);
	assert_int_equal(auth_key_deactivate(a, &citizen, JAN, keys[0].id, &e),
			 -1);
	assert_string_equal(e.code, "audit_unavailable");
	free(keys);
	assert_int_equal(audit_size(tmp.log), size);
	ts_audit_refuse(s, false);
	assert_int_equal(jan_login(token, "correct horse", &e), 0);
	assert_int_equal(ts_int(s, sessions), 1);
	assert_int_equal(audit_size(tmp.log), size + 1);
}

/* Security: a key cannot raise its own session. A password session
 * (200) may not add a level-400 key, and the refusal is recorded; a
 * session at 400 may. The app's label names the username, never the
 * national register number. */
static void a_key_needs_a_session_at_its_level(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account(JAN, "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	int64_t id;
	char *uri, *png, code[7];
	uint64_t mark = audit_size(tmp.log);
	assert_int_equal(auth_totp_enrol(a, &citizen, JAN, 200, &id, &uri,
					 &png, &e), -1);
	assert_int_equal(e.kind, ERR_FORBIDDEN);
	assert_string_equal(e.code, "insufficient_level");
	assert_int_equal(auth_code_key_enrol(a, &citizen, JAN, 200,
					     "email_code", "jan@example.org",
					     &id, code, &e), -1);
	assert_string_equal(e.code, "insufficient_level");
	static const char *const want[][4] = {
		{"key_create", "refused", "insufficient_level", "totp_app"},
		{"key_create", "refused", "insufficient_level", "email_code"}};
	expect_events(mark, KP_NELEM(want), want);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM credential"), 1);
	assert_int_equal(auth_enrol_level(a, "totp"), 400);
	assert_int_equal(auth_totp_enrol(a, &citizen, JAN, 400, &id, &uri,
					 &png, &e), 0);
	assert_non_null(strstr(uri, "otpauth://totp/kruispunt:jan.peeters?"));
	assert_null(strstr(uri, JAN));
	/* Confirming is adding too: a session lowered since the enrolment
	 * may not. */
	assert_int_equal(ts_totp_code(uri, time_now(), code), 0);
	assert_int_equal(auth_totp_confirm(a, &citizen, JAN, 200, id, code, &e),
			 -1);
	assert_string_equal(e.code, "insufficient_level");
	assert_int_equal(auth_totp_confirm(a, &citizen, JAN, 400, id, code, &e),
			 0);
	free(uri);
	free(png);
}

/* Jan's session stepped up with a seeded TOTP key of secret s. */
static void totp_step_up_with(const char *token, const char *secret,
			      int64_t t, int want)
{
	struct error e;
	char code[7];
	int level = 0;
	assert_int_equal(oath_totp_generate(secret, 20, (time_t)t, 30, 0, 6,
					    code), OATH_OK);
	assert_int_equal(auth_step_up(a, &citizen, token, JAN, "totp", code,
				      &level, &e), want);
	if (want == 0)
		assert_int_equal(level, 400);
}

/* Two authenticator apps: a code of either steps up; a wrong code counts
 * against the newest only. */
static void two_totp_apps(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account(JAN, "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	static const char old_s[] = "12345678901234567890";
	static const char new_s[] = "abcdefghijabcdefghij";
	assert_int_equal(auth_totp_key_add(a, &ts_operator, JAN,
					   (const uint8_t *)old_s, 20, &e), 0);
	assert_int_equal(auth_totp_key_add(a, &ts_operator, JAN,
					   (const uint8_t *)new_s, 20, &e), 0);
	char token[TOKEN_HEX_LEN];
	assert_int_equal(jan_login(token, "correct horse", &e), 0);
	totp_step_up_with(token, old_s, time_now(), 0);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM credential WHERE "
			       "failures > 0"), 0);
	totp_step_up_with(token, new_s, time_now(), 0);
	int level;
	assert_int_equal(auth_step_up(a, &citizen, token, JAN, "totp",
				      "000000", &level, &e), -1);
	assert_int_equal(ts_int(s, "SELECT max(id) FROM credential WHERE "
			       "failures = 1"),
			 ts_int(s, "SELECT max(id) FROM credential"));
	/* A step-up tries every active key: their number is bounded. */
	for (int i = 2; i < LIMIT_TOTP_KEYS; i++)
		assert_int_equal(auth_totp_key_add(a, &ts_operator, JAN,
						   (const uint8_t *)old_s, 20,
						   &e), 0);
	int64_t id;
	char *uri, *png;
	assert_int_equal(auth_totp_enrol(a, &citizen, JAN, EID_LEVEL, &id,
					 &uri, &png, &e), -1);
	assert_string_equal(e.code, "too_many_keys");
}

/* A session is worth the keys still valid that were used in it: losing
 * the step-up key (deactivated or locked) lowers it to the opening key's
 * level; losing the opening key ends it. */
static void session_level_follows_its_keys(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account(JAN, "jan.peeters");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	static const char s1[] = "12345678901234567890";
	static const char s2[] = "abcdefghijabcdefghij";
	assert_int_equal(auth_totp_key_add(a, &ts_operator, JAN,
					   (const uint8_t *)s1, 20, &e), 0);
	char token[TOKEN_HEX_LEN];
	struct auth_session ses;
	assert_int_equal(jan_login(token, "correct horse", &e), 0);
	totp_step_up_with(token, s1, time_now(), 0);
	assert_int_equal(auth_session_check(a, token, &ses), 0);
	assert_int_equal(ses.level, 400);
	int64_t totp = ts_int(s, "SELECT max(id) FROM credential");
	assert_int_equal(auth_key_deactivate(a, &citizen, JAN, totp, &e), 0);
	assert_int_equal(auth_session_check(a, token, &ses), 0);
	assert_int_equal(ses.level, 200);
	assert_string_equal(ses.step_up, "");
	/* Locking: max_code_failures (3) wrong codes on the step-up key. */
	assert_int_equal(auth_totp_key_add(a, &ts_operator, JAN,
					   (const uint8_t *)s2, 20, &e), 0);
	totp_step_up_with(token, s2, time_now(), 0);
	char other[TOKEN_HEX_LEN];
	assert_int_equal(jan_login(other, "correct horse", &e), 0);
	int level;
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth_step_up(a, &citizen, other, JAN, "totp",
					      "000000", &level, &e), -1);
	assert_string_equal(e.code, "key_locked");
	assert_int_equal(auth_session_check(a, token, &ses), 0);
	assert_int_equal(ses.level, 200);
	/* The opening key: the session ends. */
	int64_t pw = ts_int(s, "SELECT min(id) FROM credential");
	assert_int_equal(auth_key_deactivate(a, &citizen, JAN, pw, &e), 0);
	assert_int_equal(auth_session_check(a, token, &ses), 1);
}

/* The time limits are configuration, with seed 002's defaults. */
static void time_limits_are_configuration(void **state)
{
	(void)state;
	static const struct {
		const char *key, *def;
	} want[] = {{"code_ttl_s", "600"},
		    {"totp_step_s", "30"},
		    {"registration_code_ttl_s", "300"}};
	for (size_t w = 0; w < KP_NELEM(want); w++) {
		size_t i = 0;
		while (i < auth_config_nkeys &&
		       strcmp(auth_config_keys[i].key, want[w].key) != 0)
			i++;
		assert_true(i < auth_config_nkeys);
		assert_string_equal(auth_config_keys[i].def, want[w].def);
	}
	assert_int_equal(auth_code_ttl(a), 600);
}

/* Every key confirmed or deactivated queues a notice to the person's
 * other addresses in the transaction of the change: none when the change
 * is not made, none to the key's own address, none for seeding. */
static void key_notices_go_with_the_change(void **state)
{
	(void)state;
	struct error e;
	struct notify *n;
	/* Nothing listens there: the notices wait in the outbox. */
	struct notify_options no = {.smtp_url = "smtp://127.0.0.1:1",
				    .sms_url = "http://127.0.0.1:1/"};
	rand_bytes(no.master_key, sizeof(no.master_key));
	assert_int_equal(notify_open(s, &no, &n, &e), 0);
	auth_set_notify(a, n);
	struct auth_account acc = account(JAN, "jan.peeters");
	str_copy(acc.email, sizeof(acc.email), "jan@example.org");
	str_copy(acc.phone, sizeof(acc.phone), "+32470000001");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	assert_int_equal(auth_code_key_add(a, &ts_operator, JAN, "email_code",
					   "jan@work.example", &e), 0);
	static const char queued[] = "SELECT count(*) FROM outbox";
	assert_int_equal(ts_int(s, queued), 0);
	int64_t id;
	char code[7], type[32];
	assert_int_equal(auth_code_key_enrol(a, &citizen, JAN, EID_LEVEL,
					     "email_code", "jan@home.example",
					     &id, code, &e), 0);
	assert_int_equal(ts_int(s, queued), 0); /* the code goes by src/api */
	assert_int_equal(auth_key_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					  type, &e), 0);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM outbox WHERE recipient IN "
			       "('jan@example.org', '+32470000001', "
			       "'jan@work.example')"), 3);
	assert_int_equal(ts_int(s, queued), 3);
	ts_audit_refuse(s, true);
	assert_int_equal(auth_key_deactivate(a, &citizen, JAN, id, &e), -1);
	assert_int_equal(ts_int(s, queued), 3);
	ts_audit_refuse(s, false);
	assert_int_equal(auth_key_deactivate(a, &citizen, JAN, id, &e), 0);
	assert_int_equal(ts_int(s, queued), 6);
	auth_set_notify(a, NULL);
	notify_close(n);
}

/* A second service on the same log with its own lockout rules; the
 * caller closes it. */
static struct auth *open_with(int max_failures, int free, int max_s)
{
	struct error e;
	struct auth *b;
	struct auth_options o = {.argon2_ops = crypto_pwhash_OPSLIMIT_MIN,
				 .argon2_mem = crypto_pwhash_MEMLIMIT_MIN,
				 .max_failures = max_failures,
				 .throttle_free = free,
				 .throttle_max_s = max_s,
				 /* The per-minute bucket out of the way:
				  * the delays are under test. */
				 .logins_per_minute = 1000,
				 .session_absolute_s = 3600,
				 .session_idle_s = 2};
	rand_bytes(o.master_key, sizeof(o.master_key));
	assert_int_equal(auth_open(tmp.log, &o, &b, &e), 0);
	return b;
}

/* One login attempt on b: its error code ("" on success) and *why. */
static const char *try_login(struct auth *b, const char *user,
			     const char *password, enum auth_failure *why)
{
	static struct error e;
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses;
	err_clear(&e);
	if (auth_login_password(b, &citizen, user, password, token, &ses, why,
				insz, &e) == 0)
		return "";
	return e.code;
}

/* `Marie`, `MARIE` and `marie` are one user: stored, looked up and
 * throttled in one canonical form. */
static void usernames_have_one_form(void **state)
{
	(void)state;
	struct error e;
	struct auth *b = open_with(0, 0, 0); /* the defaults */
	struct auth_account acc = account(JAN, "Jan.Peeters");
	assert_int_equal(auth_account_create(b, &ts_operator, &acc,
					     "correct horse", &e), 0);
	/* Stored as given, compared without case. */
	assert_int_equal(ts_int(s, ts_pg() ? "SELECT count(*) FROM account WHERE "
					 "username = 'jan.peeters' COLLATE \"C\""
				       : "SELECT count(*) FROM account WHERE "
					 "username = 'jan.peeters' COLLATE BINARY"),
			 1);
	enum auth_failure why;
	assert_string_equal(try_login(b, "JAN.PEETERS", "correct horse", &why),
			    "");
	/* Five wrong passwords (throttle_free) under three spellings, and
	 * the sixth attempt, in any spelling, waits. */
	static const char *const spelled[] = {"Jan.Peeters", "JAN.PEETERS",
					      "jan.peeters", "jAn.peeters",
					      "JAN.peeters"};
	for (size_t i = 0; i < KP_NELEM(spelled); i++)
		assert_string_equal(try_login(b, spelled[i], "wrong", &why),
				    "invalid_credentials");
	assert_string_equal(try_login(b, "jan.peeters", "wrong", &why),
			    "invalid_credentials");
	assert_string_equal(try_login(b, "Jan.PEETERS", "correct horse", &why),
			    "rate_limited");
	assert_int_equal(why, AUTH_THROTTLED);
	assert_int_equal(auth_login_retry_after(b, "jan.peeters"), 1);
	auth_close(b);
}

/* NIST SP 800-63B §5.2.2: wrong passwords meet growing delays, for a
 * known username and an unknown one alike; the key locks only after
 * max_failures in a row, and a locked key answers as a wrong password. */
static void guessing_meets_growing_delays(void **state)
{
	(void)state;
	struct error e;
	struct auth *b = open_with(6, 2, 4);
	struct auth_account acc = account(JAN, "jan.peeters");
	assert_int_equal(auth_account_create(b, &ts_operator, &acc,
					     "correct horse", &e), 0);
	static const char *const users[] = {"jan.peeters", "no.such.user"};
	enum auth_failure why;
	for (size_t u = 0; u < KP_NELEM(users); u++) {
		/* Two free failures, the third starts the delays. */
		for (int i = 0; i < 3; i++)
			assert_string_equal(try_login(b, users[u], "wrong",
						      &why),
					    "invalid_credentials");
		int waits[] = {1, 2, 4};
		for (size_t i = 0; i < KP_NELEM(waits); i++) {
			assert_string_equal(try_login(b, users[u], "wrong",
						      &why), "rate_limited");
			assert_int_equal(auth_login_retry_after(b, users[u]),
					 waits[i]);
			clock_advance_ms(waits[i] * 1000 - 1);
			assert_string_equal(try_login(b, users[u], "wrong",
						      &why), "rate_limited");
			clock_advance_ms(1);
			assert_string_equal(try_login(b, users[u], "wrong",
						      &why),
					    "invalid_credentials");
		}
	}
	/* The sixth failure locked Jan's key; outside it looks the same. */
	assert_int_equal(why, AUTH_UNKNOWN_USER);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM credential WHERE "
			       "status = 'locked'"), 1);
	clock_advance_ms(4000);
	assert_string_equal(try_login(b, "jan.peeters", "correct horse", &why),
			    "invalid_credentials");
	assert_int_equal(why, AUTH_KEY_LOCKED);
	auth_close(b);
}

/* A lock is news to the person: one notice at their addresses, however
 * often the locked key is tried after. */
static void a_lock_is_announced(void **state)
{
	(void)state;
	struct error e;
	struct notify *n;
	struct notify_options no = {.smtp_url = "smtp://127.0.0.1:1",
				    .sms_url = "http://127.0.0.1:1/"};
	rand_bytes(no.master_key, sizeof(no.master_key));
	assert_int_equal(notify_open(s, &no, &n, &e), 0);
	auth_set_notify(a, n);
	struct auth_account acc = account(JAN, "jan.peeters");
	str_copy(acc.email, sizeof(acc.email), "jan@example.org");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	enum auth_failure why;
	for (int i = 0; i < 3; i++)
		try_login(a, "jan.peeters", "wrong", &why);
	assert_int_equal(why, AUTH_KEY_NOW_LOCKED);
	static const char queued[] = "SELECT count(*) FROM outbox WHERE "
				     "recipient = 'jan@example.org'";
	assert_int_equal(ts_int(s, queued), 1);
	clock_advance_ms(3600 * 1000);
	try_login(a, "jan.peeters", "wrong", &why);
	assert_int_equal(why, AUTH_KEY_LOCKED);
	assert_int_equal(ts_int(s, queued), 1);
	auth_set_notify(a, NULL);
	notify_close(n);
}

/* Confirming a pending key is no guessing game: max_code_failures (3)
 * wrong codes lock it, and then not even the right code confirms it. */
static void a_pending_key_is_not_guessed(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account(JAN, "jan");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	int64_t id;
	char code[7], type[32], wrong[7];
	assert_int_equal(auth_code_key_enrol(a, &citizen, JAN, EID_LEVEL,
					     "email_code", "jan@example.org",
					     &id, code, &e), 0);
	memcpy(wrong, code, sizeof(wrong));
	wrong[0] = code[0] == '9' ? '0' : (char)(code[0] + 1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(auth_key_confirm(a, &citizen, JAN, EID_LEVEL,
						  id, wrong, type, &e), -1);
		assert_string_equal(e.code, "invalid_code");
	}
	assert_int_equal(auth_key_confirm(a, &citizen, JAN, EID_LEVEL, id,
					  wrong, type, &e), -1);
	assert_string_equal(e.code, "key_locked");
	assert_int_equal(auth_key_confirm(a, &citizen, JAN, EID_LEVEL, id, code,
					  type, &e), -1);
	assert_string_equal(e.code, "key_locked");
	assert_int_equal(ts_int(s, "SELECT count(*) FROM credential WHERE status "
			       "= 'locked' AND type = 'email_code'"), 1);
}

/* Nobody is bombed with codes: at most code_sends_per_hour (10) to one
 * account, and to one address whatever account asks for them. */
static void codes_are_limited_per_account_and_address(void **state)
{
	(void)state;
	struct error e;
	email_key(); /* the enrolment sent the first code, at 0 s */
	char code[7], to[64];
	for (int batch = 0; batch < 2; batch++) {
		for (int i = 0; i < 5 - (batch == 0); i++)
			assert_int_equal(auth_code_issue(a, JAN, "email_code",
							 code, to, sizeof(to),
							 &e), 0);
		clock_advance_ms(600 * 1000); /* past the per-key window */
	}
	assert_int_equal(auth_code_issue(a, JAN, "email_code", code, to,
					 sizeof(to), &e), -1);
	assert_string_equal(e.code, "rate_limited");
	/* The first code leaves the hour at 3600 s; it is 1200 s now. */
	assert_int_equal(auth_code_retry_after(a, JAN, "jan@example.org"),
			 2400);
	/* The same address on another account is the same mailbox. */
	struct auth_account acc = account("01010100126", "sara");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	assert_int_equal(auth_code_key_add(a, &ts_operator, "01010100126",
					   "email_code", "jan@example.org",
					   &e), 0);
	assert_int_equal(auth_code_issue(a, "01010100126", "email_code", code,
					 to, sizeof(to), &e), -1);
	assert_string_equal(e.code, "rate_limited");
	/* An hour after the first code, one more may go. */
	clock_advance_ms((3600 - 1200) * 1000);
	assert_int_equal(auth_code_issue(a, JAN, "email_code", code, to,
					 sizeof(to), &e), 0);
}

/* The events about JAN since mark that are refused logins, and the sum
 * of what they stand for (an aggregate's count). */
static int refused_logins(uint64_t mark, int64_t *stands_for)
{
	struct audit_filter f = {.subject = JAN, .limit = 1000,
				 .after = mark - 1, .has_after = true};
	struct audit_record *ev = NULL;
	int n = 0, found = 0;
	bool more;
	uint64_t next;
	struct error e;
	assert_int_equal(audit_query(tmp.log, &f, &ev, &n, &more, &next, &e),
			 0);
	*stands_for = 0;
	for (int i = 0; i < n; i++)
		if (strcmp(ev[i].action, "login") == 0 &&
		    strcmp(ev[i].outcome, "refused") == 0) {
			found++;
			*stands_for += ev[i].count;
		}
	free(ev);
	return found;
}

/* A guessing run does not write an event per guess (a flood would bury
 * the log): the first failure of a key at once, the like ones after it in
 * the window as one event with their count when the window ends. Every
 * failure still counts towards the lock, and the one that locks is an
 * event of its own. */
static void repeated_failures_are_one_event(void **state)
{
	(void)state;
	struct error e;
	struct auth *b = open_with(50, 20, 900);
	struct auth_account acc = account(JAN, "jan.peeters");
	assert_int_equal(auth_account_create(b, &ts_operator, &acc,
					     "correct horse", &e), 0);
	uint64_t mark = audit_size(tmp.log);
	enum auth_failure why;
	for (int i = 0; i < 12; i++)
		assert_string_equal(try_login(b, "jan.peeters", "wrong", &why),
				    "invalid_credentials");
	int64_t total;
	assert_int_equal(refused_logins(mark, &total), 1);
	assert_int_equal(ts_int(s, "SELECT failures FROM credential WHERE "
			       "type = 'password'"), 12);
	/* Within the window (15 minutes): still folded, nothing due. */
	clock_advance_ms(899 * 1000);
	assert_string_equal(try_login(b, "jan.peeters", "wrong", &why),
			    "invalid_credentials");
	assert_int_equal(auth_failures_flush(b, false, &e), 0);
	assert_int_equal(refused_logins(mark, &total), 1);
	/* The window ended: one event stands for the twelve after the
	 * first, and the next failure opens a new window. */
	clock_advance_ms(2 * 1000);
	assert_int_equal(auth_failures_flush(b, false, &e), 1);
	assert_int_equal(refused_logins(mark, &total), 2);
	assert_int_equal(total, 13);
	assert_string_equal(try_login(b, "jan.peeters", "wrong", &why),
			    "invalid_credentials");
	assert_int_equal(refused_logins(mark, &total), 3);
	assert_int_equal(total, 14);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM auth_failure"), 1);
	/* Nothing was folded into that one: it ends without an event. */
	clock_advance_ms(901 * 1000);
	assert_int_equal(auth_failures_flush(b, false, &e), 0);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM auth_failure"), 0);
	/* The chain still verifies with the aggregate in it. */
	uint8_t pk[ED25519_PK_LEN];
	struct audit_verify_report rep;
	audit_public_key(tmp.log, pk);
	assert_int_equal(audit_checkpoint_now(tmp.log, &e), 0);
	assert_int_equal(audit_verify(tmp.s, pk, &rep), 0);
	auth_close(b);
}

/* Wrong codes fold the same way, but never the one that locks. */
static void repeated_code_failures_fold_until_the_lock(void **state)
{
	(void)state;
	struct error e;
	email_key();
	uint64_t mark = audit_size(tmp.log);
	/* max_code_failures is 3: the first written, the second folded, the
	 * third locks and is written as the lock. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(email_step_up("000000", &e), -1);
		assert_string_equal(e.code, "invalid_code");
	}
	assert_int_equal(email_step_up("000000", &e), -1);
	assert_string_equal(e.code, "key_locked");
	assert_int_equal(auth_failures_flush(a, true, &e), 1);
	static const char *const want[][4] = {
		{"login", "granted", "", "password"},
		{"step_up", "refused", "invalid_code", "email_code"},
		{"login", "granted", "", "password"},
		{"login", "granted", "", "password"},
		{"key_lock", "refused", "key_locked", "email_code"},
		{"step_up", "refused", "invalid_code", "email_code"},
	};
	expect_events(mark, KP_NELEM(want), want);
}

/* The lockout rules are configuration, with NIST's bounds in mind. */
static void lockout_is_configuration(void **state)
{
	(void)state;
	static const struct {
		const char *key, *def;
	} want[] = {{"max_failures", "50"},
		    {"max_code_failures", "5"},
		    {"throttle_free", "5"},
		    {"throttle_max_s", "900"},
		    {"code_sends_per_hour", "10"},
		    {"code_sends_per_day", "30"}};
	for (size_t w = 0; w < KP_NELEM(want); w++) {
		size_t i = 0;
		while (i < auth_config_nkeys &&
		       strcmp(auth_config_keys[i].key, want[w].key) != 0)
			i++;
		assert_true(i < auth_config_nkeys);
		assert_string_equal(auth_config_keys[i].def, want[w].def);
	}
}


/* The portal's CSRF value is a MAC of the session token under the
 * server's key: the same for the same token, another for another token,
 * and not the token's hash (which anyone holding the token could make). */
static void csrf_is_a_mac_of_the_token(void **state)
{
	(void)state;
	char t1[TOKEN_HEX_LEN], t2[TOKEN_HEX_LEN];
	uint8_t h[SHA256_LEN];
	token_new(t1, h);
	token_new(t2, h);
	char c1[AUTH_CSRF_HEX], c1b[AUTH_CSRF_HEX], c2[AUTH_CSRF_HEX];
	auth_csrf(a, t1, c1);
	auth_csrf(a, t1, c1b);
	auth_csrf(a, t2, c2);
	assert_int_equal(strlen(c1), AUTH_CSRF_HEX - 1);
	assert_string_equal(c1, c1b);
	assert_string_not_equal(c1, c2);
	char plain[2 * SHA256_LEN + 1];
	sha256_digest(t1, strlen(t1), h);
	hex_encode(h, SHA256_LEN, plain);
	assert_string_not_equal(c1, plain);
	/* Under another server's key (another master key), another value. */
	struct auth *other;
	struct error e;
	struct auth_options o = {.argon2_ops = crypto_pwhash_OPSLIMIT_MIN,
				 .argon2_mem = crypto_pwhash_MEMLIMIT_MIN};
	rand_bytes(o.master_key, sizeof(o.master_key));
	assert_int_equal(auth_open(tmp.log, &o, &other, &e), 0);
	auth_csrf(other, t1, c2);
	assert_string_not_equal(c1, c2);
	auth_close(other);
}

/* The rows of eid_handoff (on this thread's reader). */
static int64_t handoff_rows(void)
{
	int64_t n = -1;
	struct store_stmt *st = store_prepare(
		store_reader(s), "SELECT COUNT(*) FROM eid_handoff");
	assert_int_equal(store_one(st, store_read_int, &n, NULL), 0);
	return n;
}

/* An eID login and a code for its session: the login's token in token,
 * the code in code. */
static void eid_issue(struct auth *p, const uint8_t cert[SHA256_LEN],
		      const uint8_t sh[SHA256_LEN], char token[TOKEN_HEX_LEN],
		      char code[TOKEN_HEX_LEN])
{
	struct error e;
	struct auth_session ses;
	assert_int_equal(auth_login_certificate(p, &citizen, JAN, token, &ses,
						&e), 0);
	assert_int_equal(auth_handoff_issue(p, token, cert, sh, code, &e), 0);
	assert_int_equal(strlen(code), TOKEN_HEX_LEN - 1);
	assert_string_not_equal(code, token);
}

/* An eID login's handoff code: taken once, in time, with its browser's
 * state; the session it hands over gets a new token; a take that fails
 * changes nothing; and not once its session ended. */
static void handoff_once_and_in_time(void **state)
{
	(void)state;
	struct error e;
	struct auth_options o = {.argon2_ops = crypto_pwhash_OPSLIMIT_MIN,
				 .argon2_mem = crypto_pwhash_MEMLIMIT_MIN,
				 .session_absolute_s = 3600,
				 .session_idle_s = 3600};
	struct auth *p;
	rand_bytes(o.master_key, sizeof(o.master_key));
	assert_int_equal(auth_open(tmp.log, &o, &p, &e), 0);
	char token[TOKEN_HEX_LEN], code[TOKEN_HEX_LEN], got[TOKEN_HEX_LEN];
	char st[TOKEN_HEX_LEN], st_hex[65], other[TOKEN_HEX_LEN], other_hex[65];
	uint8_t sh[SHA256_LEN], cert[SHA256_LEN] = {1};
	auth_eid_state_new(st, st_hex);
	auth_eid_state_new(other, other_hex);
	assert_int_equal(hex_decode(st_hex, 64, sh, SHA256_LEN), 0);
	struct auth_session out;
#define ISSUE() eid_issue(p, cert, sh, token, code)
	ISSUE();
	assert_int_equal(auth_handoff_take(p, code, st, got, &out), 0);
	assert_int_equal(out.level, 500);
	assert_string_equal(out.insz, JAN);
	/* The session has a new token; the login's opens nothing. */
	assert_string_not_equal(got, token);
	assert_int_equal(auth_session_check(p, got, &out), 0);
	assert_int_equal(auth_session_check(p, token, &out), 1);
	/* Used. */
	assert_int_equal(auth_handoff_take(p, code, st, got, &out), 1);
	assert_int_equal(handoff_rows(), 0);
	/* Another browser's state (an attacker's code pushed into a
	 * victim's browser) takes nothing and changes nothing: the browser
	 * that started the login still can. */
	ISSUE();
	assert_int_equal(auth_handoff_take(p, code, other, got, &out), 1);
	assert_int_equal(auth_handoff_take(p, code, NULL, got, &out), 1);
	assert_int_equal(handoff_rows(), 1);
	assert_int_equal(auth_session_check(p, token, &out), 0);
	assert_int_equal(auth_handoff_take(p, code, st, got, &out), 0);
	/* A minute is its life: at 59.999 s it works, at 60 s it is gone. */
	ISSUE();
	clock_advance_ms(AUTH_HANDOFF_TTL_MS - 1);
	assert_int_equal(auth_handoff_take(p, code, st, got, &out), 0);
	ISSUE();
	clock_advance_ms(AUTH_HANDOFF_TTL_MS);
	assert_int_equal(auth_handoff_take(p, code, st, got, &out), 1);
	/* Its session ended meanwhile (a logout): nothing to hand over,
	 * and the code is spent. */
	ISSUE();
	assert_int_equal(auth_logout(p, &citizen, token, &e), 0);
	assert_int_equal(auth_handoff_take(p, code, st, got, &out), 1);
	assert_int_equal(handoff_rows(), 0); /* the expired one went too */
#undef ISSUE
	/* Not a code at all. */
	assert_int_equal(auth_handoff_take(p, "", st, got, &out), 1);
	assert_int_equal(auth_handoff_take(p, token, st, got, &out), 1);
	auth_close(p);
}

/* The table holds hashes only: of the code, the state and the login's
 * token, never one of them; expired codes go at the next issue and with
 * the housekeeping. */
static void handoff_rows_hold_hashes(void **state)
{
	(void)state;
	char token[TOKEN_HEX_LEN], code[TOKEN_HEX_LEN];
	char st[TOKEN_HEX_LEN], st_hex[65];
	uint8_t sh[SHA256_LEN], cert[SHA256_LEN] = {2}, want[3][SHA256_LEN];
	auth_eid_state_new(st, st_hex);
	assert_int_equal(hex_decode(st_hex, 64, sh, SHA256_LEN), 0);
	eid_issue(a, cert, sh, token, code);
	sha256_digest(code, TOKEN_HEX_LEN - 1, want[0]);
	memcpy(want[1], sh, SHA256_LEN);
	sha256_digest(token, TOKEN_HEX_LEN - 1, want[2]);
	struct store_stmt *q = store_prepare(
		store_reader(s), "SELECT code_hash, state_hash, session_hash,"
				 " cert FROM eid_handoff");
	assert_int_equal(store_step(q), STORE_ROW);
	for (int i = 0; i < 4; i++) {
		size_t n;
		const void *v = store_col_blob(q, i, &n);
		assert_int_equal(n, SHA256_LEN);
		assert_memory_equal(v, i < 3 ? want[i] : cert, SHA256_LEN);
	}
	store_done(q);
	/* Expired: gone at the next issue, or with the housekeeping. */
	clock_advance_ms(AUTH_HANDOFF_TTL_MS);
	cert[0] = 3;
	eid_issue(a, cert, sh, token, code);
	assert_int_equal(handoff_rows(), 1);
	clock_advance_ms(AUTH_HANDOFF_TTL_MS);
	struct error e;
	assert_int_equal(auth_handoff_purge(a, &e), 0);
	assert_int_equal(handoff_rows(), 0);
}

/* A flood of eID logins meets bounds counted in the database: one eID
 * has at most AUTH_HANDOFFS_PER_CERT codes in flight (429), and past
 * AUTH_HANDOFFS_MAX in all, 503 handoff_busy, until they expire. */
static void handoffs_are_bounded(void **state)
{
	(void)state;
	struct error e;
	char token[TOKEN_HEX_LEN], code[TOKEN_HEX_LEN];
	uint8_t h[SHA256_LEN], cert[SHA256_LEN] = {0};
	token_new(token, h);
	for (int i = 0; i < AUTH_HANDOFFS_PER_CERT; i++)
		assert_int_equal(auth_handoff_issue(a, token, cert, h, code, &e),
				 0);
	assert_int_equal(auth_handoff_room(a, cert, &e), -1);
	assert_string_equal(e.code, "rate_limited");
	assert_int_equal(auth_handoff_issue(a, token, cert, h, code, &e), -1);
	assert_string_equal(e.code, "rate_limited");
	for (int i = AUTH_HANDOFFS_PER_CERT; i < AUTH_HANDOFFS_MAX; i++) {
		memcpy(cert, &i, sizeof(i)); /* another eID each */
		assert_int_equal(auth_handoff_issue(a, token, cert, h, code, &e),
				 0);
	}
	cert[31] = 1;
	assert_int_equal(auth_handoff_room(a, cert, &e), -1);
	assert_string_equal(e.code, "handoff_busy");
	clock_advance_ms(AUTH_HANDOFF_TTL_MS);
	assert_int_equal(auth_handoff_room(a, cert, &e), 0);
	assert_int_equal(auth_handoff_issue(a, token, cert, h, code, &e), 0);
}

/* The profiles one may choose: oneself, each minor living child, each
 * organisation where one holds a role today (with those roles). */
static void profiles_to_choose(void **state)
{
	(void)state;
	struct error e;
	assert_int_equal(ts_person(tmp.log, "12090311839", "Peeters", "Lotte",
				   "2012-09-03", &e), 0);
	assert_int_equal(ts_person(tmp.log, "01010100126", "Peeters", "Lucas",
				   "2001-01-01", &e), 0);
	assert_int_equal(registry_link_parent(tmp.log, &ts_operator,
					      "12090311839", JAN, &e), 0);
	assert_int_equal(registry_link_parent(tmp.log, &ts_operator,
					      "01010100126", JAN, &e), 0);
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator,
					      "0412345614", "Bakkerij", &e), 0);
	static const char *const roles[] = {"mandate_consult",
					    "access_manager"};
	for (size_t i = 0; i < KP_NELEM(roles); i++) {
		struct org_role r = {.kbo = "0412345614", .insz = JAN,
				     .valid_from = "2026-01-01",
				     .valid_until = "2026-12-31"};
		str_copy(r.role, sizeof(r.role), roles[i]);
		assert_int_equal(org_role_grant(tmp.log, &ts_operator, &r, &e),
				 0);
	}
	struct auth_profile *l;
	int n;
	assert_int_equal(auth_profiles(a, JAN, &l, &n, &e), 0);
	/* Lucas is of age: not offered. */
	assert_int_equal(n, 3);
	assert_string_equal(l[0].kind, "self");
	assert_string_equal(l[0].insz, JAN);
	assert_string_equal(l[1].kind, "child");
	assert_string_equal(l[1].insz, "12090311839");
	assert_string_equal(l[1].name, "Lotte Peeters");
	assert_string_equal(l[2].kind, "organisation");
	assert_string_equal(l[2].kbo, "0412345614");
	assert_string_equal(l[2].name, "Bakkerij");
	assert_int_equal(l[2].nroles, 2);
	assert_string_equal(l[2].roles[0], "access_manager");
	free(l);
	/* Past the roles' end, the organisation is no choice any more. */
	clock_set_ms(ts_day("2027-01-01") * 86400 * 1000);
	assert_int_equal(auth_profiles(a, JAN, &l, &n, &e), 0);
	assert_int_equal(n, 2);
	free(l);
	clock_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(levels_are_data, setup,
						teardown),
		cmocka_unit_test_setup_teardown(profiles_to_choose, setup,
						teardown),
		cmocka_unit_test_setup_teardown(accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(password_login_and_lockout,
						setup, teardown),
		cmocka_unit_test_setup_teardown(sessions_end, setup, teardown),
		cmocka_unit_test_setup_teardown(usernames_have_one_form, setup,
						teardown),
		cmocka_unit_test_setup_teardown(guessing_meets_growing_delays,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_lock_is_announced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_pending_key_is_not_guessed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			codes_are_limited_per_account_and_address, setup,
			teardown),
		cmocka_unit_test_setup_teardown(repeated_failures_are_one_event,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			repeated_code_failures_fold_until_the_lock, setup,
			teardown),
		cmocka_unit_test_setup_teardown(lockout_is_configuration,
						setup, teardown),
		cmocka_unit_test_setup_teardown(certificate_login, setup,
						teardown),
		cmocka_unit_test_setup_teardown(deactivated_keys_open_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(rfc6238_vectors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(totp_enrol_confirm_step_up,
						setup, teardown),
		cmocka_unit_test_setup_teardown(addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(code_key_enrol_confirm, setup,
						teardown),
		cmocka_unit_test_setup_teardown(code_expires_at_its_lifetime,
						setup, teardown),
		cmocka_unit_test_setup_teardown(code_send_window, setup,
						teardown),
		cmocka_unit_test_setup_teardown(totp_window_on_the_clock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_key_needs_a_session_at_its_level, setup, teardown),
		cmocka_unit_test_setup_teardown(two_totp_apps, setup, teardown),
		cmocka_unit_test_setup_teardown(session_level_follows_its_keys,
						setup, teardown),
		cmocka_unit_test_setup_teardown(time_limits_are_configuration,
						setup, teardown),
		cmocka_unit_test_setup_teardown(key_notices_go_with_the_change,
						setup, teardown),
		cmocka_unit_test_setup_teardown(nothing_without_its_event,
						setup, teardown),
		cmocka_unit_test_setup_teardown(csrf_is_a_mac_of_the_token,
						setup, teardown),
		cmocka_unit_test_setup_teardown(handoff_once_and_in_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(handoff_rows_hold_hashes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(handoffs_are_bounded, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
