/*
 * An organisation's internal control (seed 001, the circle of trust's
 * criteria: an internal control of the accesses, whose results are kept
 * two years): who checked what, when, and what they found. Kept apart from
 * the ten-year audit log, and removed once older than
 * org.internal_control_keep_days, the removal itself recorded: by the
 * daemon's hourly sweep (org_sweep), and with the next record, so that
 * neither a quiet organisation nor a stopped sweeper keeps one too long.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "org/org_internal.h"

#define WHAT_MAX 256
#define FINDING_MAX 1024

static const char sql_add[] =
	"INSERT INTO internal_control (kbo, checked_by, checked_on, what, "
	"finding, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
static const char sql_list[] =
	"SELECT id, kbo, checked_by, checked_on, what, finding, recorded_at "
	"FROM internal_control WHERE kbo = ?1 ORDER BY id DESC";
static const char sql_purge[] =
	"DELETE FROM internal_control WHERE recorded_at < ?1";

static int keep_days = ORG_CONTROL_KEEP_DAYS;

void org_control_configure(int days)
{
	keep_days = days > 0 ? days : ORG_CONTROL_KEEP_DAYS;
}

struct control_add {
	struct org_control *c;
	int64_t removed;
	char note[64];
};

/* In w's transaction: controls past their keeping removed; their number
 * into a->removed and, when some were, into the event's purpose. */
static int purge(struct store_conn *w, struct control_add *a,
		 struct audit_event *ev, struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_purge);
	store_bind_int(st, 1, time_now() - (int64_t)keep_days * 86400);
	if (store_run(st, NULL, e) != 0)
		return -1;
	a->removed = store_changes(w);
	if (a->removed) {
		snprintf(a->note, sizeof(a->note),
			 "%lld older than the keeping removed",
			 (long long)a->removed);
		ev->purpose = a->note;
	}
	return 0;
}

static int add_change(struct store_conn *w, void *ctx,
		      struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct control_add *a = ctx;
	struct org_control *c = a->c;
	if (purge(w, a, &evs[0], e) != 0)
		return -1;
	c->recorded_at = time_now();
	struct store_stmt *st = store_prepare(w, sql_add);
	const char *texts[] = {c->kbo, c->checked_by, c->checked_on, c->what,
			       c->finding};
	for (size_t i = 0; i < KP_NELEM(texts); i++)
		store_bind_text(st, (int)i + 1, texts[i]);
	store_bind_int(st, 6, c->recorded_at);
	return store_insert(st, &c->id, NULL, e) != 0 ? -1 : 0;
}

/* Why c cannot be recorded: NULL, or bad filled. */
static const struct error *control_refusal(const struct org_control *c,
					   struct error *bad)
{
	struct date d;
	if (!kbo_valid(c->kbo) || strlen(c->kbo) != 10)
		err_set(bad, ERR_INVALID, "invalid_kbo",
			"not a valid enterprise number");
	else if (date_parse(c->checked_on, &d) != 0 ||
		 date_cmp(d, date_today()) > 0)
		err_set(bad, ERR_INVALID, "invalid_field",
			"checked_on: the day of the check, not after today");
	else if (!c->what[0] || !text_plain(c->what, WHAT_MAX))
		err_set(bad, ERR_INVALID, "invalid_field",
			"what: what was checked (1 to %d bytes of plain text)",
			WHAT_MAX);
	else if (!c->finding[0] || !text_plain(c->finding, FINDING_MAX))
		err_set(bad, ERR_INVALID, "invalid_field",
			"finding: what the check found (1 to %d bytes of "
			"plain text)", FINDING_MAX);
	else
		return NULL;
	return bad;
}

int org_control_add(struct audit *log, const struct audit_actor *by,
		    struct org_control *c, struct error *e)
{
	org_by_whom(by, c->checked_by);
	struct error bad;
	const struct error *refusal = control_refusal(c, &bad);
	struct audit_event ev = org_event(by, "internal_control_add", c->kbo,
					  "internal_control", NULL);
	struct control_add a = {c, 0, ""};
	return audit_change(log, &ev, add_change, &a, refusal, e);
}

static int sweep_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	return purge(w, ctx, &evs[0], e);
}

static const char sql_any_expired[] =
	"SELECT 1 FROM internal_control WHERE recorded_at < ?1 LIMIT 1";

int64_t org_sweep(struct audit *log, struct error *e)
{
	/* Most hours remove nothing: looked at first, so that an empty
	 * sweep writes no event. */
	struct store_stmt *st =
		store_prepare(store_reader(audit_store(log)), sql_any_expired);
	store_bind_int(st, 1, time_now() - (int64_t)keep_days * 86400);
	int rc = store_one(st, NULL, NULL, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/* The daemon's own doing, on the host, for no organisation. */
	struct audit_event ev = {
		.channel = AUDIT_CHANNEL_CLI,
		.action = "internal_control_purge",
		.data_type = "internal_control",
		.outcome = AUDIT_GRANTED,
	};
	struct control_add a = {NULL, 0, ""};
	if (audit_commit(log, &ev, 1, sweep_change, &a, e) != 0)
		return -1;
	return a.removed;
}

static void read_control(struct store_stmt *st, void *item)
{
	struct org_control *c = item;
	c->id = store_col_int(st, 0);
	str_copy(c->kbo, sizeof(c->kbo), store_col_text(st, 1));
	str_copy(c->checked_by, sizeof(c->checked_by), store_col_text(st, 2));
	str_copy(c->checked_on, sizeof(c->checked_on), store_col_text(st, 3));
	str_copy(c->what, sizeof(c->what), store_col_text(st, 4));
	str_copy(c->finding, sizeof(c->finding), store_col_text(st, 5));
	c->recorded_at = store_col_int(st, 6);
}

int org_controls(struct store *s, const char *kbo, struct org_control **out,
		 int *n, struct error *e)
{
	KP_UNUSED(e);
	struct store_stmt *st = store_prepare(store_reader(s), sql_list);
	store_bind_text(st, 1, kbo);
	/* Those past their keeping are not shown, purged or not yet. */
	*out = store_collect(st, sizeof(**out), read_control, n);
	int64_t oldest = time_now() - (int64_t)keep_days * 86400;
	int k = 0;
	for (int i = 0; i < *n; i++)
		if ((*out)[i].recorded_at >= oldest)
			(*out)[k++] = (*out)[i];
	*n = k;
	return 0;
}
