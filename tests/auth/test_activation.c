/* Activation by a registration office: the issue (code, link queued, keys
 * linked to the e-mail address), the citizen's start, credentials and
 * completion with each key type, expiry on the test clock, the lock after
 * wrong codes, codes used once, the resend limit, recovery of an existing
 * account, password quality, and the eID self-service of credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <liboath/oath.h>
#include <sodium.h>

#include "support/support.h"
#include "auth/auth.h"
#include "auth/auth_internal.h" /* the codes' stored form */
#include "notify/notify.h"

static struct ts_store tmp;
static struct store *s;
static struct auth *a;
static struct notify *n;

#define JAN "85073003328"
#define MARIE "90022800292"
#define LINK "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define GOOD_PASSWORD "quiet river under copper lamps"
#define MAX_FAILURES 3

static const struct audit_actor citizen = {AUDIT_CHANNEL_API, NULL, NULL,
					   "self"};

static int setup(void **state)
{
	(void)state;
	struct error e;
	ts_clock_start();
	if (ts_store_open(&tmp, "activation") != 0)
		return -1;
	s = tmp.s;
	struct auth_options o = {.argon2_ops = crypto_pwhash_OPSLIMIT_MIN,
				 .argon2_mem = crypto_pwhash_MEMLIMIT_MIN,
				 .activation_max_failures = MAX_FAILURES,
				 .session_absolute_s = 3600,
				 .session_idle_s = 600};
	rand_bytes(o.master_key, sizeof(o.master_key));
	/* Nothing listens there: messages wait in the outbox. */
	struct notify_options no = {.smtp_url = "smtp://127.0.0.1:1",
				    .sms_url = "http://127.0.0.1:1/"};
	rand_bytes(no.master_key, sizeof(no.master_key));
	if (auth_open(tmp.log, &o, &a, &e) != 0 ||
	    notify_open(s, &no, &n, &e) != 0)
		return -1;
	auth_set_notify(a, n);
	if (ts_person(tmp.log, JAN, "Peeters", "Jan", "", &e) != 0)
		return -1;
	return ts_person(tmp.log, MARIE, "Dubois", "Marie", "", &e);
}

static int teardown(void **state)
{
	(void)state;
	auth_set_notify(a, NULL);
	notify_close(n);
	auth_close(a);
	clock_reset();
	return ts_store_close(&tmp);
}

/* Set column of the newest activation to the stored form of value (a
 * link token's SHA-256, or a code's keyed hash): the test then knows
 * what only the e-mail or the SMS would carry. */
static void set_hash(const char *column, const char *value)
{
	/* A literal per column: the store caches statements by their text's
	 * address. */
	static const char link[] = "UPDATE activation SET link_hash = ?1 "
				   "WHERE id = (SELECT max(id) FROM activation)";
	static const char code[] = "UPDATE activation SET reg_code_hash = ?1 "
				   "WHERE id = (SELECT max(id) FROM activation)";
	uint8_t h[crypto_generichash_BYTES];
	size_t len = sizeof(h);
	bool is_link = strcmp(column, "link_hash") == 0;
	if (is_link) {
		sha256_digest(value, strlen(value), h);
		len = SHA256_LEN;
	} else {
		auth_code_digest(a, value, h);
	}
	struct error e;
	struct store_conn *w = store_write_begin(s, &e);
	assert_non_null(w);
	struct store_stmt *st = store_prepare(w, is_link ? link : code);
	store_bind_blob(st, 1, h, len);
	assert_int_equal(store_write_end(s, store_run(st, NULL, &e), &e), 0);
}

/* Jan's activation at email (phone may be ""); the link token is LINK. */
static void issue(const char *email, const char *phone,
		  struct auth_activation_issued *out)
{
	struct error e;
	/* Each on an identification of its own, as an office issues them. */
	static int64_t identification = 7;
	struct auth_activation_request req = {JAN, email, phone, "nl",
					      identification++, "0123456749"};
	/* LINK names the newest activation only. */
	assert_int_equal(ts_exec(s, ts_pg() ? "UPDATE activation SET link_hash = "
					      "sha256(gen_random_uuid()::text::bytea)"
					    : "UPDATE activation SET link_hash = "
					      "randomblob(32)"),
			 STORE_DONE);
	assert_int_equal(auth_activation_issue(a, &ts_operator, &req, out, &e),
			 0);
	set_hash("link_hash", LINK);
}

/* Issue and start: the activation_id. */
static void started(const char *email, const char *phone,
		    char id[TOKEN_HEX_LEN])
{
	struct auth_activation_issued out;
	struct error e;
	issue(email, phone, &out);
	assert_int_equal(auth_activation_start(a, &citizen, LINK, out.code, id,
					       &e), 0);
	free(out.keys_to_deactivate);
}

static int choose(const char *id, const char *user, const char *password,
		  const char *key, struct auth_activation_choice *out,
		  struct error *e)
{
	struct auth_activation_credentials c = {user, password, key};
	return auth_activation_credentials(a, &citizen, id, &c, out, e);
}

static int login(const char *user, const char *password)
{
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses;
	enum auth_failure why;
	struct error e;
	return auth_login_password(a, &citizen, user, password, token, &ses,
				   &why, insz, &e);
}

static void issue_keeps_hashes_and_queues_the_link(void **state)
{
	(void)state;
	struct auth_activation_issued out;
	issue("jan@example.org", "", &out);
	/* Four groups of five from the unambiguous alphabet. */
	assert_int_equal(strlen(out.code), 23);
	for (int i = 0; i < 23; i++)
		if (i % 6 == 5)
			assert_int_equal(out.code[i], '-');
		else
			assert_non_null(strchr("23456789ABCDEFGHJKMNPQRSTUVWXYZ",
					       out.code[i]));
	assert_int_equal(out.expires_at, time_now() + AUTH_ACTIVATION_TTL_S);
	assert_int_equal(out.nkeys, 0);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM outbox WHERE recipient = "
			       "'jan@example.org' AND channel = 'email'"), 1);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM activation WHERE status = "
			       "'issued' AND length(code_hash) = 32"), 1);
	struct audit_record *ev;
	int k = ts_events(tmp.log, "activation_issue", &ev);
	assert_int_equal(k, 1);
	assert_string_equal(ev[0].subject, JAN);
	free(ev);
	/* A bad address is refused and recorded; nothing issued. */
	struct error e;
	struct auth_activation_request bad = {JAN, "jan@x.org>, evil@y", NULL,
					      "nl", 7, ""};
	assert_int_equal(auth_activation_issue(a, &ts_operator, &bad, &out, &e),
			 -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(ts_int(s, "SELECT count(*) FROM activation"), 1);
}

static void keys_linked_to_the_address_are_listed_not_touched(void **state)
{
	(void)state;
	struct error e;
	struct auth_account m = {MARIE, "marie", "", "", "fr"};
	assert_int_equal(auth_account_create(a, &ts_operator, &m,
					     "correct horse", &e), 0);
	assert_int_equal(auth_code_key_add(a, &ts_operator, MARIE, "email_code",
					   "shared@example.org", &e), 0);
	assert_int_equal(auth_code_key_add(a, &ts_operator, MARIE, "email_code",
					   "marie@example.org", &e), 0);
	struct auth_activation_issued out;
	issue("shared@example.org", "", &out);
	/* The office learns how many of a stranger's keys the address
	 * holds, not which: typing an address tells no officer who holds
	 * keys there. */
	assert_int_equal(out.nkeys, 1);
	assert_int_equal(out.others, 1);
	free(out.keys_to_deactivate);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM credential WHERE status = "
			       "'active'"), 3);
}

static void start_refuses_alike_and_counts(void **state)
{
	(void)state;
	struct auth_activation_issued out;
	struct error e;
	char id[TOKEN_HEX_LEN];
	issue("jan@example.org", "", &out);
	/* Unknown link and wrong code: the same answer. */
	assert_int_equal(auth_activation_start(a, &citizen, "ab", out.code, id,
					       &e), -1);
	assert_string_equal(e.code, "invalid_activation");
	for (int i = 0; i < MAX_FAILURES; i++) {
		assert_int_equal(auth_activation_start(
					 a, &citizen, LINK,
					 "22222-22222-22222-22222", id, &e),
				 -1);
		assert_string_equal(e.code, "invalid_activation");
	}
	assert_int_equal(ts_int(s, "SELECT count(*) FROM activation WHERE status = "
			       "'locked'"), 1);
	/* Locked: the right code no longer opens it. */
	assert_int_equal(auth_activation_start(a, &citizen, LINK, out.code, id,
					       &e), -1);
	assert_string_equal(e.code, "invalid_activation");
	free(out.keys_to_deactivate);
}

static void expired_links_are_gone(void **state)
{
	(void)state;
	struct auth_activation_issued out;
	struct error e;
	char id[TOKEN_HEX_LEN];
	issue("jan@example.org", "", &out);
	clock_advance_ms((int64_t)AUTH_ACTIVATION_TTL_S * 1000);
	assert_int_equal(auth_activation_start(a, &citizen, LINK, out.code, id,
					       &e), -1);
	assert_string_equal(e.code, "activation_expired");
	assert_int_equal(e.kind, ERR_GONE);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM activation WHERE status = "
			       "'expired'"), 1);
}

static void email_key_completes_once_and_replaces_linked_keys(void **state)
{
	(void)state;
	struct error e;
	struct auth_account m = {MARIE, "marie", "marie@example.org", "", "fr"};
	assert_int_equal(auth_account_create(a, &ts_operator, &m,
					     "correct horse", &e), 0);
	assert_int_equal(auth_code_key_add(a, &ts_operator, MARIE, "email_code",
					   "shared@example.org", &e), 0);
	char id[TOKEN_HEX_LEN];
	struct auth_activation_choice ch;
	started("shared@example.org", "", id);
	assert_int_equal(choose(id, "Marie", GOOD_PASSWORD, "email_code", &ch,
				&e), -1);
	assert_string_equal(e.code, "username_taken");
	assert_int_equal(choose(id, "jan.p", GOOD_PASSWORD, "email_code", &ch,
				&e), 0);
	assert_string_equal(ch.sent_to, "shared@example.org");
	assert_null(ch.otpauth_uri);
	set_hash("reg_code_hash", "123456");
	assert_int_equal(auth_activation_complete(a, &citizen, id, "654321", &e),
			 -1);
	assert_string_equal(e.code, "invalid_code");
	int64_t queued = ts_int(s, "SELECT count(*) FROM outbox");
	assert_int_equal(auth_activation_complete(a, &citizen, id, "123456", &e),
			 0);
	assert_int_equal(login("jan.p", GOOD_PASSWORD), 0);
	/* Marie's key on that address is gone, and she is told. */
	assert_int_equal(ts_int(s, "SELECT count(*) FROM credential WHERE insz = '"
			       MARIE "' AND status = 'deactivated'"), 1);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM outbox WHERE recipient = "
			       "'marie@example.org'"), 1);
	assert_true(ts_int(s, "SELECT count(*) FROM outbox") > queued);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM credential WHERE insz = '"
			       JAN "' AND status = 'active'"), 2);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM activation WHERE status = "
			       "'completed' AND password_hash IS NULL"), 1);
	/* The code is used: the activation is over. */
	assert_int_equal(auth_activation_complete(a, &citizen, id, "123456", &e),
			 -1);
	assert_string_equal(e.code, "invalid_activation");
	struct audit_record *ev;
	assert_int_equal(ts_events(tmp.log, "key_deactivate", &ev), 1);
	assert_string_equal(ev[0].subject, MARIE);
	assert_string_equal(ev[0].user, JAN);
	free(ev);
}

/* The current code of the app the otpauth:// URI sets up. */
static void totp_code(const char *uri, char code[7])
{
	const char *p = strstr(uri, "secret=");
	assert_non_null(p);
	p += 7;
	size_t len = strcspn(p, "&");
	char *secret = NULL;
	size_t sn;
	assert_int_equal(oath_base32_decode(p, len, &secret, &sn), OATH_OK);
	assert_int_equal(oath_totp_generate(secret, sn, time_now(), 30, 0, 6,
					    code), OATH_OK);
	free(secret);
}

static void totp_key_completes_with_the_apps_code(void **state)
{
	(void)state;
	struct error e;
	char id[TOKEN_HEX_LEN], code[7];
	struct auth_activation_choice ch;
	started("jan@example.org", "", id);
	assert_int_equal(choose(id, "jan", GOOD_PASSWORD, "totp", &ch, &e), 0);
	assert_non_null(ch.otpauth_uri);
	assert_non_null(ch.qr_png_base64);
	assert_non_null(strstr(ch.otpauth_uri, "kruispunt:jan?"));
	/* No code to send for an app. */
	char to[128];
	assert_int_equal(auth_activation_resend(a, &citizen, id, to, &e), -1);
	assert_string_equal(e.code, "no_code_key");
	totp_code(ch.otpauth_uri, code);
	free(ch.otpauth_uri);
	free(ch.qr_png_base64);
	assert_int_equal(auth_activation_complete(a, &citizen, id, code, &e), 0);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM credential WHERE type = "
			       "'totp_app' AND status = 'active' AND "
			       "last_counter > 0"), 1);
	assert_int_equal(login("jan", GOOD_PASSWORD), 0);
}

static void sms_key_needs_the_offices_phone(void **state)
{
	(void)state;
	struct error e;
	char id[TOKEN_HEX_LEN];
	struct auth_activation_choice ch;
	started("jan@example.org", "", id);
	assert_int_equal(choose(id, "jan", GOOD_PASSWORD, "sms_code", &ch, &e),
			 -1);
	assert_string_equal(e.code, "invalid_field");
	started("jan@example.org", "+32470000001", id);
	assert_int_equal(choose(id, "jan", GOOD_PASSWORD, "sms_code", &ch, &e),
			 0);
	assert_string_equal(ch.sent_to, "+32470000001");
	assert_int_equal(ts_int(s, "SELECT count(*) FROM outbox WHERE channel = "
			       "'sms'"), 1);
	/* Five minutes, then the code is worth nothing. */
	set_hash("reg_code_hash", "123456");
	clock_advance_ms((int64_t)AUTH_REGISTRATION_CODE_TTL_S * 1000);
	assert_int_equal(auth_activation_complete(a, &citizen, id, "123456", &e),
			 -1);
	assert_string_equal(e.code, "invalid_code");
}

static void wrong_codes_lock_the_activation(void **state)
{
	(void)state;
	struct error e;
	char id[TOKEN_HEX_LEN];
	struct auth_activation_choice ch;
	started("jan@example.org", "", id);
	assert_int_equal(choose(id, "jan", GOOD_PASSWORD, "email_code", &ch, &e),
			 0);
	set_hash("reg_code_hash", "123456");
	for (int i = 0; i < MAX_FAILURES - 1; i++) {
		assert_int_equal(auth_activation_complete(a, &citizen, id,
							  "000000", &e), -1);
		assert_string_equal(e.code, "invalid_code");
	}
	assert_int_equal(auth_activation_complete(a, &citizen, id, "000000", &e),
			 -1);
	assert_string_equal(e.code, "activation_locked");
	assert_int_equal(auth_activation_complete(a, &citizen, id, "123456", &e),
			 -1);
	assert_string_equal(e.code, "activation_locked");
	assert_int_equal(ts_int(s, "SELECT count(*) FROM account"), 0);
}

static void resends_are_limited(void **state)
{
	(void)state;
	struct error e;
	char id[TOKEN_HEX_LEN], to[128];
	struct auth_activation_choice ch;
	started("jan@example.org", "", id);
	assert_int_equal(choose(id, "jan", GOOD_PASSWORD, "email_code", &ch, &e),
			 0);
	for (int i = 1; i < AUTH_ACTIVATION_SENDS; i++)
		assert_int_equal(auth_activation_resend(a, &citizen, id, to, &e),
				 0);
	assert_int_equal(auth_activation_resend(a, &citizen, id, to, &e), -1);
	assert_string_equal(e.code, "resend_limit");
	assert_int_equal(ts_int(s, "SELECT count(*) FROM outbox WHERE recipient = "
			       "'jan@example.org'"), 1 + AUTH_ACTIVATION_SENDS);
}

static void recovery_replaces_the_persons_keys(void **state)
{
	(void)state;
	struct error e;
	struct auth_account j = {JAN, "jan.peeters", "old@example.org", "", "nl"};
	assert_int_equal(auth_account_create(a, &ts_operator, &j,
					     "correct horse", &e), 0);
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses;
	enum auth_failure why;
	assert_int_equal(auth_login_password(a, &citizen, "jan.peeters",
					     "correct horse", token, &ses, &why,
					     insz, &e), 0);
	struct auth_activation_issued out;
	issue("jan@example.org", "", &out);
	assert_int_equal(out.nkeys, 1); /* his password key */
	free(out.keys_to_deactivate);
	char id[TOKEN_HEX_LEN];
	struct auth_activation_choice ch;
	assert_int_equal(auth_activation_start(a, &citizen, LINK, out.code, id,
					       &e), 0);
	/* He keeps his username, whatever he types. */
	assert_int_equal(choose(id, "someone.else", GOOD_PASSWORD, "email_code",
				&ch, &e), 0);
	assert_string_equal(ch.username, "jan.peeters");
	set_hash("reg_code_hash", "123456");
	assert_int_equal(auth_activation_complete(a, &citizen, id, "123456", &e),
			 0);
	assert_int_equal(auth_session_check(a, token, &ses), 1);
	assert_int_equal(login("jan.peeters", "correct horse"), -1);
	assert_int_equal(login("jan.peeters", GOOD_PASSWORD), 0);
	/* His old address heard of the activation when it was issued, and
	 * of his old key's end when it completed. */
	assert_int_equal(ts_int(s, "SELECT count(*) FROM outbox WHERE recipient = "
			       "'old@example.org'"), 2);
}

static void passwords_are_checked_for_guessability(void **state)
{
	(void)state;
	struct error e;
	static const char *const weak[] = {
		"short one",                 /* under 12 */
		"sunflowers12",              /* a dictionary word */
		"janpeeters-forever",        /* his own names */
		"my jan.p login 77",         /* his username */
	};
	for (size_t i = 0; i < KP_NELEM(weak); i++) {
		assert_non_null(auth_password_refusal(a, JAN, "jan.p", weak[i],
						      &e));
		assert_string_equal(e.code, "weak_password");
	}
	/* No composition rules: lower-case words are fine. */
	assert_null(auth_password_refusal(a, JAN, "jan.p", GOOD_PASSWORD, &e));
}

static void eid_self_service_sets_credentials(void **state)
{
	(void)state;
	struct error e;
	char user[AUTH_USERNAME_MAX + 1];
	assert_int_equal(auth_credentials_set(a, &citizen, JAN, 400, "jan",
					      GOOD_PASSWORD, user, &e), -1);
	assert_string_equal(e.code, "insufficient_level");
	assert_int_equal(auth_credentials_set(a, &citizen, JAN, 500, NULL,
					      GOOD_PASSWORD, user, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(auth_credentials_set(a, &citizen, JAN, 500, "Jan",
					      GOOD_PASSWORD, user, &e), 0);
	assert_string_equal(user, "jan");
	assert_int_equal(login("jan", GOOD_PASSWORD), 0);
	/* Forgotten: set again with the eID; the old one opens nothing. */
	assert_int_equal(auth_credentials_set(a, &citizen, JAN, 500, NULL,
					      "another calm sentence here",
					      user, &e), 0);
	assert_int_equal(login("jan", GOOD_PASSWORD), -1);
	assert_int_equal(login("jan", "another calm sentence here"), 0);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM credential WHERE type = "
			       "'password' AND status = 'active'"), 1);
}

/* A new activation ends the person's older ones still open: an old
 * letter or link (lost, stolen, or sent to a mistyped address) cannot
 * undo the keys made since. The person's own addresses are told of
 * every activation issued in their name; one identification gives one
 * activation. */
static void a_new_activation_ends_the_old(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = {JAN, "jan", "jan@home.example", "", "nl"};
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	assert_int_equal(auth_code_key_add(a, &ts_operator, JAN, "email_code",
					   "jan@home.example", &e), 0);
	struct auth_activation_issued old, fresh;
	issue("typo@example.org", "", &old);
	char old_code[AUTH_ACTIVATION_CODE_BUF];
	str_copy(old_code, sizeof(old_code), old.code);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM outbox WHERE recipient = "
			       "'jan@home.example'"), 1);
	/* The old link's token is LINK; the new one gets its own. */
	struct auth_activation_request req = {JAN, "jan@example.org", "", "nl",
					      500, "0123456749"};
	assert_int_equal(auth_activation_issue(a, &ts_operator, &req, &fresh,
					       &e), 0);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM activation WHERE status "
			       "= 'revoked'"), 1);
	char id[TOKEN_HEX_LEN];
	assert_int_equal(auth_activation_start(a, &citizen, LINK, old_code, id,
					       &e), -1);
	assert_string_equal(e.code, "invalid_activation");
	free(fresh.keys_to_deactivate);
	assert_int_equal(auth_activation_issue(a, &ts_operator, &req, &fresh,
					       &e), -1);
	assert_string_equal(e.code, "identification_used");
	free(old.keys_to_deactivate);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(issue_keeps_hashes_and_queues_the_link),
		T(keys_linked_to_the_address_are_listed_not_touched),
		T(start_refuses_alike_and_counts),
		T(expired_links_are_gone),
		T(email_key_completes_once_and_replaces_linked_keys),
		T(totp_key_completes_with_the_apps_code),
		T(sms_key_needs_the_offices_phone),
		T(wrong_codes_lock_the_activation),
		T(resends_are_limited),
		T(recovery_replaces_the_persons_keys),
		T(passwords_are_checked_for_guessability),
		T(eid_self_service_sets_credentials),
		T(a_new_activation_ends_the_old),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
