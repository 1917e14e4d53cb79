/*
 * What adding or losing a key does beyond the key itself (seed 000 art.
 * 5): a key may be added only by a session already at its level, so no
 * key raises the session that adds it; the person hears of every key
 * added or removed at their other addresses, through the outbox, in the
 * transaction of the change (a notice leaves only if the change commits);
 * and a session is worth no more than the keys still valid that were used
 * in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"

/* The person's addresses other than key's own: the account's e-mail and
 * phone, and the addresses of their other active e-mail and SMS keys, each
 * once. */
static const char sql_notice_to[] =
	"SELECT ch, addr FROM ("
	" SELECT 'email' AS ch, email AS addr FROM account"
	"  WHERE insz = ?1 AND email IS NOT NULL"
	" UNION SELECT 'sms', phone FROM account"
	"  WHERE insz = ?1 AND phone IS NOT NULL"
	" UNION SELECT CASE type WHEN 'email_code' THEN 'email' ELSE 'sms' END,"
	"  address FROM credential WHERE insz = ?1 AND id != ?2"
	"  AND status = 'active' AND type IN ('email_code', 'sms_code')"
	"  AND address IS NOT NULL) AS reach"
	" WHERE addr != coalesce((SELECT address FROM credential WHERE id = ?2), '')"
	" ORDER BY ch, addr";
static const char sql_language[] = "SELECT language FROM account WHERE insz = ?1";
static const char sql_sessions_of_key_end[] =
	"UPDATE session SET ended_at = ?2 WHERE key_id = ?1 AND ended_at IS NULL";
/* Back to the level of the key that opened it: the step-up key was the
 * only other key used in it. */
static const char sql_sessions_of_step_up_lower[] =
	"UPDATE session SET level = coalesce((SELECT t.level FROM key_type t"
	" WHERE t.code = session.key_type), 0), step_up = NULL,"
	" step_up_key = NULL WHERE step_up_key = ?1 AND ended_at IS NULL";

/* The key types a person adds themselves, by the API's names. */
static const struct {
	const char *name, *key_type;
} enrolled[] = {
	{"totp", "totp_app"},
	{"email_code", "email_code"},
	{"sms_code", "sms_code"},
};

int auth_enrol_level(struct auth *a, const char *type)
{
	for (size_t i = 0; i < KP_NELEM(enrolled); i++)
		if (strcmp(enrolled[i].name, type) == 0)
			return auth_key_level(a, enrolled[i].key_type);
	return 0;
}

void auth_set_notify(struct auth *a, struct notify *n)
{
	a->notify = n;
}

int auth_code_ttl(struct auth *a)
{
	return a->opt.code_ttl_s;
}

int auth_registration_code_ttl(struct auth *a)
{
	return a->opt.registration_code_ttl_s;
}

const struct error *auth_level_refusal(struct auth *a, const char *key_type,
				       int level, struct error *bad)
{
	int need = auth_key_level(a, key_type);
	if (level >= need)
		return NULL;
	err_set(bad, ERR_FORBIDDEN, "insufficient_level",
		"adding a key of level %d needs a session at level %d: log in "
		"with your eID or step up with a key of that level first",
		need, need);
	return bad;
}

struct recipient {
	char channel[8];
	char to[128];
};

static void read_recipient(struct store_stmt *st, void *item)
{
	struct recipient *r = item;
	str_copy(r->channel, sizeof(r->channel), store_col_text(st, 0));
	str_copy(r->to, sizeof(r->to), store_col_text(st, 1));
}

static void read_language(struct store_stmt *st, void *out)
{
	str_copy(out, AUTH_LANGUAGE_BUF, store_col_text(st, 0));
}

/* The language of insz's account on c, or "en" when there is no account
 * or the store cannot tell: a message in English reaches more people
 * than none. */
static void language_on(struct store_conn *c, const char *insz,
			char lang[AUTH_LANGUAGE_BUF])
{
	str_copy(lang, AUTH_LANGUAGE_BUF, "en");
	if (!c)
		return;
	struct store_stmt *st = store_prepare(c, sql_language);
	store_bind_text(st, 1, insz);
	if (store_one(st, read_language, lang, NULL) != 0)
		str_copy(lang, AUTH_LANGUAGE_BUF, "en");
}

void auth_account_language(struct auth *a, const char *insz,
			   char lang[AUTH_LANGUAGE_BUF])
{
	language_on(store_reader(a->store), insz, lang);
}

static const char sql_account_email[] =
	"SELECT coalesce(email, '') FROM account WHERE insz = ?1";

static void read_email(struct store_stmt *st, void *out)
{
	str_copy(out, 128, store_col_text(st, 0));
}

void auth_account_email(struct auth *a, const char *insz, char out[128])
{
	out[0] = '\0';
	struct store_stmt *st = store_prepare(store_reader(a->store),
					      sql_account_email);
	store_bind_text(st, 1, insz);
	store_one(st, read_email, out, NULL);
}

/* In w's transaction: the message name_email or name_sms, in the
 * person's language, queued for each of insz's addresses other than
 * key_id's own. Returns 0, or -1 with e. */
static int notice_queue(struct store_conn *w, const struct auth *a,
			const char *insz, int64_t key_id, const char *name,
			const char *const (*vars)[2], size_t nvars,
			struct error *e)
{
	if (!a->notify)
		return 0;
	char lang[AUTH_LANGUAGE_BUF];
	language_on(w, insz, lang);
	struct store_stmt *st = store_prepare(w, sql_notice_to);
	store_bind_text(st, 1, insz);
	store_bind_int(st, 2, key_id);
	int n = 0;
	struct recipient *to = store_collect(st, sizeof(*to), read_recipient,
					     &n);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char *msg = xasprintf("%s_%s", name, to[i].channel), *subject,
		     *body;
		struct error ce;
		rc = notify_message(msg, lang, vars, nvars, &subject, &body,
				    e);
		free(msg);
		if (rc != 0)
			break;
		/* A channel the operator has not set up reaches nobody: the
		 * other addresses still hear of it. */
		if (notify_queue(a->notify, w, to[i].channel, to[i].to,
				 subject, body, &ce) != 0 &&
		    strcmp(ce.code, "channel_unavailable") != 0) {
			*e = ce;
			rc = -1;
		}
		free(subject);
		free(body);
	}
	free(to);
	return rc;
}

int auth_key_notice(struct store_conn *w, const struct auth *a,
		    const char *insz, int64_t key_id, const char *key_type,
		    bool added, struct error *e)
{
	const char *const vars[][2] = {{"key_type", key_type}};
	return notice_queue(w, a, insz, key_id,
			    added ? "key_added" : "key_removed", vars,
			    KP_NELEM(vars), e);
}

int auth_lock_notice(struct store_conn *w, const struct auth *a,
		     const char *insz, int64_t key_id, const char *key_type,
		     struct error *e)
{
	/* Someone may be guessing: the person should know, and how to get
	 * a new key, since a locked key is replaced, never unlocked. */
	const char *const vars[][2] = {{"key_type", key_type}};
	return notice_queue(w, a, insz, key_id, "key_locked", vars,
			    KP_NELEM(vars), e);
}

int auth_notice_message(struct store_conn *w, const struct auth *a,
			const char *insz, int64_t key_id, const char *name,
			const char *const (*vars)[2], size_t nvars,
			struct error *e)
{
	return notice_queue(w, a, insz, key_id, name, vars, nvars, e);
}

void auth_notice_wake(const struct auth *a)
{
	if (a->notify)
		notify_wake(a->notify);
}

int auth_key_lost(struct store_conn *w, int64_t key_id, struct error *e)
{
	/* A key that opened a session was the session's first key: nothing
	 * valid is left of it. */
	struct store_stmt *st = store_prepare(w, sql_sessions_of_key_end);
	store_bind_int(st, 1, key_id);
	store_bind_int(st, 2, time_now());
	if (store_run(st, NULL, e) != 0)
		return -1;
	st = store_prepare(w, sql_sessions_of_step_up_lower);
	store_bind_int(st, 1, key_id);
	return store_run(st, NULL, e);
}
