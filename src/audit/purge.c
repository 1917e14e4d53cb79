/*
 * Retention without breaking proofs. Audit events are kept at least ten
 * years (audit.retention_days); after that the personal data in them must
 * go, but not their place in the tree: every signed checkpoint, and every
 * proof about the entries that remain, must still verify. So a purge
 * empties the entry of each expired event and keeps its row, its time and
 * its leaf hash (the tree is built from leaf hashes, never from entries),
 * and removes the expired events' rows from the query indexes (which name
 * persons). The schema's trigger allows exactly that update, and only on
 * events older than the retention period by the database's own clock.
 *
 * What is old enough is decided by the signed checkpoints, not by the
 * events' own time columns (which are not signed): the expired events are
 * those covered by the newest checkpoint signed before the cut-off, since
 * each was recorded before that checkpoint. `audit verify` applies the
 * same rule to every purged event, so a row emptied and given an old time
 * by someone with the file is still caught.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit_internal.h"

/* The expired prefix: [0, the newest checkpoint signed before ?1). */
static const char sql_boundary[] =
	"SELECT coalesce(max(tree_size), 0) FROM audit_checkpoint "
	"WHERE timestamp < ?1";
static const char sql_pending[] =
	"SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) "
	"FROM audit_event WHERE seq < ?1 AND length(entry) > 0";
static const char *const sql_apply[] = {
	/* An empty blob that both backends write the same way (SQLite's X''
	 * is a bit string to PostgreSQL). */
	("UPDATE audit_event SET entry = substr(entry, 1, 0) "
	 "WHERE seq < ?1 AND length(entry) > 0"),
	"DELETE FROM audit_by_subject WHERE seq < ?1",
	"DELETE FROM audit_by_actor WHERE seq < ?1",
	"DELETE FROM audit_by_user WHERE seq < ?1",
};

static void read_pending(struct store_stmt *st, void *out)
{
	struct audit_purge_report *r = out;
	r->events = (uint64_t)store_col_int(st, 0);
	r->first_seq = (uint64_t)store_col_int(st, 1);
	r->last_seq = (uint64_t)store_col_int(st, 2);
}

/* What a purge now would remove, into rep. */
static int survey(struct audit *a, struct audit_purge_report *rep,
		  struct error *e)
{
	struct store_conn *r = store_reader(audit_store(a));
	if (!r)
		return err_set(e, ERR_UNAVAILABLE, "store_unavailable",
			       "the audit log cannot be read");
	rep->before_ms = audit_purge_before_ms(audit_retention_days(a));
	char before[RFC3339_LEN];
	time_format_rfc3339(rep->before_ms / 1000, before);
	int64_t boundary = 0;
	struct store_stmt *st = store_prepare(r, sql_boundary);
	store_bind_text(st, 1, before);
	if (store_one(st, store_read_int, &boundary, e) < 0)
		return -1;
	rep->boundary = (uint64_t)boundary;
	st = store_prepare(r, sql_pending);
	store_bind_int(st, 1, (int64_t)rep->boundary);
	return store_one(st, read_pending, rep, e) < 0 ? -1 : 0;
}

static int purge_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	const struct audit_purge_report *rep = ctx;
	for (size_t i = 0; i < KP_NELEM(sql_apply); i++) {
		struct store_stmt *st = store_prepare(w, sql_apply[i]);
		store_bind_int(st, 1, (int64_t)rep->boundary);
		if (store_run(st, NULL, e) != 0)
			return -1;
	}
	return 0;
}

int64_t audit_purge_before_ms(int64_t days)
{
	if (days < AUDIT_RETENTION_DAYS)
		days = AUDIT_RETENTION_DAYS;
	/* Whole seconds: checkpoints are signed with second timestamps. */
	return (time_now_ms() / 1000 - days * 86400) * 1000;
}

int audit_purge(struct audit *a, const struct audit_actor *by, bool apply,
		struct audit_purge_report *rep, struct error *e)
{
	memset(rep, 0, sizeof(*rep));
	if (survey(a, rep, e) != 0)
		return -1;
	if (!apply || rep->events == 0)
		return 0;
	char what[160], before[RFC3339_LEN];
	time_format_rfc3339(rep->before_ms / 1000, before);
	snprintf(what, sizeof(what),
		 "entries of %llu events (seq %llu to %llu) recorded before %s",
		 (unsigned long long)rep->events,
		 (unsigned long long)rep->first_seq,
		 (unsigned long long)rep->last_seq, before);
	struct audit_event ev = audit_event_by(by, "audit_purge");
	ev.data_type = "audit_log";
	ev.purpose = what;
	return audit_commit(a, &ev, 1, purge_change, rep, e);
}
