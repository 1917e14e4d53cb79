/*
 * Batches (seed 004: "interactive or via batch processing"): an NDJSON file
 * of exchange requests, one per line, run in the background through the
 * same decision and logging as an interactive exchange (channel "batch").
 *
 * The input is kept in batch_dir/<job>.ndjson; the job is cut into chunks
 * of CHUNK_LINES lines that the workers take in order. A chunk's results
 * and the job's counters commit together, so a job interrupted by a stop
 * resumes from its missing chunks on the next start. A malformed line
 * fails that line only.
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
static const char sql_job_status[] =
	"UPDATE batch_job SET status = ?2, finished_at = ?3 WHERE id = ?1";
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

/* The job the workers are on. */
struct batch_job {
	char id[UUID_LEN];
	struct org_institution inst;
	struct hub_requester who;
	char *map;          /* the input file, mapped */
	size_t map_len;
	size_t *off, *len;  /* non-blank lines */
	int64_t *line_no;   /* their 1-based line numbers in the file */
	int64_t total, chunks, next;
	uint8_t *done;      /* per chunk */
	int running;        /* chunks being worked on */
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
	if (j->map)
		munmap(j->map, j->map_len);
	free(j->off);
	free(j->len);
	free(j->line_no);
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

static void input_path(struct hub *h, const char *job, char *out, size_t n)
{
	/* Too long a directory leaves no path: nothing opens "". */
	if (snprintf(out, n, "%s/%s.ndjson", h->opt.batch_dir, job) >= (int)n)
		out[0] = '\0';
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
	struct batch_job *j = ctx;
	j->off[j->total] = off;
	j->len[j->total] = len;
	j->line_no[j->total++] = no;
}

static void set_status(struct hub *h, const char *job, const char *status)
{
	struct error e;
	struct store_conn *w = store_write_begin(h->store, &e);
	if (!w) {
		log_error("batch %s: status %s not recorded: %s", job, status,
			  e.detail);
		return;
	}
	struct store_stmt *st = store_prepare(w, sql_job_status);
	store_bind_text(st, 1, job);
	store_bind_text(st, 2, status);
	if (strcmp(status, "running") == 0)
		store_bind_null(st, 3);
	else
		store_bind_int(st, 3, time_now());
	store_write_end(h->store, store_run(st, NULL, &e), &e);
}

/* Map the job's input, index its lines, and note the chunks already done. */
static int job_load(struct hub *h, struct batch_job *j, int64_t total)
{
	char path[LIMIT_PATH + 64];
	input_path(h, j->id, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size == 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	j->map_len = (size_t)sb.st_size;
	j->map = mmap(NULL, j->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (j->map == MAP_FAILED) {
		j->map = NULL;
		return -1;
	}
	j->off = xcalloc((size_t)total, sizeof(*j->off));
	j->len = xcalloc((size_t)total, sizeof(*j->len));
	j->line_no = xcalloc((size_t)total, sizeof(*j->line_no));
	if (hub_ndjson_lines(j->map, j->map_len, NULL, NULL) != total)
		return -1;
	hub_ndjson_lines(j->map, j->map_len, index_line, j);
	j->done = xcalloc((size_t)j->chunks, 1);
	struct store_conn *r = store_reader(h->store);
	struct store_stmt *st = store_prepare(r, sql_chunks_done);
	store_bind_text(st, 1, j->id);
	while (store_step(st) == STORE_ROW) {
		int64_t c = store_col_int(st, 0);
		if (c >= 0 && c < j->chunks)
			j->done[c] = 1;
	}
	store_done(st);
	return 0;
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

/* Whether this node may run the job: its input is here (a job's input
 * stays on the node that accepted it, unless hub.batch_dir is shared
 * storage), and no other node runs it (its lease). One SQLite node runs
 * every job, and a job whose input is gone fails. */
static bool job_ours(struct hub *h, const struct job_row *row)
{
	if (store_backend_of(h->store) == STORE_SQLITE)
		return true;
	char path[LIMIT_PATH + 64], lease[64];
	input_path(h, row->id, path, sizeof(path));
	if (access(path, R_OK) != 0)
		return false;
	job_lease_name(row->id, lease);
	return store_lease(h->store, lease);
}

/* Take row's job: load its input, mark it running. Returns the job or
 * NULL (then marked failed). */
static struct batch_job *job_take(struct hub *h, const struct job_row *row)
{
	struct batch_job *j = xcalloc(1, sizeof(*j));
	str_copy(j->id, sizeof(j->id), row->id);
	j->chunks = row->chunks;
	if (org_institution_get(h->store, row->inst, &j->inst) != 0 ||
	    job_load(h, j, row->total) != 0) {
		log_error("batch %s cannot be run: its input is gone or damaged",
			  j->id);
		set_status(h, j->id, "failed");
		job_release(h, j);
		return NULL;
	}
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

static void start_line(struct hub *h, struct batch_job *j, int64_t i,
		       struct line_result *r)
{
	if (j->len[i] > LINE_MAX_BYTES) {
		uuid7_new(r->ticket);
		r->rc = err_set(&r->e, ERR_TOO_LARGE, "line_too_long",
				"a line holds at most %d bytes", LINE_MAX_BYTES);
		return;
	}
	pthread_mutex_lock(&r->w->mu);
	r->w->pending++;
	pthread_mutex_unlock(&r->w->mu);
	hub_exchange_async(h, &j->who, AUDIT_CHANNEL_BATCH, j->map + j->off[i],
			   j->len[i], r->ticket, line_done, r);
}

/* One line's result as an NDJSON line. */
static void put_result(struct batch_job *j, int64_t i, struct line_result *r,
		       struct buf *out, int64_t *granted)
{
	json_t *res = json_pack("{s:I,s:s,s:s}", "line", (json_int_t)j->line_no[i],
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

static void run_chunk(struct hub *h, struct batch_job *j, int64_t c)
{
	struct buf out;
	buf_init(&out, RESULTS_MAX);
	int64_t first = c * CHUNK_LINES, granted = 0;
	int64_t last = first + CHUNK_LINES < j->total ? first + CHUNK_LINES
						      : j->total;
	struct chunk_wait cw = {PTHREAD_MUTEX_INITIALIZER,
				PTHREAD_COND_INITIALIZER, 0};
	struct line_result *r = xcalloc((size_t)(last - first), sizeof(*r));
	for (int64_t i = first; i < last; i++) {
		r[i - first].w = &cw;
		start_line(h, j, i, &r[i - first]);
	}
	pthread_mutex_lock(&cw.mu);
	while (cw.pending > 0)
		pthread_cond_wait(&cw.all_done, &cw.mu);
	pthread_mutex_unlock(&cw.mu);
	for (int64_t i = first; i < last; i++)
		put_result(j, i, &r[i - first], &out, &granted);
	free(r);
	if (save_chunk(h, j, c, out.p ? out.p : "", last - first, granted) != 0)
		log_error("batch %s: chunk %lld not stored; it runs again at the "
			  "next start", j->id, (long long)c);
	buf_free(&out);
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
			run_chunk(h, j, c);
			pthread_mutex_lock(&b->mu);
			j->done[c] = 1;
			j->running--;
			continue;
		}
		if (j && j->running == 0) {
			set_status(h, j->id, "done");
			b->job = NULL;
			job_release(h, j);
			continue;
		}
		struct timespec until;
		time_deadline(&until, 1000);
		pthread_cond_timedwait(&b->wake, &b->mu, &until);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

int batch_start(struct hub *h, struct error *e)
{
	if (mkdir(h->opt.batch_dir, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_INTERNAL, "hub_failed", "cannot create %s",
			       h->opt.batch_dir);
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

/* Keep the input durably before the job exists. */
static int write_input(struct hub *h, const char *job, const char *body,
		       size_t len, struct error *e)
{
	char path[LIMIT_PATH + 64], tmp[LIMIT_PATH + 80];
	input_path(h, job, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t done = 0;
	while (fd >= 0 && done < len) {
		ssize_t n = write(fd, body + done, len - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	bool ok = fd >= 0 && done == len && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return err_set(e, ERR_UNAVAILABLE, "batch_unavailable",
			       "the batch could not be stored");
	}
	return 0;
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
	if (write_input(h, job, body, len, e) != 0)
		return -1;
	struct store_conn *w = store_write_begin(h->store, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_job_add);
	store_bind_text(st, 1, job);
	store_bind_int(st, 2, who->institution_id);
	store_bind_int(st, 3, total);
	store_bind_int(st, 4, (total + CHUNK_LINES - 1) / CHUNK_LINES);
	store_bind_int(st, 5, time_now());
	enum store_rc rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE) {
		store_write_rollback(h->store);
		return err_set(e, ERR_UNAVAILABLE, "batch_unavailable",
			       "the batch could not be stored");
	}
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
