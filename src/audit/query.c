/*
 * Queries by subject, acting organisation, acting person, time range and
 * outcome, with cursor pagination. A key filter reads its index for the
 * events the indexer has reached and then the short unindexed tail, so a
 * query always sees every acknowledged event. Time ranges become sequence
 * ranges by bisection: the writer never lets `at` decrease.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"

static const char sql_at[] = "SELECT at FROM audit_event WHERE seq = ?1";
static const char sql_entry[] = "SELECT entry FROM audit_event WHERE seq = ?1";
static const char sql_range[] =
	"SELECT entry FROM audit_event WHERE seq >= ?1 AND seq < ?2 ORDER BY seq";
static const char sql_by_subject[] =
	"SELECT seq FROM audit_by_subject WHERE subject = ?1 AND seq >= ?2 "
	"AND seq < ?3 ORDER BY seq";
static const char sql_by_actor[] =
	"SELECT seq FROM audit_by_actor WHERE actor = ?1 AND seq >= ?2 "
	"AND seq < ?3 ORDER BY seq";
static const char sql_by_user[] =
	"SELECT seq FROM audit_by_user WHERE \"user\" = ?1 AND seq >= ?2 "
	"AND seq < ?3 ORDER BY seq";

struct page {
	const struct audit_filter *f;
	struct audit_record *rec;
	int n;
	int want;           /* limit + 1: one more tells "more" */
	uint64_t scanned;
	uint64_t last_seen; /* the last seq looked at */
	bool seen_any;
};

static int64_t at_of(struct store_conn *c, uint64_t seq)
{
	struct store_stmt *st = store_prepare(c, sql_at);
	store_bind_int(st, 1, (int64_t)seq);
	int64_t at = store_step(st) == STORE_ROW ? store_col_int(st, 0)
						 : INT64_MAX;
	store_done(st);
	return at;
}

/* The first seq in [lo, hi) whose time is >= t (hi when none). */
static uint64_t first_at_or_after(struct store_conn *c, uint64_t lo,
				  uint64_t hi, int64_t t)
{
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (at_of(c, mid) < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool matches(const struct audit_filter *f, const struct audit_record *r)
{
	return (!f->subject || strcmp(f->subject, r->subject) == 0) &&
	       (!f->actor || strcmp(f->actor, r->actor) == 0) &&
	       (!f->user || strcmp(f->user, r->user) == 0) &&
	       (!f->outcome || strcmp(f->outcome, r->outcome) == 0) &&
	       (!f->ticket || strcmp(f->ticket, r->ticket) == 0) &&
	       (!f->from_ms || r->at_ms >= f->from_ms) &&
	       (!f->to_ms || r->at_ms < f->to_ms);
}

/* Consider one stored entry; returns false once the page is full. */
static bool consider(struct page *p, const void *entry, size_t n)
{
	p->scanned++;
	struct audit_record *r = &p->rec[p->n];
	if (entry_decode(entry, n, r) != 0)
		return true; /* unreadable: `audit verify` reports it */
	p->last_seen = r->seq;
	p->seen_any = true;
	if (matches(p->f, r))
		p->n++;
	return p->n < p->want && p->scanned < AUDIT_SCAN_MAX;
}

static void scan_range(struct store_conn *c, struct page *p, uint64_t lo,
		       uint64_t hi)
{
	if (lo >= hi || p->n >= p->want || p->scanned >= AUDIT_SCAN_MAX)
		return;
	struct store_stmt *st = store_prepare(c, sql_range);
	store_bind_int(st, 1, (int64_t)lo);
	store_bind_int(st, 2, (int64_t)hi);
	while (store_step(st) == STORE_ROW) {
		size_t n;
		const void *entry = store_col_blob(st, 0, &n);
		if (!consider(p, entry, n))
			break;
	}
	store_done(st);
}

static void scan_index(struct store_conn *c, struct page *p, const char *sql,
		       const char *key, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return;
	struct store_stmt *ix = store_prepare(c, sql);
	store_bind_text(ix, 1, key);
	store_bind_int(ix, 2, (int64_t)lo);
	store_bind_int(ix, 3, (int64_t)hi);
	struct store_stmt *ent = store_prepare(c, sql_entry);
	bool go = true;
	while (go && store_step(ix) == STORE_ROW) {
		store_bind_int(ent, 1, store_col_int(ix, 0));
		if (store_step(ent) == STORE_ROW) {
			size_t n;
			const void *entry = store_col_blob(ent, 0, &n);
			go = consider(p, entry, n);
		}
		store_done(ent);
	}
	store_done(ix);
}

static int check_filter(const struct audit_filter *f, struct error *e)
{
	if (f->limit < 1 || f->limit > AUDIT_QUERY_MAX)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "limit must be between 1 and %d",
			       AUDIT_QUERY_MAX);
	if ((f->subject && !insz_valid(f->subject)) ||
	    (f->user && !insz_valid(f->user)))
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "subject and user must be valid INSZ");
	if (f->actor && !kbo_valid(f->actor))
		return err_set(e, ERR_INVALID, "invalid_kbo",
			       "actor must be a valid enterprise number");
	/* An unknown value is a mistake to say, not a filter to drop. */
	if (f->outcome && strcmp(f->outcome, AUDIT_GRANTED) != 0 &&
	    strcmp(f->outcome, AUDIT_REFUSED) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "outcome: granted or refused");
	return 0;
}

int audit_query(struct audit *a, const struct audit_filter *f,
		struct audit_record **out, int *n, bool *more, uint64_t *next,
		struct error *e)
{
	if (check_filter(f, e) != 0)
		return -1;
	struct store_conn *c = store_reader(audit_store(a));
	if (!c)
		return store_fail(e, "the log cannot be read now");
	/* Both read before any row, so that index and tail neither overlap
	 * nor leave a gap. */
	uint64_t indexed = audit_indexed(a);
	uint64_t lo = f->has_after ? f->after + 1 : 0, hi = audit_size(a);
	if (f->from_ms)
		lo = first_at_or_after(c, lo, hi, f->from_ms);
	if (f->to_ms)
		hi = first_at_or_after(c, lo, hi, f->to_ms);
	struct page p = {.f = f, .want = f->limit + 1};
	p.rec = xcalloc((size_t)p.want, sizeof(*p.rec));
	const char *key = f->subject ? f->subject : f->user ? f->user : f->actor;
	const char *sql = f->subject ? sql_by_subject
			  : f->user  ? sql_by_user
				     : sql_by_actor;
	if (key) {
		scan_index(c, &p, sql, key, lo, hi < indexed ? hi : indexed);
		scan_range(c, &p, lo > indexed ? lo : indexed, hi);
	} else {
		scan_range(c, &p, lo, hi);
	}
	*more = p.n > f->limit ||
		(p.scanned >= AUDIT_SCAN_MAX && p.seen_any && p.last_seen + 1 < hi);
	if (p.n > f->limit)
		p.n = f->limit;
	*next = p.n == f->limit && p.n > 0 ? p.rec[p.n - 1].seq : p.last_seen;
	*out = p.rec;
	*n = p.n;
	return 0;
}

int audit_consult(struct audit *a, const struct audit_actor *by,
		  const struct audit_filter *f, struct audit_record **out,
		  int *n, bool *more, uint64_t *next, struct error *e)
{
	if (check_filter(f, e) != 0)
		return -1;
	struct audit_event ev = audit_event_by(by, "audit_query");
	ev.subject = f->subject;
	ev.data_type = "audit_log";
	ev.purpose = "audit";
	/* Reading the log is reading personal data: recorded first. */
	if (audit_append(a, &ev, NULL, e) != 0)
		return -1;
	return audit_query(a, f, out, n, more, next, e);
}
