/*
 * bench/audit_bench: the audit log's figures against baselines measured in
 * the same run on the same disk.
 *
 *   appends/s    64 concurrent writers, each audit_append waiting for
 *                durability (group commit)
 *                baseline: raw SQLite inserts of the same rows by one
 *                thread in transactions of 64, synchronous = FULL
 *   latency      p50 / p99 of one audit_append
 *   verify       `audit verify` over N events (default 10 million)
 *                baseline: reading every entry and hashing it once
 *   size         database bytes per event
 *
 * usage: audit_bench DIR [WRITERS] [SECONDS] [VERIFY_EVENTS]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "cli/modules.h"

static struct audit *log_;
static _Atomic bool stop;
static _Atomic uint64_t appended;
static uint64_t target; /* 0: until stop */

struct worker {
	uint64_t *lat;
	size_t n, cap;
};

static const char *subjects[] = {"85073003328", "12090311839", "90031524651",
				 "92510405775", "01010100126"};

static struct audit_event sample(uint64_t k)
{
	return (struct audit_event){
		.channel = AUDIT_CHANNEL_NETWORK,
		.actor = k % 2 ? "0411111140" : "0722222210",
		.subject = subjects[k % 5],
		.action = "exchange",
		.data_type = "identification",
		.purpose = "health_insurance_rights",
		.legal_basis = "IVC/KSZG/25/034",
		.ticket = "01a204e7-c33a-77a3-9d3b-ac1fd1566b74",
		.outcome = AUDIT_GRANTED,
	};
}

static void *writer(void *arg)
{
	struct worker *w = arg;
	for (uint64_t k = 0; !atomic_load(&stop); k++) {
		if (target && atomic_fetch_add(&appended, 1) >= target)
			break;
		struct audit_event ev = sample(k);
		struct error e;
		uint64_t t0 = time_mono_ns();
		if (audit_append(log_, &ev, NULL, &e) != 0) {
			fprintf(stderr, "append: %s\n", e.detail);
			exit(1);
		}
		if (!target) {
			atomic_fetch_add(&appended, 1);
			if (w->n == w->cap) {
				w->cap = w->cap ? w->cap * 2 : 4096;
				w->lat = xrealloc(w->lat, w->cap * sizeof(uint64_t));
			}
			w->lat[w->n++] = time_mono_ns() - t0;
		}
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Run `writers` threads for `seconds` (or until `target` events). */
static double run_writers(int writers, double seconds, uint64_t *lat_p50,
			  uint64_t *lat_p99)
{
	pthread_t t[256];
	struct worker w[256];
	memset(w, 0, sizeof(w));
	atomic_store(&stop, false);
	atomic_store(&appended, 0);
	uint64_t t0 = time_mono_ns();
	for (int i = 0; i < writers; i++)
		pthread_create(&t[i], NULL, writer, &w[i]);
	if (!target) {
		struct timespec d = {(time_t)seconds, 0};
		nanosleep(&d, NULL);
		atomic_store(&stop, true);
	}
	for (int i = 0; i < writers; i++)
		pthread_join(t[i], NULL);
	double elapsed = (double)(time_mono_ns() - t0) / 1e9;
	size_t total = 0;
	for (int i = 0; i < writers; i++)
		total += w[i].n;
	if (lat_p50 && total) {
		uint64_t *all = xmalloc(total * sizeof(uint64_t));
		size_t k = 0;
		for (int i = 0; i < writers; i++) {
			memcpy(all + k, w[i].lat, w[i].n * sizeof(uint64_t));
			k += w[i].n;
		}
		qsort(all, total, sizeof(uint64_t), cmp_u64);
		*lat_p50 = all[total / 2];
		*lat_p99 = all[total * 99 / 100];
		free(all);
	}
	for (int i = 0; i < writers; i++)
		free(w[i].lat);
	uint64_t n = atomic_load(&appended);
	return (double)(target && n > target ? target : n) / elapsed;
}

/* Raw SQLite: the same rows, 64 per transaction, synchronous = FULL. */
static double baseline_inserts(const char *dir, double seconds)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/baseline.db", dir);
	remove(path);
	sqlite3 *db;
	sqlite3_stmt *st;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE t (seq INTEGER PRIMARY KEY, at INTEGER,"
			 " entry BLOB, leaf BLOB)", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2, ?3, ?4)", -1, &st,
			   NULL);
	char entry[320];
	uint8_t leaf[32] = {0};
	memset(entry, 'x', sizeof(entry));
	uint64_t seq = 0, t0 = time_mono_ns();
	uint64_t until = t0 + (uint64_t)(seconds * 1e9);
	while (time_mono_ns() < until) {
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		for (int i = 0; i < 64; i++, seq++) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
			sqlite3_bind_blob(st, 3, entry, sizeof(entry), SQLITE_STATIC);
			sqlite3_bind_blob(st, 4, leaf, 32, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	double rate = (double)seq / ((double)(time_mono_ns() - t0) / 1e9);
	sqlite3_finalize(st);
	sqlite3_close(db);
	remove(path);
	return rate;
}

/* Read every entry and hash it once: the floor under `audit verify`. */
static double baseline_read_hash(const char *db_path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
	sqlite3_prepare_v2(db, "SELECT entry FROM audit_event ORDER BY seq", -1,
			   &st, NULL);
	uint8_t h[32];
	uint64_t t0 = time_mono_ns();
	while (sqlite3_step(st) == SQLITE_ROW)
		crypto_hash_sha256(h, sqlite3_column_blob(st, 0),
				   (unsigned long long)sqlite3_column_bytes(st, 0));
	double secs = (double)(time_mono_ns() - t0) / 1e9;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return secs;
}

static long long file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

static void remove_db(const char *path)
{
	char f[1100];
	const char *suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
		remove(f);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: audit_bench DIR [WRITERS] [SECONDS] "
				"[VERIFY_EVENTS]\n");
		return 2;
	}
	const char *dir = argv[1];
	int writers = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 64;
	double seconds = argc > 3 ? strtod(argv[3], NULL) : 10;
	uint64_t verify_events = argc > 4 ? strtoull(argv[4], NULL, 10)
					  : 10000000;
	if (writers < 1 || writers > 256 || seconds <= 0)
		return 2;
	log_set_level(LV_WARN);
	if (crypto_setup() != 0)
		return 1;
	char db[1024];
	snprintf(db, sizeof(db), "%s/audit_bench.db", dir);
	remove_db(db);
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	crypto_sign_keypair(pk, sk);
	struct store *s;
	struct error e;
	if (cli_store_open(db, NULL, &s, &e) != 0 ||
	    audit_open(s, sk, NULL, &log_, &e) != 0) {
		fprintf(stderr, "audit_bench: %s\n", e.detail);
		return 1;
	}

	double base = baseline_inserts(dir, seconds);
	uint64_t p50 = 0, p99 = 0;
	double rate = run_writers(writers, seconds, &p50, &p99);
	printf("baseline  raw SQLite inserts, 64 rows per fsync'd transaction  "
	       "%.0f rows/s\n", base);
	printf("audit     appends/s, %d writers, durable group commit         "
	       "%.0f events/s   ratio %.2f   (target >= 100000/s)\n",
	       writers, rate, rate / base);
	printf("audit     append latency p50 %.2f ms, p99 %.2f ms\n",
	       (double)p50 / 1e6, (double)p99 / 1e6);
	fflush(stdout);

	uint64_t have = audit_size(log_);
	if (have < verify_events) {
		target = verify_events - have;
		double fill = run_writers(writers, 0, NULL, NULL);
		printf("filled to %llu events (%.0f events/s)\n",
		       (unsigned long long)audit_size(log_), fill);
	}
	uint64_t events = audit_size(log_);
	audit_close(log_);
	sqlite3 *raw;
	sqlite3_open(db, &raw);
	sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_close(raw);
	store_close(s);
	printf("size      %.1f bytes per event (%lld bytes for %llu events, "
	       "tree nodes, checkpoints and indexes included)\n",
	       (double)file_size(db) / (double)events, file_size(db),
	       (unsigned long long)events);
	fflush(stdout);

	if (cli_store_open(db, NULL, &s, &e) != 0)
		return 1;
	struct audit_verify_report rep;
	uint64_t t0 = time_mono_ns();
	int rc = audit_verify(s, pk, &rep);
	double vsecs = (double)(time_mono_ns() - t0) / 1e9;
	store_close(s);
	double bsecs = baseline_read_hash(db);
	printf("baseline  read + SHA-256 of every entry                     "
	       "%.2f s\n", bsecs);
	printf("audit     verify %llu events: %s in %.2f s   ratio %.2f   "
	       "(target < 30 s for 10 million)\n",
	       (unsigned long long)rep.events, rc == 0 ? "intact" : "FAILED",
	       vsecs, vsecs / bsecs);
	remove_db(db);
	return rc == 0 ? 0 : 1;
}
