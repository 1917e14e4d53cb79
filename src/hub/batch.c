/*
 * Batches (seed 004: "interactive or via batch processing"): an NDJSON file
 * of exchange requests, one per line, run in the background through the
 * same decision and logging as an interactive exchange (channel "batch").
 *
 * The input is kept in the database, cut into chunks of at most
 * CHUNK_LINES lines and CHUNK_BYTES bytes (batch_input) that the workers
 * take in order. A chunk's results and the
 * job's counters commit together, so a job interrupted by a stop resumes
 * from its missing chunks on the next start, on whichever node takes it
 * (several nodes on PostgreSQL: one runs a job at a time, under a lease).
 * A malformed line fails that line only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub/hub_internal.h"

#define CHUNK_LINES 1000
#define LINE_MAX_BYTES LIMIT_BODY_DEFAULT
#define RESULTS_MAX (256 * 1024 * 1024)

static const char sql_job_add[] =
	"INSERT INTO batch_job (id, institution_id, status, total, chunks, "
	"created_at) VALUES (?1, ?2, 'queued', ?3, ?4, ?5)";
static const char sql_job_next[] =
	"SELECT id, institution_id, total, chunks FROM batch_job "
	"WHERE status IN ('queued', 'running') ORDER BY created_at LIMIT 16";
/* Only a job still to run changes: another node may have ended it. */
static const char sql_job_status[] =
	"UPDATE batch_job SET status = ?2, finished_at = ?3 WHERE id = ?1 "
	"AND status IN ('queued', 'running')";
static const char sql_job_pending[] =
	"SELECT 1 FROM batch_job WHERE id = ?1 AND "
	"status IN ('queued', 'running')";
static const char sql_job_get[] =
	"SELECT status, total, done, granted, refused, created_at, "
	"coalesce(finished_at, 0) FROM batch_job WHERE id = ?1 AND "
	"institution_id = ?2";
static const char sql_chunks_done[] =
	"SELECT chunk FROM batch_chunk WHERE job = ?1";
static const char sql_chunk_add[] =
	"INSERT INTO batch_chunk (job, chunk, results) VALUES (?1, ?2, ?3)";
static const char sql_job_progress[] =
	"UPDATE batch_job SET done = done + ?2, granted = granted + ?3, "
	"refused = refused + ?4 WHERE id = ?1";
static const char sql_results[] =
	"SELECT results FROM batch_chunk WHERE job = ?1 ORDER BY chunk";
static const char sql_input_add[] =
	"INSERT INTO batch_input (job, chunk, first_line, lines, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_input_get[] =
	"SELECT first_line, lines FROM batch_input WHERE job = ?1 AND "
	"chunk = ?2";
static const char sql_input_any[] =
	"SELECT 1 FROM batch_input WHERE job = ?1 LIMIT 1";
static const char sql_input_drop[] = "DELETE FROM batch_input WHERE job = ?1";
/* An upload whose job row never came (the node stopped between the two):
 * old enough that no submission can still be writing it. */
static const char sql_input_orphans[] =
	"DELETE FROM batch_input WHERE created_at < ?1 AND job NOT IN "
	"(SELECT id FROM batch_job)";
#define ORPHAN_AGE_S 86400

/* The job the workers are on. */
struct batch_job {
	char id[UUID_LEN];
	struct org_institution inst;
	struct hub_requester who;
	int64_t total, chunks, next;
	uint8_t *done;      /* per chunk */
	int running;        /* chunks being worked on */
	bool again;         /* a chunk could not run or be stored: leave the
			     * job for a later pass, when the database is back */
	bool broken;        /* a chunk's input is missing: the job fails */
};

/* One chunk's lines, read back from batch_input. */
struct chunk_input {
	char *bytes;
	size_t n;
	int64_t first, count;
	size_t *off, *len;
	int64_t *line_no;   /* 1-based, in the upload */
};

struct batch_state {
	pthread_t *threads;
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stopping;
	struct batch_job *job;
};

static void job_free(struct batch_job *j)
{
	if (!j)
		return;
	free(j->done);
	free(j);
}

static void job_lease_name(const char *id, char out[64]);

/* Free j and give its lease back. */
static void job_release(struct hub *h, struct batch_job *j)
{
	char lease[64];
	job_lease_name(j->id, lease);
	store_lease_release(h->store, lease);
	job_free(j);
}

static bool blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

int64_t hub_ndjson_lines(const char *p, size_t n,
			 void (*fn)(void *ctx, size_t off, size_t len,
				    int64_t line_no),
			 void *ctx)
{
	int64_t count = 0, no = 0;
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) : n;
		size_t len = end - i;
		if (len && p[end - 1] == '\r')
			len--;
		no++;
		/* Bounded: the input is a mapped file or a request body,
		 * neither ends in a NUL. */
		if (!blank(p + i, len)) {
			if (fn)
				fn(ctx, i, len, no);
			count++;
		}
		i = end + 1;
	}
	return count;
}

static void index_line(void *ctx, size_t off, size_t len, int64_t no)
{
	struct chunk_input *in = ctx;
	in->off[in->count] = off;
	in->len[in->count] = len;
	in->line_no[in->count++] = in->first + no - 1;
}

static void chunk_input_free(struct chunk_input *in)
{
	free(in->bytes);
	free(in->off);
	free(in->len);
	free(in->line_no);
}

/* Read chunk c of job back and index its lines. Returns 0, 1 when the
 * chunk is not there, or -1 when the database is away; in must be freed
 * in every case. */
static int chunk_load(struct hub *h, const char *job, int64_t c,
		      struct chunk_input *in)
{
	struct store_conn *r = store_reader(h->store);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_input_get);
	store_bind_text(st, 1, job);
	store_bind_int(st, 2, c);
	enum store_rc rc = store_step(st);
	if (rc == STORE_ROW) {
		in->first = store_col_int(st, 0);
		const void *b = store_col_blob(st, 1, &in->n);
		in->bytes = xmalloc(in->n + 1);
		if (in->n)
			memcpy(in->bytes, b, in->n);
	}
	store_done(st);
	if (rc != STORE_ROW)
		return rc == STORE_DONE ? 1 : -1;
	int64_t n = hub_ndjson_lines(in->bytes, in->n, NULL, NULL);
	in->off = xcalloc((size_t)n + 1, sizeof(*in->off));
	in->len = xcalloc((size_t)n + 1, sizeof(*in->len));
	in->line_no = xcalloc((size_t)n + 1, sizeof(*in->line_no));
	hub_ndjson_lines(in->bytes, in->n, index_line, in);
	return 0;
}

/* A job's status; a job that ends takes its input with it. */
static void set_status(struct hub *h, const char *job, const char *status)
{
	struct error e;
	struct store_conn *w = store_write_begin(h->store, &e);
	if (!w) {
		log_error("batch %s: status %s not recorded: %s", job, status,
			  e.detail);
		return;
	}
	bool ends = strcmp(status, "running") != 0;
	struct store_stmt *st = store_prepare(w, sql_job_status);
	store_bind_text(st, 1, job);
	store_bind_text(st, 2, status);
	if (ends)
		store_bind_int(st, 3, time_now());
	else
		store_bind_null(st, 3);
	int rc = store_run(st, NULL, &e);
	if (rc == 0 && ends) {
		st = store_prepare(w, sql_input_drop);
		store_bind_text(st, 1, job);
		rc = store_run(st, NULL, &e);
	}
	store_write_end(h->store, rc, &e);
}

/* How an upload is cut into chunks: at most CHUNK_LINES lines and, but
 * for a chunk of one line, CHUNK_BYTES bytes, so that a worker never holds
 * more than that of one chunk (an upload may be 256 MiB on one line). A
 * line longer than a line may be fails alone, so only its first
 * LINE_MAX_BYTES + 1 bytes are kept, in a chunk of its own. An older
 * installation cut by lines alone (by_lines_only): its jobs' finished
 * chunks are numbered that way. */
#define CHUNK_BYTES (8 * 1024 * 1024)

struct chunk_cut {
	size_t start, end;
	int64_t first, lines;
	bool alone; /* a line too long, cut short */
};

struct cuts {
	struct chunk_cut *c;
	size_t n, cap;
	bool by_lines_only;
};

static struct chunk_cut *cut_new(struct cuts *k, size_t off, int64_t no)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 64;
		k->c = xrealloc(k->c, k->cap * sizeof(*k->c));
	}
	k->c[k->n] = (struct chunk_cut){off, off, no, 0, false};
	return &k->c[k->n++];
}

static void cut_line(void *ctx, size_t off, size_t len, int64_t no)
{
	struct cuts *k = ctx;
	struct chunk_cut *c = k->n ? &k->c[k->n - 1] : NULL;
	bool too_long = !k->by_lines_only && len > LINE_MAX_BYTES;
	if (too_long)
		len = LINE_MAX_BYTES + 2; /* still too long without a '\r' */
	if (!c || c->lines == CHUNK_LINES ||
	    (!k->by_lines_only &&
	     (too_long || c->alone || off + len - c->start > CHUNK_BYTES)))
		c = cut_new(k, off, no);
	c->end = off + len;
	c->alone = too_long;
	c->lines++;
}

/* One chunk of an upload, in a transaction of its own: a large upload
 * does not hold the writer (of every node, on PostgreSQL) for long. */
static int input_put(struct hub *h, const char *job, int64_t c,
		     int64_t first, const char *p, size_t n, struct error *e)
{
	struct store_conn *w = store_write_begin(h->store, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_input_add);
	store_bind_text(st, 1, job);
	store_bind_int(st, 2, c);
	store_bind_int(st, 3, first);
	store_bind_blob(st, 4, p, n);
	store_bind_int(st, 5, time_now());
	return store_write_end(h->store, store_run(st, NULL, e), e);
}

static void input_drop(struct hub *h, const char *job)
{
	struct error e;
	struct store_conn *w = store_write_begin(h->store, &e);
	if (!w)
		return; /* an orphan, removed a day later (batch_start) */
	struct store_stmt *st = store_prepare(w, sql_input_drop);
	store_bind_text(st, 1, job);
	store_write_end(h->store, store_run(st, NULL, &e), &e);
}

/* Keep an upload, chunk by chunk, before its job exists. Returns the
 * number of chunks, or -1 with e set (nothing kept). */
static int64_t input_store(struct hub *h, const char *job, const char *body,
			   size_t len, bool by_lines_only, struct error *e)
{
	struct cuts k = {.by_lines_only = by_lines_only};
	hub_ndjson_lines(body, len, cut_line, &k);
	int rc = 0;
	for (size_t c = 0; rc == 0 && c < k.n; c++)
		rc = input_put(h, job, (int64_t)c, k.c[c].first,
			       body + k.c[c].start, k.c[c].end - k.c[c].start,
			       e);
	free(k.c);
	if (rc != 0) {
		input_drop(h, job);
		return err_set(e, ERR_UNAVAILABLE, "batch_unavailable",
			       "the batch could not be stored");
	}
	return (int64_t)k.n;
}

/* A job accepted by an older kruispunt has its input in a file of
 * hub.batch_dir: moved into the database the first time the job is taken
 * (on the node that has it). Returns 0 when the job's input is in the
 * database, 1 when it is nowhere or damaged, -1 when the database is away
 * (try later). */
static int input_legacy(struct hub *h, const char *job, int64_t total)
{
	struct store_conn *r = store_reader(h->store);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_input_any);
	store_bind_text(st, 1, job);
	struct error e;
	int rc = store_one(st, NULL, NULL, &e);
	if (rc <= 0)
		return rc;
	char path[LIMIT_PATH + 64];
	if (snprintf(path, sizeof(path), "%s/%s.ndjson", h->opt.batch_dir,
		     job) >= (int)sizeof(path))
		return 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size == 0) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	size_t n = (size_t)sb.st_size;
	char *map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	rc = hub_ndjson_lines(map, n, NULL, NULL) != total ? 1
	     : input_store(h, job, map, n, true, &e) >= 0 ? 0
							   : -1;
	munmap(map, n);
	if (rc == 0)
		unlink(path);
	return rc;
}

/* The chunks of j already done. */
static void job_load(struct hub *h, struct batch_job *j)
{
	j->done = xcalloc((size_t)j->chunks, 1);
	struct store_conn *r = store_reader(h->store);
	if (!r)
		return;
	struct store_stmt *st = store_prepare(r, sql_chunks_done);
	store_bind_text(st, 1, j->id);
	while (store_step(st) == STORE_ROW) {
		int64_t c = store_col_int(st, 0);
		if (c >= 0 && c < j->chunks)
			j->done[c] = 1;
	}
	store_done(st);
}

/* A pending job as listed, before it is taken. */
struct job_row {
	char id[UUID_LEN];
	int64_t inst, total, chunks;
};

/* The lease that makes one node run a job (store_lease). */
static void job_lease_name(const char *id, char out[64])
{
	snprintf(out, 64, "hub_batch:%.36s", id);
}

/* Whether this node may run the job: no other node runs it (its lease).
 * One SQLite node runs every job. */
static bool job_ours(struct hub *h, const struct job_row *row)
{
	if (store_backend_of(h->store) == STORE_SQLITE)
		return true;
	char lease[64];
	job_lease_name(row->id, lease);
	return store_lease(h->store, lease);
}

/* Whether j, now under this node's lease, is to run here. Returns 0 (it
 * is), 1 (it cannot run: it fails), 2 (not here: another node finished
 * it between the listing and the lease, or it is an older job whose input
 * file is on another node), or -1 (the database is away: later). */
static int job_ready(struct hub *h, struct batch_job *j, int64_t inst)
{
	struct store_conn *r = store_reader(h->store);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_job_pending);
	store_bind_text(st, 1, j->id);
	struct error e;
	int rc = store_one(st, NULL, NULL, &e);
	if (rc != 0)
		return rc > 0 ? 2 : -1;
	if (org_institution_get(h->store, inst, &j->inst) != 0)
		return 1;
	rc = input_legacy(h, j->id, j->total);
	if (rc > 0 && store_backend_of(h->store) != STORE_SQLITE)
		return 2;
	return rc;
}

/* Take row's job: load its input, mark it running. Returns the job or
 * NULL (then marked failed). */
static struct batch_job *job_take(struct hub *h, const struct job_row *row)
{
	struct batch_job *j = xcalloc(1, sizeof(*j));
	str_copy(j->id, sizeof(j->id), row->id);
	j->chunks = row->chunks;
	j->total = row->total;
	int rc = job_ready(h, j, row->inst);
	if (rc != 0) {
		if (rc == 1) {
			log_error("batch %s cannot be run: its input is gone "
				  "or damaged", j->id);
			set_status(h, j->id, "failed");
		}
		job_release(h, j);
		return NULL;
	}
	job_load(h, j);
	/* A batch is the system's own work: its lines name no person. */
	j->who = (struct hub_requester){j->inst.id, j->inst.kbo,
					 j->inst.actor_type, j->inst.branch,
					 NULL};
	set_status(h, j->id, "running");
	return j;
}

/* The oldest pending job this node may run, or NULL. */
static struct batch_job *job_next(struct hub *h)
{
	struct store_conn *r = store_reader(h->store);
	if (!r)
		return NULL;
	struct job_row rows[16];
	int n = 0;
	struct store_stmt *st = store_prepare(r, sql_job_next);
	while (n < 16 && store_step(st) == STORE_ROW) {
		str_copy(rows[n].id, sizeof(rows[n].id), store_col_text(st, 0));
		rows[n].inst = store_col_int(st, 1);
		rows[n].total = store_col_int(st, 2);
		rows[n].chunks = store_col_int(st, 3);
		n++;
	}
	store_done(st);
	for (int i = 0; i < n; i++)
		if (job_ours(h, &rows[i]))
			return job_take(h, &rows[i]);
	return NULL;
}

/* A chunk's lines in flight: each line's exchange is decided at once and
 * its audit event queued without waiting, so a chunk's thousand events
 * share a few group commits; the chunk waits for all of them at its end. */
struct chunk_wait {
	pthread_mutex_t mu;
	pthread_cond_t all_done;
	int pending;
};

struct line_result {
	struct chunk_wait *w;
	int rc;
	json_t *data;
	char ticket[UUID_LEN];
	char basis[64];
	struct error e;
};

static void line_done(void *ctx, int rc, json_t *data, const char *basis,
		      const struct error *e)
{
	struct line_result *r = ctx;
	r->rc = rc;
	r->data = data;
	if (rc == 0)
		str_copy(r->basis, sizeof(r->basis), basis);
	else
		r->e = *e;
	pthread_mutex_lock(&r->w->mu);
	if (--r->w->pending == 0)
		pthread_cond_signal(&r->w->all_done);
	pthread_mutex_unlock(&r->w->mu);
}

static void start_line(struct hub *h, struct batch_job *j,
		       const struct chunk_input *in, int64_t i,
		       struct line_result *r)
{
	if (in->len[i] > LINE_MAX_BYTES) {
		uuid7_new(r->ticket);
		r->rc = err_set(&r->e, ERR_TOO_LARGE, "line_too_long",
				"a line holds at most %d bytes", LINE_MAX_BYTES);
		return;
	}
	pthread_mutex_lock(&r->w->mu);
	r->w->pending++;
	pthread_mutex_unlock(&r->w->mu);
	hub_exchange_async(h, &j->who, AUDIT_CHANNEL_BATCH, in->bytes + in->off[i],
			   in->len[i], r->ticket, line_done, r);
}

/* One line's result as an NDJSON line. */
static void put_result(const struct batch_job *j, const struct chunk_input *in,
		       int64_t i, struct line_result *r, struct buf *out,
		       int64_t *granted)
{
	json_t *res = json_pack("{s:I,s:s,s:s}", "line",
				(json_int_t)in->line_no[i],
				"ticket", r->ticket, "status",
				r->rc == 0 ? "granted" : "refused");
	if (r->rc == 0) {
		json_object_set_new(res, "data", r->data);
		json_object_set_new(res, "legal_basis", json_string(r->basis));
		(*granted)++;
	} else {
		json_object_set_new(res, "code", json_string(r->e.code));
		json_object_set_new(res, "detail", json_string(r->e.detail));
	}
	char *line = jsonx_dump(res);
	json_decref(res);
	if (buf_puts(out, line) != 0 || buf_puts(out, "\n") != 0)
		log_error("batch %s: results of a chunk too large", j->id);
	free(line);
}

/* A chunk's results with the job's counters, in one transaction. Returns
 * 0, or -1 (the chunk then runs again at the next start). */
static int save_chunk(struct hub *h, const struct batch_job *j, int64_t c,
		       const char *results, int64_t lines, int64_t granted)
{
	struct error e;
	struct store_conn *w = store_write_begin(h->store, &e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_chunk_add);
	store_bind_text(st, 1, j->id);
	store_bind_int(st, 2, c);
	store_bind_text(st, 3, results);
	int rc = store_run(st, NULL, &e);
	if (rc == 0) {
		st = store_prepare(w, sql_job_progress);
		store_bind_text(st, 1, j->id);
		store_bind_int(st, 2, lines);
		store_bind_int(st, 3, granted);
		store_bind_int(st, 4, lines - granted);
		rc = store_run(st, NULL, &e);
	}
	return store_write_end(h->store, rc, &e);
}

/* Run chunk c of j and store its results. Returns 0, 1 when its input
 * is missing, or -1 (the chunk runs again on a later pass, on this node
 * or another). */
static int run_chunk(struct hub *h, struct batch_job *j, int64_t c)
{
	/* The lease is asked again before each chunk: a node that lost it
	 * (its lease connection dropped, another node took the job) stops
	 * instead of deciding the same lines twice. */
	char lease[64];
	job_lease_name(j->id, lease);
	if (!store_lease(h->store, lease))
		return -1;
	struct chunk_input in = {0};
	int loaded = chunk_load(h, j->id, c, &in);
	if (loaded != 0) {
		chunk_input_free(&in);
		log_error("batch %s: chunk %lld %s", j->id, (long long)c,
			  loaded > 0 ? "has no input: the job fails"
				     : "cannot be read; it runs later");
		return loaded;
	}
	struct buf out;
	buf_init(&out, RESULTS_MAX);
	int64_t granted = 0;
	struct chunk_wait cw = {PTHREAD_MUTEX_INITIALIZER,
				PTHREAD_COND_INITIALIZER, 0};
	struct line_result *r = xcalloc((size_t)in.count + 1, sizeof(*r));
	for (int64_t i = 0; i < in.count; i++) {
		r[i].w = &cw;
		start_line(h, j, &in, i, &r[i]);
	}
	pthread_mutex_lock(&cw.mu);
	while (cw.pending > 0)
		pthread_cond_wait(&cw.all_done, &cw.mu);
	pthread_mutex_unlock(&cw.mu);
	for (int64_t i = 0; i < in.count; i++)
		put_result(j, &in, i, &r[i], &out, &granted);
	free(r);
	int rc = save_chunk(h, j, c, out.p ? out.p : "", in.count, granted);
	if (rc != 0)
		log_error("batch %s: chunk %lld not stored; it runs again "
			  "later", j->id, (long long)c);
	buf_free(&out);
	chunk_input_free(&in);
	return rc;
}

/* With b->mu held: the next chunk of the current job to run, or -1. */
static int64_t claim(struct batch_job *j)
{
	while (j->next < j->chunks && j->done[j->next])
		j->next++;
	if (j->next >= j->chunks)
		return -1;
	j->running++;
	return j->next++;
}

static void *worker_main(void *arg)
{
	struct hub *h = arg;
	struct batch_state *b = h->batch;
	pthread_mutex_lock(&b->mu);
	while (!b->stopping) {
		/* Loaded under the lock: a job is picked up once, and only
		 * after the previous one is marked done, so no chunk runs
		 * twice. */
		if (!b->job)
			b->job = job_next(h);
		struct batch_job *j = b->job;
		int64_t c = j ? claim(j) : -1;
		if (c >= 0) {
			pthread_mutex_unlock(&b->mu);
			int rc = run_chunk(h, j, c);
			pthread_mutex_lock(&b->mu);
			if (rc == 0)
				j->done[c] = 1;
			else if (rc > 0)
				j->broken = true;
			else
				j->again = true;
			j->running--;
			continue;
		}
		if (j && j->running == 0) {
			/* Not done while a chunk failed: the job stays
			 * running, its lease is given back, and the next pass
			 * (a second on, or another node) runs what is left. */
			bool again = j->again && !j->broken;
			if (!again)
				set_status(h, j->id,
					   j->broken ? "failed" : "done");
			b->job = NULL;
			job_release(h, j);
			if (!again)
				continue;
		}
		struct timespec until;
		time_deadline(&until, 1000);
		pthread_cond_timedwait(&b->wake, &b->mu, &until);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* Uploads whose job never came, kept no longer than a day. */
static void drop_orphans(struct hub *h)
{
	struct error e;
	struct store_conn *w = store_write_begin(h->store, &e);
	if (!w)
		return;
	struct store_stmt *st = store_prepare(w, sql_input_orphans);
	store_bind_int(st, 1, time_now() - ORPHAN_AGE_S);
	store_write_end(h->store, store_run(st, NULL, &e), &e);
}

int batch_start(struct hub *h, struct error *e)
{
	(void)e;
	drop_orphans(h);
	struct batch_state *b = xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->wake, NULL);
	b->nthreads = h->opt.batch_workers ? h->opt.batch_workers
					   : HUB_BATCH_WORKERS;
	b->threads = xcalloc((size_t)b->nthreads, sizeof(*b->threads));
	h->batch = b;
	for (int i = 0; i < b->nthreads; i++)
		pthread_create(&b->threads[i], NULL, worker_main, h);
	return 0;
}

void batch_stop(struct hub *h)
{
	struct batch_state *b = h->batch;
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->stopping = true;
	pthread_cond_broadcast(&b->wake);
	pthread_mutex_unlock(&b->mu);
	for (int i = 0; i < b->nthreads; i++)
		pthread_join(b->threads[i], NULL);
	job_free(b->job);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->wake);
	free(b->threads);
	free(b);
	h->batch = NULL;
}

int hub_batch_submit(struct hub *h, const struct hub_requester *who,
		     const char *body, size_t len, char job[UUID_LEN],
		     struct error *e)
{
	int64_t max = h->opt.batch_max_lines ? h->opt.batch_max_lines
					     : HUB_BATCH_MAX_LINES;
	int64_t total = hub_ndjson_lines(body, len, NULL, NULL);
	if (total == 0)
		return err_set(e, ERR_INVALID, "empty_batch",
			       "one exchange request per line, none found");
	if (total > max)
		return err_set(e, ERR_INVALID, "too_many_lines",
			       "a batch holds at most %lld lines; this one has "
			       "%lld", (long long)max, (long long)total);
	uuid7_new(job);
	int64_t chunks = input_store(h, job, body, len, false, e);
	if (chunks < 0)
		return -1;
	struct store_conn *w = store_write_begin(h->store, e);
	if (!w) {
		input_drop(h, job);
		return -1;
	}
	struct store_stmt *st = store_prepare(w, sql_job_add);
	store_bind_text(st, 1, job);
	store_bind_int(st, 2, who->institution_id);
	store_bind_int(st, 3, total);
	store_bind_int(st, 4, chunks);
	store_bind_int(st, 5, time_now());
	enum store_rc rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE) {
		store_write_rollback(h->store);
		input_drop(h, job);
		return err_set(e, ERR_UNAVAILABLE, "batch_unavailable",
			       "the batch could not be stored");
	}
	/* A failed COMMIT may have landed all the same: the input stays
	 * (an orphan is dropped a day later, a job finds it). */
	if (store_write_commit(h->store, e) != 0)
		return -1;
	pthread_mutex_lock(&h->batch->mu);
	pthread_cond_broadcast(&h->batch->wake);
	pthread_mutex_unlock(&h->batch->mu);
	return 0;
}

/* Fill status (a struct hub_batch_status, but its job) from a row of
 * sql_job_get. */
static void read_status(struct store_stmt *st, void *status)
{
	struct hub_batch_status *out = status;
	memset(out, 0, sizeof(*out));
	str_copy(out->status, sizeof(out->status), store_col_text(st, 0));
	out->total = store_col_int(st, 1);
	out->done = store_col_int(st, 2);
	out->granted = store_col_int(st, 3);
	out->refused = store_col_int(st, 4);
	out->created_at = store_col_int(st, 5);
	out->finished_at = store_col_int(st, 6);
}

int hub_batch_status(struct hub *h, int64_t institution_id, const char *job,
		     struct hub_batch_status *out, struct error *e)
{
	struct store_conn *r = store_reader(h->store);
	if (!r)
		return store_fail(e, "try again");
	struct store_stmt *st = store_prepare(r, sql_job_get);
	store_bind_text(st, 1, job);
	store_bind_int(st, 2, institution_id);
	int rc = store_one(st, read_status, out, e);
	if (rc == 0)
		str_copy(out->job, sizeof(out->job), job);
	return rc <= 0 ? rc
		       : err_set(e, ERR_NOT_FOUND, "unknown_job",
				 "you have no batch with this id");
}

int hub_batch_results(struct hub *h, int64_t institution_id, const char *job,
		      char **out, size_t *n, struct error *e)
{
	struct hub_batch_status s;
	if (hub_batch_status(h, institution_id, job, &s, e) != 0)
		return -1;
	struct buf b;
	buf_init(&b, SIZE_MAX / 2);
	struct store_conn *r = store_reader(h->store);
	struct store_stmt *st = store_prepare(r, sql_results);
	store_bind_text(st, 1, job);
	while (store_step(st) == STORE_ROW)
		buf_puts(&b, store_col_text(st, 0));
	store_done(st);
	*out = buf_take(&b, n);
	if (!*out)
		*out = xstrdup("");
	return 0;
}
