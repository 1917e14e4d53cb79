/*
 * The audit writer: one thread owns the tail of the log.
 *
 * audit_append takes its sequence number and timestamp while it queues
 * (so queue order is sequence order), then encodes and hashes its entry on
 * its own thread, in parallel with the others, and sleeps. The writer takes
 * everything queued, inserts the rows, folds the leaves into the frontier,
 * and writes the whole batch in one transaction: one fsync (synchronous =
 * FULL) for as many events as arrived while the previous batch was being
 * written. Only after the commit are the appenders woken, so an
 * acknowledged event is on disk. A failed commit fails its batch and every
 * event queued behind it, restores the frontier, and hands the sequence
 * numbers out again: the log never has a gap.
 *
 * Waking a batch's appenders costs a system call each (a few microseconds,
 * over a hundred for a full batch); a second thread, the waker, does it
 * while the writer already writes and syncs the next batch.
 *
 * Between batches, the writer signs a checkpoint once per interval
 * when the tree grew, and builds the query indexes for events not yet
 * indexed, in sorted batches (docs/DESIGN.md, pitfall 2: random index
 * inserts on the hot path would cost a factor of ten).
 */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit/audit_internal.h"

/* One waiting append, on its caller's stack. Each has its own semaphore:
 * waking exactly the appenders of a finished batch, not every thread
 * queued for the next one, is what keeps 64 writers from spending their
 * time in the scheduler. */
struct pending {
	uint64_t seq;
	int64_t at_ms;
	size_t entry_len;
	char entry[AUDIT_ENTRY_MAX];
	uint8_t leaf[SHA256_LEN];
	_Atomic int ready; /* entry and leaf are written */
	int rc;
	sem_t done;
	/* An asynchronous append: no waiting thread; the waker calls back.
	 * If another node appended first, the writer seals it again with
	 * its real number (renumber). */
	audit_done_fn callback;
	void *ctx;
	/* A state change recorded with its events (audit_commit): the first
	 * pending of a group carries the change and the group's size; the
	 * group's events follow it in the queue, flagged member, and are
	 * sealed by the writer once the change has run. */
	struct commit *commit;
	bool member;
	struct pending *next;
};

/* What audit_commit asks of the writer, and what it answers. */
struct commit {
	audit_change_fn change;
	void *ctx;
	struct audit_event *evs;
	size_t n;
	int rc;            /* the change's own result */
	struct error err;  /* its refusal, when rc != 0 */
};

struct audit {
	struct store *store;
	struct audit_options opt;

	/* The signing key, replaced by a rotation while others sign notes
	 * with it: every use holds key_mu. */
	pthread_mutex_t key_mu;
	uint8_t sk[ED25519_SK_LEN];
	uint64_t key_id;     /* its number in the chain of hand-overs */
	bool key_superseded; /* said once in the log, until it is current */
	uint64_t key_loaded_ns; /* key_load last tried (monotonic), 0 never */

	pthread_mutex_t mu;
	pthread_cond_t work;    /* the writer waits for appends */
	pthread_cond_t done;    /* audit_checkpoint_now waits here */
	struct pending *head, *tail;
	uint64_t next_seq; /* the next number audit_append hands out */
	int64_t last_ms;   /* time never runs backwards in the log */
	bool stopping;
	bool checkpoint_wanted; /* audit_checkpoint_now asked for one */

	/* Written batches whose appenders are still to be woken. */
	pthread_mutex_t wake_mu;
	pthread_cond_t wake_cond;
	struct pending *wake_head, *wake_tail;
	bool wake_stopping;
	pthread_t waker;
	uint64_t checkpoints_done;
	int checkpoint_rc;
	pthread_t thread;

	/* Owned by the writer thread. */
	struct merkle_frontier frontier;
	uint64_t signed_size;
	uint64_t last_checkpoint_ns;

	_Atomic uint64_t durable;
	_Atomic uint64_t indexed; /* events [0, indexed) are in the indexes */
};

static const char sql_node_insert[] =
	"INSERT INTO audit_node (level, idx, hash) VALUES (?1, ?2, ?3)";
/* The tail of the log: one seek on the primary key (max(at) would scan). */
static const char sql_size[] =
	"SELECT seq + 1, at FROM audit_event ORDER BY seq DESC LIMIT 1";
static const char sql_meta_get[] = "SELECT value FROM meta WHERE key = ?1";
static const char sql_meta_put[] =
	"INSERT INTO meta (key, value) VALUES (?1, ?2) "
	"ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/* An entry's time is the domain's clock, so a test that sets it sees its
 * events at the time it set. */
static int64_t now_ms(void)
{
	return time_now_ms();
}

/* ------------------------------------------------------------- batches */

struct node_sink {
	struct store_conn *w;
	bool failed;
	int64_t tail_ms; /* the time of the log's last event */
	struct audit_rows rows; /* the batch's events */
};

static void store_completed_node(void *ctx, int level, uint64_t index,
				 const uint8_t hash[SHA256_LEN])
{
	struct node_sink *sink = ctx;
	if (level < AUDIT_NODE_MIN_LEVEL || sink->failed)
		return;
	struct store_stmt *st = store_prepare(sink->w, sql_node_insert);
	store_bind_int(st, 1, level);
	store_bind_int(st, 2, (int64_t)index);
	store_bind_blob(st, 3, hash, SHA256_LEN);
	if (store_step(st) != STORE_DONE)
		sink->failed = true;
	store_done(st);
}

static void seal(struct pending *p, const struct audit_event *ev);

/* p was numbered against a tail that another node (or an operator's
 * command) has moved since, or is older than that tail's last event: seal
 * it again where the log now ends, no earlier than tail_ms, inside the
 * write that holds the database's lock. Returns 0, or -1 when its entry
 * cannot be read back. */
static int renumber(struct audit *a, struct pending *p, int64_t tail_ms)
{
	while (!atomic_load_explicit(&p->ready, memory_order_acquire))
		sched_yield();
	struct audit_record *rec = xcalloc(1, sizeof(*rec));
	int rc = entry_decode(p->entry, p->entry_len, rec);
	if (rc == 0) {
		struct audit_event ev;
		audit_record_event(rec, &ev);
		p->seq = a->frontier.size;
		if (p->at_ms < tail_ms)
			p->at_ms = tail_ms;
		seal(p, &ev);
	} else {
		log_error("security: an event to number again could not be "
			  "read back");
	}
	free(rec);
	return rc == 0 ? 0 : -1;
}

static int write_one(struct audit *a, struct node_sink *sink,
		     struct pending *p)
{
	/* The appender queued first and encodes after; almost always done
	 * by the time its batch is written. */
	while (!atomic_load_explicit(&p->ready, memory_order_acquire))
		sched_yield();
	if ((p->seq != a->frontier.size || p->at_ms < sink->tail_ms) &&
	    renumber(a, p, sink->tail_ms) != 0)
		return -1;
	if (rows_event(&sink->rows, p->seq, p->at_ms, p->entry, p->entry_len,
		       p->leaf) != 0)
		return -1;
	frontier_push(&a->frontier, p->leaf, store_completed_node, sink);
	sink->tail_ms = p->at_ms;
	return sink->failed ? -1 : 0;
}

static void hand_to_waker(struct audit *a, struct pending *batch);

/* A batch failed: so does everything queued behind it, whose numbers
 * follow the batch's; numbering restarts where the durable log ends. */
static void fail_queued(struct audit *a, int rc)
{
	pthread_mutex_lock(&a->mu);
	struct pending *rest = a->head;
	a->head = a->tail = NULL;
	a->next_seq = a->frontier.size;
	pthread_mutex_unlock(&a->mu);
	for (struct pending *p = rest; p; p = p->next)
		p->rc = rc;
	if (rest)
		hand_to_waker(a, rest);
}

/* Another process (an operator's CLI) appended to the log since we last
 * wrote: our frontier and numbers are stale. Read the real tail inside the
 * write transaction, which holds the database's write lock. Returns the
 * size on disk, or UINT64_MAX when it cannot be read. */
struct tail {
	int64_t size;
	int64_t last_ms;
};

static void read_tail(struct store_stmt *st, void *out)
{
	struct tail *t = out;
	t->size = store_col_int(st, 0);
	t->last_ms = store_col_int(st, 1);
}

static uint64_t size_on_disk(struct store_conn *w, int64_t *last_ms)
{
	struct store_stmt *st = store_prepare(w, sql_size);
	struct tail t = {0, *last_ms}; /* no row: an empty log */
	if (store_one(st, read_tail, &t, NULL) < 0)
		return UINT64_MAX;
	*last_ms = t.last_ms;
	return (uint64_t)t.size;
}

/* Take the log as it is on disk: frontier, numbering, time. */
static int reload(struct audit *a, struct store_conn *c, uint64_t size,
		  int64_t last_ms)
{
	uint64_t old = a->frontier.size;
	if (size < old || frontier_load(c, size, &a->frontier) != 0)
		return -1;
	atomic_store(&a->durable, size);
	pthread_mutex_lock(&a->mu);
	/* What is queued was numbered from the old tail: it moves up by
	 * what the others appended (write_one seals it again), and so does
	 * every number handed out from now on. */
	a->next_seq += size - old;
	if (last_ms > a->last_ms)
		a->last_ms = last_ms;
	pthread_mutex_unlock(&a->mu);
	return 0;
}


static void seal(struct pending *p, const struct audit_event *ev);

static const char sql_savepoint[] = "SAVEPOINT audit_change";
static const char sql_rollback_to[] = "ROLLBACK TO audit_change";
static const char sql_release[] = "RELEASE audit_change";

static bool exec_ok(struct store_conn *w, const char *sql)
{
	struct store_stmt *st = store_prepare(w, sql);
	enum store_rc rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE;
}

/* Whether the group's events, as the change left them, can be recorded. */
static bool events_valid(const struct commit *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct audit_escaped buf;
		struct audit_event ev;
		struct error e;
		entry_escape(&c->evs[i], &ev, &buf);
		if (entry_validate(&ev, &e) != 0)
			return false;
	}
	return true;
}

/* Run a group's change inside the batch's transaction, under a savepoint,
 * then seal its events: as the change described them when it succeeded;
 * as refused with the change's code when it failed, its writes undone.
 * Returns 0, or -1 when not even that can be recorded (the batch fails,
 * and with it the change). */
static int run_commit(struct store_conn *w, struct pending *head)
{
	struct commit *c = head->commit;
	if (!exec_ok(w, sql_savepoint))
		return -1;
	c->rc = c->change(w, c->ctx, c->evs, c->n, &c->err);
	bool invalid = c->rc == 0 && !events_valid(c);
	if (invalid)
		c->rc = err_set(&c->err, ERR_INTERNAL, "invalid_audit_event",
				"the change described its events wrongly");
	if (c->rc != 0 && !exec_ok(w, sql_rollback_to))
		return -1;
	if (!exec_ok(w, sql_release))
		return -1;
	struct pending *p = head;
	for (size_t i = 0; i < c->n; i++, p = p->next) {
		struct audit_escaped buf;
		struct audit_event ev;
		struct error e;
		entry_escape(&c->evs[i], &ev, &buf);
		if (c->rc != 0) {
			ev.outcome = AUDIT_REFUSED;
			ev.reason = c->err.code;
		}
		if (invalid)
			ev.subject = ev.user = ev.actor = NULL;
		if (entry_validate(&ev, &e) != 0)
			return -1;
		seal(p, &ev);
	}
	return 0;
}

/* How long the writer keeps trying while the database is away: longer
 * than a failover takes (Patroni's ttl, 30 s by default, is the bound on
 * noticing a dead primary; scripts/ha shortens it). */
#define AUDIT_RETRY_MS 30000

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0)
		; /* EINTR: the rest */
}

static const char sql_entry_at[] = "SELECT entry FROM audit_event WHERE seq = ?1";

/* What a batch's first entry tells, read under the lock on the writer:
 * 1, the batch is in the log at its numbers, byte for byte (the entry's
 * random nonce makes it that batch's alone: an earlier try's COMMIT was
 * applied, only its answer lost); 0, it is not; -1, the log cannot be
 * read, and nothing may be written blind. */
static int batch_landed(struct store_conn *w, const struct pending *first)
{
	struct store_stmt *st = store_prepare(w, sql_entry_at);
	store_bind_int(st, 1, (int64_t)first->seq);
	enum store_rc rc = store_step(st);
	size_t n = 0;
	const void *entry = rc == STORE_ROW ? store_col_blob(st, 0, &n) : NULL;
	int landed = rc == STORE_ROW ? entry && n == first->entry_len &&
					       memcmp(entry, first->entry, n) == 0
		     : rc == STORE_DONE ? 0
					: -1;
	store_done(st);
	return landed;
}

#define TRY_LANDED 1

/* One try at writing batch (count events). A retry first asks whether an
 * earlier try landed after all (TRY_LANDED: the frontier is then the
 * disk's, and nothing is written again). Returns 0, TRY_LANDED, or -1
 * with the frontier and the numbering as they were. */
static int write_try(struct audit *a, struct pending *batch, size_t count,
		     bool retry)
{
	struct merkle_frontier saved = a->frontier;
	struct error e;
	struct node_sink sink = {.w = store_write_begin(a->store, &e)};
	if (!sink.w) {
		log_warn("audit batch not written: %s", e.detail);
		return -1;
	}
	/* The write holds the database's lock: nobody appends until it
	 * ends. Another node (or an operator's command) may have appended
	 * since this one last wrote: take the tail as it is, and number the
	 * batch after it (write_one). */
	int64_t disk_ms = 0;
	uint64_t disk = size_on_disk(sink.w, &disk_ms), shift = 0;
	int landed = retry && disk != UINT64_MAX && disk > a->frontier.size
			     ? batch_landed(sink.w, batch)
			     : 0;
	if (disk != UINT64_MAX && landed >= 0 && disk != a->frontier.size) {
		shift = disk - a->frontier.size;
		if (reload(a, sink.w, disk, disk_ms) != 0)
			disk = UINT64_MAX;
	}
	if (disk == UINT64_MAX || landed != 0) {
		store_write_rollback(a->store);
		if (landed == 1 && disk != UINT64_MAX) {
			/* On disk, yet counted as in flight by the shift. */
			pthread_mutex_lock(&a->mu);
			a->next_seq -= count;
			pthread_mutex_unlock(&a->mu);
			return TRY_LANDED;
		}
		log_warn("audit batch not written: the log's tail cannot be "
			 "read");
		goto failed;
	}
	sink.tail_ms = disk_ms;
	rows_begin(&sink.rows, a->store, sink.w);
	int rc = 0;
	for (struct pending *p = batch; p && rc == 0; p = p->next) {
		/* A change runs after the events before it are in the log. */
		if (p->commit)
			rc = rows_flush(&sink.rows) != 0 ? -1
							 : run_commit(sink.w, p);
		if (rc == 0)
			rc = write_one(a, &sink, p);
	}
	if (rc == 0)
		rc = rows_flush(&sink.rows);
	rows_end(&sink.rows);
	if (store_write_end(a->store, rc, &e) == 0)
		return 0;
failed:
	a->frontier = saved;
	/* The numbering moves back with the frontier: the next try shifts
	 * it again from there. */
	pthread_mutex_lock(&a->mu);
	a->next_seq -= shift;
	pthread_mutex_unlock(&a->mu);
	return -1;
}

/* Write batch; while the database is away (a failover), try again with
 * backoff for up to AUDIT_RETRY_MS, the appenders waiting, so that a
 * failover costs them time rather than a refusal. A try whose commit was
 * applied although its answer was lost is not written twice. */
static int write_batch(struct audit *a, struct pending *batch)
{
	size_t count = 0;
	for (struct pending *p = batch; p; p = p->next)
		count++;
	int rc = write_try(a, batch, count, false);
	for (int waited = 0, delay = 50; rc < 0; delay = delay * 2 > 1000
							 ? 1000 : delay * 2) {
		pthread_mutex_lock(&a->mu);
		bool stopping = a->stopping;
		pthread_mutex_unlock(&a->mu);
		if (stopping || waited >= AUDIT_RETRY_MS ||
		    !store_write_retryable(a->store))
			break;
		sleep_ms(delay);
		waited += delay;
		rc = write_try(a, batch, count, true);
	}
	if (rc == TRY_LANDED) {
		log_warn("audit batch of %zu events was written; its commit's "
			 "answer was lost", count);
		rc = 0;
	}
	if (rc != 0)
		log_error("security: audit batch of %zu events not written",
			  count);
	atomic_store(&a->durable, a->frontier.size);
	for (struct pending *p = batch; p; p = p->next)
		p->rc = rc;
	return rc;
}

/* ---------------------------------------------------------- checkpoints */

static int maybe_checkpoint(struct audit *a, bool force, struct error *e)
{
	/* The checkpoint period is the writer thread's real rhythm, paced by
	 * timed waits on the real clock: not the test clock. */
	uint64_t now = time_mono_ns();
	uint64_t interval = (uint64_t)a->opt.checkpoint_interval_ms * 1000000u;
	if (a->frontier.size == a->signed_size ||
	    (!force && now - a->last_checkpoint_ns < interval))
		return 0;
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	/* Sign only the tree as it is: if another node (or an operator's
	 * command) appended, take its tail, under the same lock, and sign
	 * that. A size another node signed already stays as it signed it. */
	int64_t disk_ms = 0;
	uint64_t disk = size_on_disk(w, &disk_ms);
	if (disk == UINT64_MAX || (disk != a->frontier.size &&
				   reload(a, w, disk, disk_ms) != 0)) {
		store_write_rollback(a->store);
		return err_set(e, ERR_UNAVAILABLE, "audit_unavailable",
			       "the audit log cannot be read back");
	}
	/* Under the writer's lock: a hand-over committed before this
	 * cannot be followed by a checkpoint of the key it retired. */
	int64_t key = writer_key_follow(a, w);
	if (key < 0) {
		store_write_rollback(a->store);
		a->last_checkpoint_ns = now; /* try again an interval later */
		return key == -1 ? err_set(e, ERR_CONFLICT, "audit_key_superseded",
					   "this node's audit signing key was "
					   "replaced by a rotation")
				 : store_fail(e, "the key chain cannot be read");
	}
	pthread_mutex_lock(&a->key_mu);
	int rc = checkpoint_store(w, &a->frontier, a->sk, (uint64_t)key, e);
	pthread_mutex_unlock(&a->key_mu);
	if (rc != 0) {
		store_write_rollback(a->store);
		return -1;
	}
	if (store_write_commit(a->store, e) != 0)
		return -1;
	a->signed_size = a->frontier.size;
	a->last_checkpoint_ns = now;
	return 0;
}

/* ---------------------------------------------------------------- index */

static int cmp_row(const void *x, const void *y)
{
	const struct audit_index_row *a = x, *b = y;
	int c = strcmp(a->key, b->key);
	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void index_insert(struct audit_rows *r, const char *sql,
			 const char *sql_pg, struct audit_index_row *rows,
			 size_t n, bool *failed)
{
	qsort(rows, n, sizeof(*rows), cmp_row);
	if (!*failed && rows_index(r, sql, sql_pg, rows, n) != 0)
		*failed = true;
}

static const char sql_tail[] =
	"SELECT entry FROM audit_event WHERE seq >= ?1 AND seq < ?2 ORDER BY seq";
static const char sql_ix_subject[] =
	"INSERT INTO audit_by_subject (subject, seq) VALUES (?1, ?2) "
	"ON CONFLICT DO NOTHING";
static const char sql_ix_actor[] =
	"INSERT INTO audit_by_actor (actor, seq) VALUES (?1, ?2) "
	"ON CONFLICT DO NOTHING";
static const char sql_ix_user[] =
	"INSERT INTO audit_by_user (\"user\", seq) VALUES (?1, ?2) "
	"ON CONFLICT DO NOTHING";
/* The same, a batch at once (PostgreSQL). */
static const char sql_ix_subject_pg[] =
	"INSERT INTO audit_by_subject (subject, seq) SELECT k, s "
	"FROM unnest(?1::text[], ?2::bigint[]) AS t(k, s) ON CONFLICT DO NOTHING";
static const char sql_ix_actor_pg[] =
	"INSERT INTO audit_by_actor (actor, seq) SELECT k, s "
	"FROM unnest(?1::text[], ?2::bigint[]) AS t(k, s) ON CONFLICT DO NOTHING";
static const char sql_ix_user_pg[] =
	"INSERT INTO audit_by_user (\"user\", seq) SELECT k, s "
	"FROM unnest(?1::text[], ?2::bigint[]) AS t(k, s) ON CONFLICT DO NOTHING";

/* Collect the index keys of events [from, to). */
static size_t collect_keys(struct audit *a, uint64_t from, uint64_t to,
			   struct audit_index_row *rows[3], size_t nrows[3])
{
	struct store_conn *r = store_reader(a->store);
	struct store_stmt *st = store_prepare(r, sql_tail);
	store_bind_int(st, 1, (int64_t)from);
	store_bind_int(st, 2, (int64_t)to);
	struct audit_record rec;
	size_t seen = 0;
	while (store_step(st) == STORE_ROW) {
		size_t n;
		const void *entry = store_col_blob(st, 0, &n);
		seen++;
		if (entry_decode(entry, n, &rec) != 0)
			continue;
		const char *keys[3] = {rec.subject, rec.actor, rec.user};
		for (int k = 0; k < 3; k++) {
			if (!keys[k][0])
				continue;
			str_copy(rows[k][nrows[k]].key, 12, keys[k]);
			rows[k][nrows[k]++].seq = rec.seq;
		}
	}
	store_done(st);
	return seen;
}

static void put_indexed(struct store_conn *w, uint64_t upto)
{
	char num[24];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)upto);
	struct store_stmt *st = store_prepare(w, sql_meta_put);
	store_bind_text(st, 1, "audit_indexed_upto");
	store_bind_text(st, 2, num);
	store_step(st);
	store_done(st);
}

/* Index up to one batch of events when enough are waiting, or all of them
 * when the writer is idle. */
static void maybe_index(struct audit *a, bool idle)
{
	uint64_t from = atomic_load(&a->indexed);
	uint64_t durable = atomic_load(&a->durable);
	uint64_t waiting = durable - from;
	if (waiting == 0 || (!idle && waiting < (uint64_t)a->opt.index_batch))
		return;
	uint64_t to = from + (waiting < (uint64_t)a->opt.index_batch
				      ? waiting : (uint64_t)a->opt.index_batch);
	size_t cap = (size_t)(to - from);
	struct audit_index_row *rows[3];
	size_t nrows[3] = {0, 0, 0};
	for (int k = 0; k < 3; k++)
		rows[k] = xmalloc(cap * sizeof(struct audit_index_row));
	collect_keys(a, from, to, rows, nrows);
	struct error e;
	/* Not written now, indexed on a later tick. */
	struct store_conn *w = store_write_begin(a->store, &e);
	bool failed = w == NULL;
	if (w) {
		struct audit_rows r;
		rows_begin(&r, a->store, w);
		index_insert(&r, sql_ix_subject, sql_ix_subject_pg, rows[0],
			     nrows[0], &failed);
		index_insert(&r, sql_ix_actor, sql_ix_actor_pg, rows[1],
			     nrows[1], &failed);
		index_insert(&r, sql_ix_user, sql_ix_user_pg, rows[2],
			     nrows[2], &failed);
		rows_end(&r);
		put_indexed(w, to);
		failed = store_write_end(a->store, failed ? -1 : 0, &e) != 0;
	}
	if (!failed)
		atomic_store(&a->indexed, to);
	for (int k = 0; k < 3; k++)
		free(rows[k]);
}

/* --------------------------------------------------------------- thread */

static void hand_to_waker(struct audit *a, struct pending *batch)
{
	struct pending *last = batch;
	while (last->next)
		last = last->next;
	pthread_mutex_lock(&a->wake_mu);
	if (a->wake_tail)
		a->wake_tail->next = batch;
	else
		a->wake_head = batch;
	a->wake_tail = last;
	pthread_cond_signal(&a->wake_cond);
	pthread_mutex_unlock(&a->wake_mu);
}

/* Encode ev as p's entry and leaf (with its number and time), then let the
 * writer take p. */
static void seal(struct pending *p, const struct audit_event *ev)
{
	uint8_t nonce[AUDIT_NONCE_LEN];
	rand_stream(nonce, sizeof(nonce));
	p->entry_len = entry_encode(ev, p->seq, p->at_ms, nonce, p->entry);
	merkle_leaf(p->entry, p->entry_len, p->leaf);
	atomic_store_explicit(&p->ready, 1, memory_order_release);
}

/* An asynchronous append is done: call back. */
static void finish_async(struct pending *p)
{
	/* Its appender queues it first and seals it after. A batch that
	 * failed before writing (no writer) comes here without the writer
	 * having waited for that: wait now, or p would be freed under the
	 * sealing thread. */
	while (!atomic_load_explicit(&p->ready, memory_order_acquire))
		sched_yield();
	p->callback(p->ctx, p->rc == 0 ? 0 : -1, p->seq);
	free(p);
}

static void *waker_main(void *arg)
{
	struct audit *a = arg;
	pthread_mutex_lock(&a->wake_mu);
	for (;;) {
		while (!a->wake_head && !a->wake_stopping)
			pthread_cond_wait(&a->wake_cond, &a->wake_mu);
		struct pending *list = a->wake_head;
		if (!list)
			break; /* stopping and drained */
		a->wake_head = a->wake_tail = NULL;
		pthread_mutex_unlock(&a->wake_mu);
		for (struct pending *p = list, *next; p; p = next) {
			/* p, and a group's members, are gone once posted. */
			struct pending *last = p;
			for (size_t i = 1; p->commit && i < p->commit->n; i++)
				last = last->next;
			next = last->next;
			if (p->callback)
				finish_async(p);
			else
				sem_post(&p->done);
		}
		pthread_mutex_lock(&a->wake_mu);
	}
	pthread_mutex_unlock(&a->wake_mu);
	return NULL;
}

static void follow_idle(struct audit *a);

static void *writer_main(void *arg)
{
	struct audit *a = arg;
	struct error e;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		if (a->checkpoint_wanted) {
			pthread_mutex_unlock(&a->mu);
			int rc = maybe_checkpoint(a, true, &e);
			pthread_mutex_lock(&a->mu);
			a->checkpoint_wanted = false;
			a->checkpoint_rc = rc;
			a->checkpoints_done++;
			pthread_cond_broadcast(&a->done);
			continue;
		}
		if (!a->head && !a->stopping) {
			struct timespec until;
			time_deadline(&until, 1000);
			if (pthread_cond_timedwait(&a->work, &a->mu, &until) != 0) {
				pthread_mutex_unlock(&a->mu);
				maybe_checkpoint(a, false, &e);
				maybe_index(a, true);
				follow_idle(a);
				pthread_mutex_lock(&a->mu);
			}
			continue;
		}
		if (!a->head)
			break; /* stopping, and nothing left to write */
		struct pending *batch = a->head;
		a->head = a->tail = NULL;
		pthread_mutex_unlock(&a->mu);
		int rc = write_batch(a, batch);
		hand_to_waker(a, batch);
		if (rc != 0)
			fail_queued(a, rc);
		maybe_checkpoint(a, false, &e);
		maybe_index(a, false);
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static int append_once(struct audit *a, const struct audit_event *ev,
		       uint64_t *seq, struct error *e);

int audit_append(struct audit *a, const struct audit_event *in, uint64_t *seq,
		 struct error *e)
{
	struct audit_escaped buf;
	struct audit_event ev;
	entry_escape(in, &ev, &buf);
	if (entry_validate(&ev, e) != 0)
		return -1;
	return append_once(a, &ev, seq, e);
}

/* Number the n pendings of array p, consecutively, and queue them for the
 * writer in one go (so that a group is written in one batch). Returns 0,
 * or -1 when the log is stopping (nothing is queued). */
static int enqueue_n(struct audit *a, struct pending *p, size_t n, int64_t now)
{
	pthread_mutex_lock(&a->mu);
	if (a->stopping) {
		pthread_mutex_unlock(&a->mu);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		p[i].seq = a->next_seq++;
		p[i].at_ms = now > a->last_ms ? now : a->last_ms;
		a->last_ms = p[i].at_ms;
		p[i].next = i + 1 < n ? &p[i + 1] : NULL;
	}
	if (a->tail)
		a->tail->next = p;
	else
		a->head = p;
	a->tail = &p[n - 1];
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

static int enqueue(struct audit *a, struct pending *p, int64_t now)
{
	return enqueue_n(a, p, 1, now);
}

/* Tests widen the window between queueing and sealing with this. */
static void (*_Atomic before_seal)(void);

void audit_test_before_seal(void (*fn)(void))
{
	atomic_store(&before_seal, fn);
}

int audit_append_async(struct audit *a, const struct audit_event *in,
		       audit_done_fn done, void *ctx, struct error *e)
{
	struct audit_escaped buf;
	struct audit_event ev;
	entry_escape(in, &ev, &buf);
	if (entry_validate(&ev, e) != 0)
		return -1;
	struct pending *p = xcalloc(1, sizeof(*p));
	p->callback = done;
	p->ctx = ctx;
	atomic_init(&p->ready, 0);
	if (enqueue(a, p, now_ms()) != 0) {
		free(p);
		return err_set(e, ERR_UNAVAILABLE, "audit_unavailable",
			       "the audit log is shutting down");
	}
	void (*hook)(void) = atomic_load(&before_seal);
	if (hook)
		hook();
	seal(p, &ev);
	return 0;
}

/* Queue one append (or a group, when c is not NULL: c->n pendings, sealed
 * by the writer) and sleep until the writer has written it. Returns 0, or
 * -1 with e. */
static int wait_written(struct audit *a, const struct audit_event *ev,
			struct commit *c, uint64_t *seq, struct error *e)
{
	size_t n = c ? c->n : 1;
	struct pending *p = xcalloc(n, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		atomic_init(&p[i].ready, 0);
		p[i].member = i > 0;
	}
	p->commit = c;
	sem_init(&p->done, 0, 0);
	if (enqueue_n(a, p, n, now_ms()) != 0) {
		sem_destroy(&p->done);
		free(p);
		return err_set(e, ERR_UNAVAILABLE, "audit_unavailable",
			       "the audit log is shutting down");
	}
	if (!c)
		seal(p, ev);
	while (sem_wait(&p->done) != 0)
		; /* EINTR */
	sem_destroy(&p->done);
	uint64_t seq_done = p->seq;
	int rc = p->rc;
	free(p);
	if (rc != 0)
		return err_set(e, ERR_UNAVAILABLE, "audit_unavailable",
			       "the audit log could not record the event");
	if (seq)
		*seq = seq_done;
	return 0;
}

static int append_once(struct audit *a, const struct audit_event *ev,
		       uint64_t *seq, struct error *e)
{
	return wait_written(a, ev, NULL, seq, e);
}

int audit_commit(struct audit *a, struct audit_event *evs, size_t n,
		 audit_change_fn change, void *ctx, struct error *e)
{
	if (n == 0 || n > AUDIT_COMMIT_MAX)
		return err_set(e, ERR_INTERNAL, "invalid_audit_event",
			       "a change is recorded with 1 to %d events",
			       AUDIT_COMMIT_MAX);
	for (size_t i = 0; i < n; i++) {
		struct audit_escaped buf;
		struct audit_event ev;
		entry_escape(&evs[i], &ev, &buf);
		if (entry_validate(&ev, e) != 0)
			return -1;
	}
	struct commit c = {change, ctx, evs, n, 0, {0}};
	if (wait_written(a, NULL, &c, NULL, e) != 0)
		return -1;
	if (c.rc != 0) {
		*e = c.err;
		return -1;
	}
	return 0;
}

int audit_no_change(struct store_conn *w, void *ctx, struct audit_event *evs,
		    size_t n, struct error *e)
{
	KP_UNUSED(w);
	KP_UNUSED(ctx);
	KP_UNUSED(evs);
	KP_UNUSED(n);
	KP_UNUSED(e);
	return 0;
}

int audit_change(struct audit *a, struct audit_event *ev,
		 audit_change_fn change, void *ctx,
		 const struct error *refusal, struct error *e)
{
	if (refusal) {
		if (e)
			*e = *refusal;
		return audit_refused(a, ev, refusal);
	}
	return audit_commit(a, ev, 1, change, ctx, e);
}

int audit_refused(struct audit *a, const struct audit_event *ev,
		  const struct error *refusal)
{
	struct audit_event r = *ev;
	r.outcome = AUDIT_REFUSED;
	r.reason = refusal->code;
	struct error e;
	if (audit_append(a, &r, NULL, &e) != 0)
		log_error("security: a refused %s was not audited: %s",
			  ev->action ? ev->action : "request", e.detail);
	return -1;
}

uint64_t audit_size(struct audit *a)
{
	return atomic_load(&a->durable);
}

uint64_t audit_indexed(struct audit *a)
{
	return atomic_load(&a->indexed);
}

int audit_retention_days(struct audit *a)
{
	return a->opt.retention_days;
}

struct store *audit_store(struct audit *a)
{
	return a->store;
}

void audit_public_key(struct audit *a, uint8_t pk[ED25519_PK_LEN])
{
	pthread_mutex_lock(&a->key_mu);
	crypto_sign_ed25519_sk_to_pk(pk, a->sk);
	pthread_mutex_unlock(&a->key_mu);
}

void writer_key_set(struct audit *a, const uint8_t sk[ED25519_SK_LEN],
		    uint64_t key_id)
{
	pthread_mutex_lock(&a->key_mu);
	memcpy(a->sk, sk, ED25519_SK_LEN);
	a->key_id = key_id;
	a->key_superseded = false;
	pthread_mutex_unlock(&a->key_mu);
	log_info("audit: signing with key %llu from now on",
		 (unsigned long long)key_id);
}

/* The key the log's key_load gives now, when it is newest's. */
static bool reload_key(struct audit *a, const char *newest)
{
	uint8_t sk[ED25519_SK_LEN], pk[ED25519_PK_LEN];
	char vkey[AUDIT_VKEY_MAX];
	/* A superseded node is asked on every /readyz and note: read its
	 * key file at most once a second. */
	uint64_t now = time_mono_ns();
	if (a->key_loaded_ns && now - a->key_loaded_ns < 1000000000ull)
		return false;
	a->key_loaded_ns = now;
	bool ok = a->opt.key_load &&
		  a->opt.key_load(a->opt.key_load_ctx, sk) == 0;
	if (ok) {
		crypto_sign_ed25519_sk_to_pk(pk, sk);
		audit_note_vkey(a->opt.origin, pk, vkey);
		ok = strcmp(vkey, newest) == 0;
		if (ok)
			memcpy(a->sk, sk, ED25519_SK_LEN);
	}
	secret_wipe(sk, sizeof(sk));
	return ok;
}

int64_t writer_key_follow(struct audit *a, struct store_conn *c)
{
	uint64_t id = 0;
	char newest[AUDIT_VKEY_MAX], mine[AUDIT_VKEY_MAX];
	int have = c ? keys_newest(c, &id, newest) : -1;
	if (have < 0)
		return -2;
	pthread_mutex_lock(&a->key_mu);
	uint8_t pk[ED25519_PK_LEN];
	crypto_sign_ed25519_sk_to_pk(pk, a->sk);
	audit_note_vkey(a->opt.origin, pk, mine);
	bool current = have == 0 || strcmp(mine, newest) == 0 ||
		       reload_key(a, newest);
	bool said = a->key_superseded;
	if (current && have == 1 && (said || a->key_id != id))
		log_info("audit: signing with key %llu (%s)",
			 (unsigned long long)id, newest);
	if (current)
		a->key_id = have == 1 ? id : 0;
	a->key_superseded = !current;
	pthread_mutex_unlock(&a->key_mu);
	if (!current && !said)
		log_error("security: this node's audit signing key was replaced "
			  "by key %llu (%s) in a rotation: it signs no "
			  "checkpoint and is not ready until "
			  "keys/audit-signing.key holds the new key",
			  (unsigned long long)id, newest);
	return current ? (int64_t)(have == 1 ? id : 0) : -1;
}

size_t writer_sign_current(struct audit *a, uint64_t min_key_id,
			   const char *text, size_t len, char *out, size_t cap)
{
	struct store_conn *r = store_reader(a->store);
	if (!r || writer_key_follow(a, r) < 0)
		return 0;
	/* The key may have changed since, only to a newer one (a rotation
	 * here, a reload): still the newest, or newer than the tree's. */
	pthread_mutex_lock(&a->key_mu);
	size_t n = a->key_superseded || a->key_id < min_key_id
			   ? 0
			   : audit_note_sign(text, len, a->opt.origin, a->sk,
					     out, cap);
	pthread_mutex_unlock(&a->key_mu);
	return n;
}

/* Between batches: notice a rotation made elsewhere, and take its key. */
static void follow_idle(struct audit *a)
{
	struct store_conn *r = store_reader(a->store);
	if (r)
		writer_key_follow(a, r);
}

const char *audit_origin(struct audit *a)
{
	return a->opt.origin;
}

size_t audit_sign_note(struct audit *a, const char *text, size_t len,
		       char *out, size_t cap)
{
	pthread_mutex_lock(&a->key_mu);
	size_t n = audit_note_sign(text, len, a->opt.origin, a->sk, out, cap);
	pthread_mutex_unlock(&a->key_mu);
	return n;
}

int audit_checkpoint_now(struct audit *a, struct error *e)
{
	/* The frontier belongs to the writer thread: ask it, and wait. */
	pthread_mutex_lock(&a->mu);
	uint64_t before = a->checkpoints_done;
	a->checkpoint_wanted = true;
	pthread_cond_signal(&a->work);
	while (a->checkpoints_done == before)
		pthread_cond_wait(&a->done, &a->mu);
	int rc = a->checkpoint_rc;
	pthread_mutex_unlock(&a->mu);
	if (rc != 0)
		return err_set(e, ERR_UNAVAILABLE, "audit_unavailable",
			       "the checkpoint could not be signed");
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

static uint64_t meta_u64(struct store_conn *c, const char *key)
{
	struct store_stmt *st = store_prepare(c, sql_meta_get);
	store_bind_text(st, 1, key);
	uint64_t v = 0;
	if (store_step(st) == STORE_ROW)
		v = strtoull(store_col_text(st, 0), NULL, 10);
	store_done(st);
	return v;
}

static int recover(struct audit *a, struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "no read connection");
	int64_t last_ms = 0;
	uint64_t size = size_on_disk(r, &last_ms);
	if (size == UINT64_MAX)
		return store_fail(e, "the audit log cannot be read");
	a->last_ms = last_ms;
	a->next_seq = size;
	if (frontier_load(r, size, &a->frontier) != 0)
		return err_set(e, ERR_UNAVAILABLE, "audit_corrupt",
			       "the audit log cannot be read back; run "
			       "`kruispunt audit verify`");
	struct audit_checkpoint cp;
	a->signed_size = audit_checkpoint_latest(a->store, &cp) == 0
			 ? cp.tree_size : 0;
	atomic_store(&a->durable, size);
	uint64_t indexed = meta_u64(r, "audit_indexed_upto");
	atomic_store(&a->indexed, indexed > size ? size : indexed);
	return 0;
}

static int set_retention(struct audit *a, struct error *e)
{
	char days[24];
	snprintf(days, sizeof(days), "%d", a->opt.retention_days);
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_meta_put);
	store_bind_text(st, 1, "audit_retention_days");
	store_bind_text(st, 2, days);
	return store_write_end(a->store, store_run(st, NULL, e), e);
}

/* What audit_open sets up before its threads start, released in reverse
 * by a failed open and by audit_close once the threads are joined. */
static void audit_free(struct audit *a)
{
	pthread_cond_destroy(&a->wake_cond);
	pthread_mutex_destroy(&a->wake_mu);
	pthread_cond_destroy(&a->done);
	pthread_cond_destroy(&a->work);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->key_mu);
	secret_wipe(a->sk, sizeof(a->sk));
	free(a);
}

int audit_open(struct store *s, const uint8_t sk[ED25519_SK_LEN],
	       const struct audit_options *opt, struct audit **out,
	       struct error *e)
{
	struct audit *a = xcalloc(1, sizeof(*a));
	a->store = s;
	memcpy(a->sk, sk, ED25519_SK_LEN);
	a->opt.checkpoint_interval_ms = opt && opt->checkpoint_interval_ms
					? opt->checkpoint_interval_ms
					: AUDIT_CHECKPOINT_INTERVAL_MS;
	a->opt.index_batch = opt && opt->index_batch ? opt->index_batch
						     : AUDIT_INDEX_BATCH;
	a->opt.retention_days = opt && opt->retention_days ? opt->retention_days
							   : AUDIT_RETENTION_DAYS;
	str_copy(a->opt.origin, sizeof(a->opt.origin),
		 opt && opt->origin[0] ? opt->origin : AUDIT_ORIGIN_FALLBACK);
	a->opt.key_load = opt ? opt->key_load : NULL;
	a->opt.key_load_ctx = opt ? opt->key_load_ctx : NULL;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->key_mu, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->done, NULL);
	pthread_mutex_init(&a->wake_mu, NULL);
	pthread_cond_init(&a->wake_cond, NULL);
	if (!audit_origin_valid(a->opt.origin)) {
		err_set(e, ERR_INVALID, "invalid_origin",
			"audit.origin must be 1 to %d printable characters "
			"without spaces or '+'", AUDIT_ORIGIN_MAX);
		goto fail;
	}
	if (recover(a, e) != 0 || set_retention(a, e) != 0)
		goto fail;
	a->last_checkpoint_ns = time_mono_ns();
	/* A new log signs its empty tree at once, so that a checkpoint always
	 * exists to be asked for. */
	struct audit_checkpoint cp;
	int64_t key = writer_key_follow(a, store_reader(s));
	if (key == -2) {
		store_fail(e, "the audit key chain cannot be read");
		goto fail;
	}
	if (key >= 0 && audit_checkpoint_latest(s, &cp) == 1) {
		struct store_conn *w = store_write_begin(s, e);
		if (!w || store_write_end(s, checkpoint_store(w, &a->frontier,
							      a->sk, (uint64_t)key,
							      e), e) != 0)
			goto fail;
	}
	pthread_create(&a->waker, NULL, waker_main, a);
	pthread_create(&a->thread, NULL, writer_main, a);
	*out = a;
	return 0;
fail:
	audit_free(a); /* no thread runs yet */
	return -1;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stopping = true;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	pthread_mutex_lock(&a->wake_mu);
	a->wake_stopping = true;
	pthread_cond_signal(&a->wake_cond);
	pthread_mutex_unlock(&a->wake_mu);
	pthread_join(a->waker, NULL);
	struct error e;
	if (maybe_checkpoint(a, true, &e) != 0)
		log_error("security: final audit checkpoint failed: %s",
			  e.detail);
	/* Leave the log fully indexed: the next start begins clean. */
	while (atomic_load(&a->indexed) < atomic_load(&a->durable)) {
		uint64_t before = atomic_load(&a->indexed);
		maybe_index(a, true);
		if (atomic_load(&a->indexed) == before)
			break;
	}
	audit_free(a);
}
