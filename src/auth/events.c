/*
 * How src/auth records what it does (docs/ARCHITECTURE.md "Auditing"):
 * the event of a person's authentication step, failures that are counted
 * and still refused, and the one transaction in which a code is used up
 * (or its failure counted), a key activated or a session raised, together
 * with the event.
 */
#include <string.h>

#include "auth/auth_internal.h"

static const char sql_key_failed[] =
	"UPDATE credential SET failures = failures + 1, status = CASE WHEN "
	"failures + 1 >= ?2 THEN 'locked' ELSE status END, changed_at = ?3 "
	"WHERE id = ?1 AND status IN ('active', 'pending') RETURNING status";
static const char sql_key_owner[] =
	"SELECT insz, type, status FROM credential WHERE id = ?1";
static const char sql_key_activate[] =
	"UPDATE credential SET status = 'active', failures = 0, changed_at = ?2 "
	"WHERE id = ?1 AND status = 'pending'";
static const char sql_session_raise[] =
	"UPDATE session SET level = CASE WHEN ?2 > level THEN ?2 ELSE level "
	"END, step_up = ?3, "
	"step_up_key = nullif(?4, 0),"
	/* Only a step-up that raises the level is a new authentication at
	 * it: a code after an eID login must not look like a fresh eID. */
	" stepped_at = CASE WHEN ?2 > level THEN ?5 ELSE stepped_at END "
	"WHERE token_hash = ?1 AND ended_at IS NULL";

struct audit_event auth_event(const struct audit_actor *by, const char *insz,
			      const char *action, const char *purpose)
{
	struct audit_event ev = audit_event_by(by, action);
	bool person = insz && insz_valid(insz) && strlen(insz) == 11;
	ev.subject = person ? insz : NULL;
	/* The person acts on their own authentication (a login names
	 * nobody yet); an operator seeding keys is no person. */
	if (!ev.user && strcmp(by->channel, AUDIT_CHANNEL_CLI) != 0)
		ev.user = ev.subject;
	if (!ev.profile)
		ev.profile = "self";
	ev.data_type = "authentication";
	ev.purpose = purpose;
	return ev;
}

bool auth_token_hash(const char *token, uint8_t hash[SHA256_LEN])
{
	if (!token || strlen(token) != TOKEN_HEX_LEN - 1)
		return false;
	for (const char *p = token; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	sha256_digest(token, TOKEN_HEX_LEN - 1, hash);
	return true;
}

/* The key a failure counts against: whose it is, its type and its
 * status before the failure. */
struct failed_key {
	char insz[INSZ_BUF];
	char type[32];
	char status[16];
};

static void read_failed(struct store_stmt *st, void *row)
{
	struct failed_key *k = row;
	str_copy(k->insz, sizeof(k->insz), store_col_text(st, 0));
	str_copy(k->type, sizeof(k->type), store_col_text(st, 1));
	str_copy(k->status, sizeof(k->status), store_col_text(st, 2));
}

/* In w's transaction, for a key that just locked: its sessions lowered
 * and, when it was in use, its person told (a pending key never counted:
 * its lock is no news, as its end is not). Should either fail the lock
 * still stands: a lock errs on the safe side, the sessions it missed end
 * at their lifetime, and the person sees the lock under My keys. */
static void key_locked(struct store_conn *w, const struct auth *a,
		       int64_t key_id, const struct failed_key *k)
{
	struct error e;
	if (auth_key_lost(w, key_id, &e) != 0)
		log_msg(LV_WARN, __func__, "security: sessions of a locked key "
			"were not lowered");
	if (strcmp(k->status, "active") == 0 &&
	    auth_lock_notice(w, a, k->insz, key_id, k->type, &e) != 0)
		log_msg(LV_WARN, __func__, "security: the notice of a locked "
			"key was not queued");
}

bool auth_count_failure(struct store_conn *w, const struct auth *a,
			int64_t key_id, int max)
{
	struct failed_key k = {"", "", ""};
	struct store_stmt *st = store_prepare(w, sql_key_owner);
	store_bind_int(st, 1, key_id);
	if (store_one(st, read_failed, &k, NULL) != 0)
		return false; /* no such key: nothing to count */
	st = store_prepare(w, sql_key_failed);
	store_bind_int(st, 1, key_id);
	store_bind_int(st, 2, max);
	store_bind_int(st, 3, time_now());
	bool locked = store_step(st) == STORE_ROW &&
		      strcmp(store_col_text(st, 0), "locked") == 0;
	store_done(st);
	/* A locked key is as good as lost for the sessions that used it. */
	if (locked)
		key_locked(w, a, key_id, &k);
	return locked;
}

void auth_refuse_kept(struct audit_event *ev, const char *action, bool locked,
		      const char *code, const char *detail,
		      struct error *refusal)
{
	ev->action = action;
	if (locked) {
		ev->action = "key_lock";
		err_set(refusal, ERR_LOCKED, "key_locked",
			"too many failures: this key is now locked");
	} else {
		err_set(refusal, ERR_UNAUTHENTICATED, code, "%s", detail);
	}
	ev->outcome = AUDIT_REFUSED;
	ev->reason = refusal->code;
}

/* Run st (bound) and say whether it changed a row: 0, 1 when it changed
 * none, or -1 with e. */
static int changed_one(struct store_conn *w, struct store_stmt *st,
		       struct error *e)
{
	if (store_run(st, NULL, e) != 0)
		return -1;
	return store_changes(w) ? 0 : 1;
}

/* A good code's writes: the code used up, the key activated, the session
 * raised, as p asks. Returns 0, or -1 with e (the refusal when one of
 * them found nothing to change: a race lost, all undone). */
static int proof_use(struct store_conn *w, struct auth_proof *p,
		     struct error *e)
{
	int rc = 0;
	if (p->use_sql) {
		struct store_stmt *st = store_prepare(w, p->use_sql);
		store_bind_int(st, 1, p->use_id);
		store_bind_int(st, 2, p->use_num);
		store_bind_int(st, 3, time_now());
		if ((rc = changed_one(w, st, e)) == 1)
			return err_set(e, ERR_UNAUTHENTICATED, "invalid_code",
				       "the code was used already");
	}
	if (rc == 0 && p->activate) {
		struct store_stmt *st = store_prepare(w, sql_key_activate);
		store_bind_int(st, 1, p->key_id);
		store_bind_int(st, 2, time_now());
		if ((rc = changed_one(w, st, e)) == 1)
			return err_set(e, ERR_CONFLICT, "already_confirmed",
				       "this key is not waiting for "
				       "confirmation");
	}
	if (rc == 0 && p->raise) {
		struct store_stmt *st = store_prepare(w, sql_session_raise);
		store_bind_blob(st, 1, p->session, SHA256_LEN);
		store_bind_int(st, 2, p->level);
		store_bind_text(st, 3, p->method);
		store_bind_int(st, 4, p->key_id);
		store_bind_int(st, 5, time_now());
		if ((rc = changed_one(w, st, e)) == 1)
			return err_set(e, ERR_UNAUTHENTICATED,
				       "not_authenticated",
				       "the session has ended");
	}
	if (rc == 0 && p->insz)
		rc = auth_key_notice(w, p->a, p->insz, p->key_id, p->key_type,
				     true, e);
	return rc;
}

static int proof_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct auth_proof *p = ctx;
	err_clear(&p->refusal);
	if (p->valid) {
		if (p->key_id)
			auth_failure_close(w, p->key_id);
		return proof_use(w, p, e);
	}
	/* The count is the point of this refusal: it is kept. */
	/* One-time codes are few digits: they lock after a few failures. */
	bool locked = p->key_id &&
		      auth_count_failure(w, p->a, p->key_id,
					 p->a->opt.max_code_failures);
	auth_refuse_kept(&evs[0], p->action, locked, "invalid_code", p->wrong,
			 &p->refusal);
	if (p->key_id && !locked)
		auth_failure_open(w, p->a, p->key_id, &evs[0]);
	return 0;
}

int auth_proof_commit(struct auth *a, struct audit_event *ev,
		      struct auth_proof *p, struct error *e)
{
	p->a = a;
	p->action = ev->action;
	if (!p->valid && p->key_id) {
		/* A like failure in the key's window is counted, not
		 * written again (failures.c). */
		if (auth_failure_fold(a, p->key_id, ev, "invalid_code",
				      a->opt.max_code_failures))
			return err_set(e, ERR_UNAUTHENTICATED, "invalid_code",
				       "%s", p->wrong);
	}
	int rc = audit_commit(a->log, ev, 1, proof_change, p, e);
	/* After the commit: no request may act on the session as it was
	 * (raised, or lowered by a key that locked). */
	if (p->raise || p->refusal.kind == ERR_LOCKED)
		auth_cache_invalidate(a);
	if (rc == 0 && p->insz)
		auth_notice_wake(a);
	if (rc == 0 && p->refusal.kind) {
		*e = p->refusal;
		return -1;
	}
	return rc;
}

int auth_session_raise(struct auth *a, struct audit_event *ev,
		       const char *token, int level, const char *method,
		       struct error *e)
{
	struct auth_proof p = {.valid = true, .raise = true, .level = level,
			       .method = method};
	if (!auth_token_hash(token, p.session)) {
		err_set(e, ERR_UNAUTHENTICATED, "not_authenticated",
			"no session");
		return audit_refused(a->log, ev, e);
	}
	return auth_proof_commit(a, ev, &p, e);
}

/* ---------------------------------------------------------------- step-up */

int auth_step_up(struct auth *a, const struct audit_actor *by,
		 const char *token, const char *insz, const char *method,
		 const char *code, int *level, struct error *e)
{
	struct audit_event ev = auth_event(by, insz, "step_up", method);
	const char *type = auth_step_up_key(method);
	struct auth_proof p = {.raise = true};
	if (!type) {
		err_set(e, ERR_INVALID, "invalid_field",
			"method: totp, email_code or sms_code");
		return audit_refused(a->log, &ev, e);
	}
	if (!auth_token_hash(token, p.session)) {
		err_set(e, ERR_UNAUTHENTICATED, "not_authenticated",
			"no session");
		return audit_refused(a->log, &ev, e);
	}
	int rc = strcmp(type, "totp_app") == 0
			 ? auth_totp_proof(a, insz, code, &p, e)
			 : auth_code_proof(a, insz, type, code, &p, e);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		err_set(e, ERR_UNAUTHENTICATED, "invalid_code",
			"you have no active %s key", method);
		return audit_refused(a->log, &ev, e);
	}
	*level = p.level = auth_key_level(a, type);
	p.method = type;
	return auth_proof_commit(a, &ev, &p, e);
}
