/*
 * Repeated authentication failures, recorded per key and window (the
 * security review's "no flood of events"): the first failure of a key in a
 * window is an event of its own, written at once; like failures after it
 * in the window (same key, action, channel and reason) are counted in
 * auth_failure, in the transaction that also counts them against the
 * key's lockout; when the window ends, one event with their count is
 * written and the row removed, in one audit_commit. A failure that locks
 * the key is never folded in: the lock is its own event.
 *
 * This applies to authentication only. A refused access to personal data
 * is always one event of its own (src/hub, src/registry).
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "org/org.h"

/* The open window of a key's like failures: the newest, should two first
 * failures have raced to open one each. ?1 key, ?2 action, ?3 channel,
 * ?4 reason, ?5 the oldest opening still open (ms). */
static const char sql_fold[] =
	"UPDATE auth_failure SET count = count + 1 WHERE id = ("
	"SELECT id FROM auth_failure WHERE key_id = ?1 AND action = ?2 AND "
	"channel = ?3 AND reason = ?4 AND opened_at > ?5 "
	"ORDER BY id DESC LIMIT 1)";
/* A folded failure still counts towards the lock, but only while it does
 * not reach it: the failure that locks is written, never folded. */
static const char sql_fold_count[] =
	"UPDATE credential SET failures = failures + 1, changed_at = ?3 "
	"WHERE id = ?1 AND status IN ('active', 'pending') "
	"AND failures + 1 < ?2";
static const char sql_open[] =
	"INSERT INTO auth_failure (key_id, action, channel, reason, purpose, "
	"insz, actor, \"user\", profile, opened_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
/* A success ends the key's run of failures: its windows are due. */
static const char sql_close[] =
	"UPDATE auth_failure SET opened_at = 0 WHERE key_id = ?1";
/* Windows that ended (?1: opened at or before) with failures to write;
 * ?2 at most. */
static const char sql_due[] =
	"SELECT id, action, channel, reason, coalesce(purpose, ''), "
	"coalesce(insz, ''), coalesce(actor, ''), coalesce(\"user\", ''), "
	"coalesce(profile, '') FROM auth_failure "
	"WHERE count > 0 AND opened_at <= ?1 ORDER BY id LIMIT ?2";
static const char sql_take[] =
	"DELETE FROM auth_failure WHERE id = ?1 RETURNING count";
/* Windows that ended with nothing folded into them: their first failure
 * was written already, nothing is left to say. */
static const char sql_empty_drop[] =
	"DELETE FROM auth_failure WHERE count = 0 AND opened_at <= ?1";

static int64_t window_ms(const struct auth *a)
{
	return (int64_t)a->opt.failure_window_s * 1000;
}

void auth_failure_open(struct store_conn *w, const struct auth *a,
		       int64_t key_id, const struct audit_event *ev)
{
	KP_UNUSED(a);
	struct store_stmt *st = store_prepare(w, sql_open);
	store_bind_int(st, 1, key_id);
	store_bind_text(st, 2, ev->action);
	store_bind_text(st, 3, ev->channel);
	store_bind_text(st, 4, ev->reason);
	store_bind_text(st, 5, ev->purpose);
	store_bind_text(st, 6, ev->subject);
	store_bind_text(st, 7, ev->actor);
	store_bind_text(st, 8, ev->user);
	store_bind_text(st, 9, ev->profile);
	store_bind_int(st, 10, time_now_ms());
	struct error e;
	/* Without its window each like failure is written on its own:
	 * longer, never wrong, so the change it belongs to goes on. */
	if (store_run(st, NULL, &e) != 0)
		log_warn("auth: failure window not opened: %s", e.detail);
}

void auth_failure_close(struct store_conn *w, int64_t key_id)
{
	struct store_stmt *st = store_prepare(w, sql_close);
	store_bind_int(st, 1, key_id);
	struct error e;
	/* Left open, the window would only end later. */
	if (store_run(st, NULL, &e) != 0)
		log_warn("auth: failure window not closed: %s", e.detail);
}

/* In w's transaction: ev's failure folded into its open window, and
 * counted against the key when max > 0. Returns 0, 1 when it cannot be
 * folded, or -1 with e. */
static int fold(struct store_conn *w, const struct auth *a, int64_t key_id,
		const struct audit_event *ev, int max, struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_fold);
	store_bind_int(st, 1, key_id);
	store_bind_text(st, 2, ev->action);
	store_bind_text(st, 3, ev->channel);
	store_bind_text(st, 4, ev->reason);
	store_bind_int(st, 5, time_now_ms() - window_ms(a));
	if (store_run(st, NULL, e) != 0)
		return -1;
	if (store_changes(w) == 0)
		return 1;
	if (max <= 0)
		return 0;
	st = store_prepare(w, sql_fold_count);
	store_bind_int(st, 1, key_id);
	store_bind_int(st, 2, max);
	store_bind_int(st, 3, time_now());
	if (store_run(st, NULL, e) != 0)
		return -1;
	return store_changes(w) ? 0 : 1;
}

bool auth_failure_fold(struct auth *a, int64_t key_id,
		       const struct audit_event *failed, const char *code,
		       int max)
{
	struct audit_event f = *failed, *ev = &f;
	f.outcome = AUDIT_REFUSED;
	f.reason = code;
	struct error e;
	struct store_conn *w = store_write_begin(a->store, &e);
	if (!w)
		return false;
	int rc = fold(w, a, key_id, ev, max, &e);
	if (rc != 0) {
		/* Not folded: written as an event of its own, which is never
		 * wrong, only longer. */
		store_write_rollback(a->store);
		return false;
	}
	return store_write_commit(a->store, &e) == 0;
}

/* ------------------------------------------------------------ the flush */

/* A window due to be written, as read: its event's fields. */
struct window {
	int64_t id;
	char action[32], channel[16], reason[64], purpose[AUDIT_FIELD_MAX + 1];
	char insz[INSZ_BUF], actor[16], user[INSZ_BUF], profile[80];
};

struct flush {
	struct window *win;
	int n;
};

static void read_window(struct store_stmt *st, struct window *w)
{
	w->id = store_col_int(st, 0);
	str_copy(w->action, sizeof(w->action), store_col_text(st, 1));
	str_copy(w->channel, sizeof(w->channel), store_col_text(st, 2));
	str_copy(w->reason, sizeof(w->reason), store_col_text(st, 3));
	str_copy(w->purpose, sizeof(w->purpose), store_col_text(st, 4));
	str_copy(w->insz, sizeof(w->insz), store_col_text(st, 5));
	str_copy(w->actor, sizeof(w->actor), store_col_text(st, 6));
	str_copy(w->user, sizeof(w->user), store_col_text(st, 7));
	str_copy(w->profile, sizeof(w->profile), store_col_text(st, 8));
}

static const char *opt_text(const char *s)
{
	return s[0] ? s : NULL;
}

static struct audit_event window_event(const struct window *w)
{
	return (struct audit_event){
		.channel = w->channel,
		.actor = opt_text(w->actor),
		.user = opt_text(w->user),
		.profile = opt_text(w->profile),
		.subject = opt_text(w->insz),
		.action = w->action,
		.data_type = "authentication",
		.purpose = opt_text(w->purpose),
		.outcome = AUDIT_REFUSED,
		.reason = w->reason,
	};
}

/* The windows taken, each event given the count as it stands now: a
 * failure folded after the read is in it, none is lost. */
static int take_change(struct store_conn *w, void *ctx,
		       struct audit_event *evs, size_t n, struct error *e)
{
	struct flush *f = ctx;
	for (size_t i = 0; i < n; i++) {
		struct store_stmt *st = store_prepare(w, sql_take);
		store_bind_int(st, 1, f->win[i].id);
		int64_t count = 1;
		int rc = store_one(st, store_read_int, &count, e);
		if (rc < 0)
			return -1;
		/* Gone: only another process's flush could take it, and
		 * one daemon owns a database; say one failure rather than
		 * none, the event is written either way. */
		if (rc > 0)
			log_warn("auth: failure window %lld was taken "
				 "elsewhere", (long long)f->win[i].id);
		evs[i].count = (uint32_t)(count < 1 ? 1
					  : count > AUDIT_COUNT_MAX
						  ? AUDIT_COUNT_MAX
						  : count);
	}
	return 0;
}

/* Read up to AUDIT_COMMIT_MAX due windows into f. Returns 0, or -1. */
static int due_windows(struct auth *a, int64_t before, struct flush *f,
		       struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	struct store_stmt *st = store_prepare(r, sql_due);
	store_bind_int(st, 1, before);
	store_bind_int(st, 2, AUDIT_COMMIT_MAX);
	f->n = 0;
	enum store_rc rc;
	while ((rc = store_step(st)) == STORE_ROW)
		read_window(st, &f->win[f->n++]);
	store_done(st);
	return rc == STORE_DONE ? 0 : store_fail(e, "reading failure windows");
}

/* Remove the windows that ended empty. Returns 0, or -1 with e. */
static int drop_empty(struct auth *a, int64_t before, struct error *e)
{
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_empty_drop);
	store_bind_int(st, 1, before);
	return store_write_end(a->store, store_run(st, NULL, e), e);
}

int auth_failures_flush(struct auth *a, bool all, struct error *e)
{
	int64_t before = all ? INT64_MAX : time_now_ms() - window_ms(a);
	struct flush f = {xcalloc(AUDIT_COMMIT_MAX, sizeof(*f.win)), 0};
	struct audit_event evs[AUDIT_COMMIT_MAX];
	int written = 0, rc = 0;
	do {
		if ((rc = due_windows(a, before, &f, e)) != 0 || f.n == 0)
			break;
		for (int i = 0; i < f.n; i++)
			evs[i] = window_event(&f.win[i]);
		rc = audit_commit(a->log, evs, (size_t)f.n, take_change, &f, e);
		written += f.n;
	} while (rc == 0 && f.n == AUDIT_COMMIT_MAX);
	free(f.win);
	if (rc == 0)
		rc = drop_empty(a, before, e);
	return rc == 0 ? written : -1;
}

/* ---------------------------------------------------------- the sweeper */

/* Windows are written a few seconds after they end: soon enough for a
 * person reading their log, rare enough to cost nothing. */
#define SWEEP_INTERVAL_MS 5000

/* The daemon's other housekeeping rides on this thread rather than on
 * one of its own: src/org's records past their keeping (the internal
 * control's two years) are removed at the first pass and then hourly,
 * which keeps them at most an hour past their end; so are the eID
 * handoff codes that expired unused (each issue removes them too, but
 * the last ones of a quiet night would otherwise stay). */
#define ORG_SWEEP_INTERVAL_MS (3600 * 1000)

static void hourly_housekeeping(struct auth *a)
{
	int64_t now = time_now_ms();
	if (a->org_swept_ms && now - a->org_swept_ms < ORG_SWEEP_INTERVAL_MS)
		return;
	a->org_swept_ms = now;
	struct error e;
	if (org_sweep(a->log, &e) < 0)
		log_warn("auth: organisations' expired records not removed "
			 "yet: %s", e.detail);
	if (auth_handoff_purge(a, &e) != 0)
		log_warn("auth: expired eID handoff codes not removed yet: %s",
			 e.detail);
}

static void *sweeper_main(void *arg)
{
	struct auth *a = arg;
	pthread_mutex_lock(&a->sweep_mu);
	while (!a->sweep_stop) {
		pthread_mutex_unlock(&a->sweep_mu);
		struct error e;
		if (auth_failures_flush(a, false, &e) < 0)
			log_warn("auth: failure windows not written yet: %s",
				 e.detail);
		hourly_housekeeping(a);
		pthread_mutex_lock(&a->sweep_mu);
		if (a->sweep_stop)
			break;
		struct timespec until;
		time_deadline(&until, SWEEP_INTERVAL_MS);
		pthread_cond_timedwait(&a->sweep_cond, &a->sweep_mu, &until);
	}
	pthread_mutex_unlock(&a->sweep_mu);
	return NULL;
}

int auth_sweeper_start(struct auth *a, struct error *e)
{
	if (a->sweeping)
		return 0;
	if (pthread_create(&a->sweeper, NULL, sweeper_main, a) != 0)
		return err_set(e, ERR_INTERNAL, "auth_failed",
			       "cannot start the failure-window sweeper");
	a->sweeping = true;
	return 0;
}

void auth_sweeper_stop(struct auth *a)
{
	if (!a->sweeping)
		return;
	pthread_mutex_lock(&a->sweep_mu);
	a->sweep_stop = true;
	pthread_cond_signal(&a->sweep_cond);
	pthread_mutex_unlock(&a->sweep_mu);
	pthread_join(a->sweeper, NULL);
	a->sweeping = false;
	/* The windows still open are written now: after a stop nobody
	 * counts into them, and the log must not wait for the next start. */
	struct error e;
	if (auth_failures_flush(a, true, &e) < 0)
		log_warn("auth: failure windows left for the next start: %s",
			 e.detail);
}
