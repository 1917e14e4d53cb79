/*
 * bench/directory_bench: the reference directory at scale.
 *
 *   load      PERSONS persons x 5 dossiers through `kruispunt gen`'s loader
 *             (sorted bulk import with every anti-fraud check)
 *   size      database bytes per dossier (table + covering index, dbstat)
 *   decide    the hub's decision query on one thread, half hits and half
 *             misses: lookups/s, p50, p99
 *             baseline: SQLite's cheapest query, a point lookup by primary
 *             key on the same table, through the same store API
 *
 * usage: directory_bench DIR [PERSONS] [LOOKUPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "audit/audit.h"
#include "demo/demo.h"
#include "directory/directory.h"
#include "cli/modules.h"

struct query {
	char insz[INSZ_BUF];
	int64_t institution, day;
	int capacity;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Queries drawn from stored dossiers; every other one turned into a miss
 * (another institution, or a day before the dossier). */
static struct query *make_queries(const char *db_path, int n, int64_t max_id)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
	sqlite3_prepare_v2(db, "SELECT insz, institution_id, capacity, start_day"
			       " FROM dossier WHERE id = ?1", -1, &st, NULL);
	struct query *q = xcalloc((size_t)n, sizeof(*q));
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(1 + x % (uint64_t)max_id));
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(q[i].insz, sizeof(q[i].insz), "%011lld",
				 (long long)sqlite3_column_int64(st, 0));
			q[i].institution = sqlite3_column_int64(st, 1);
			q[i].capacity = sqlite3_column_int(st, 2);
			q[i].day = sqlite3_column_int64(st, 3) + (i % 4 == 1 ? -1 : 0);
			if (i % 4 == 3)
				q[i].institution += 1; /* probably no dossier */
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return q;
}

/* A read-only run: readers may map the file (src/store/store.h). The
 * daemon does not, because its audit log writes all the time; the
 * figure without the map is in docs/benchmarks.md. */
static const struct store_options map_reads = {
	.mmap_bytes = INT64_C(16) << 30,
};

static const char sql_by_id[] = "SELECT phase FROM dossier WHERE id = ?1";

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *dir = argv[1];
	uint64_t persons = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000000;
	int lookups = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 1000000;
	char db[1024];
	snprintf(db, sizeof(db), "%s/directory_bench.db", dir);
	remove(db);
	log_set_level(LV_WARN);
	crypto_setup();
	struct store *s;
	struct audit *log = NULL;
	struct error e;
	struct demo_gen_stats st;
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	ed25519_keypair(pk, sk);
	if (cli_store_open(db, &map_reads, &s, &e) != 0 ||
	    audit_open(s, sk, NULL, &log, &e) != 0 ||
	    demo_generate(log, persons, 5, 1, &st, &e) != 0) {
		fprintf(stderr, "directory_bench: %s\n", e.detail);
		return 1;
	}
	audit_close(log);
	printf("load      %llu dossiers in %.1f s (%.0f/s; %llu persons in "
	       "%.1f s)   (target < 120 s for 10 million)\n",
	       (unsigned long long)st.dossiers, (double)st.dossier_ns / 1e9,
	       (double)st.dossiers / ((double)st.dossier_ns / 1e9),
	       (unsigned long long)st.persons, (double)st.person_ns / 1e9);
	fflush(stdout);
	store_close(s);
	sqlite3 *raw;
	sqlite3_stmt *q;
	sqlite3_open(db, &raw);
	sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_prepare_v2(raw, "SELECT sum(pgsize) FROM dbstat WHERE name IN "
				"('dossier', 'dossier_lookup')", -1, &q, NULL);
	sqlite3_step(q);
	double bytes = (double)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(raw);
	printf("size      %.1f bytes per dossier (table + covering index)   "
	       "(target <= 150)\n", bytes / (double)st.dossiers);
	fflush(stdout);

	struct query *qs = make_queries(db, lookups, (int64_t)st.dossiers);
	cli_store_open(db, &map_reads, &s, &e);
	uint64_t *lat = xmalloc((size_t)lookups * sizeof(uint64_t));
	int hits = 0;
	uint64_t t0 = time_mono_ns();
	for (int i = 0; i < lookups; i++) {
		uint64_t a = time_mono_ns();
		hits += directory_decide(s, qs[i].institution, qs[i].insz,
					 qs[i].capacity, qs[i].day, 1) ==
			DIRECTORY_DOSSIER;
		lat[i] = time_mono_ns() - a;
	}
	double secs = (double)(time_mono_ns() - t0) / 1e9;
	qsort(lat, (size_t)lookups, sizeof(uint64_t), cmp_u64);
	/* Baseline: a primary-key point lookup, same connection and API. */
	struct store_conn *c = store_reader(s);
	uint64_t b0 = time_mono_ns();
	for (int i = 0; i < lookups; i++) {
		struct store_stmt *p = store_prepare(c, sql_by_id);
		store_bind_int(p, 1, 1 + (int64_t)((uint64_t)i * 2654435761u %
						   st.dossiers));
		store_step(p);
		store_done(p);
	}
	double bsecs = (double)(time_mono_ns() - b0) / 1e9;
	printf("baseline  primary-key lookup on the same table      %.0f/s\n",
	       lookups / bsecs);
	printf("directory decision queries, one thread             %.0f/s   "
	       "ratio %.2f   p50 %.2f us, p99 %.2f us   (%d%% hits; target "
	       "p50 < 5 us)\n", lookups / secs, (lookups / secs) / (lookups / bsecs),
	       (double)lat[lookups / 2] / 1e3, (double)lat[lookups * 99 / 100] / 1e3,
	       hits * 100 / lookups);
	store_close(s);
	free(lat);
	free(qs);
	remove(db);
	return 0;
}
