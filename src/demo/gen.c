/*
 * Synthetic scale data for benchmarks (`kruispunt gen`, bench/directory):
 * a network of 10 branches x 10 institutions, N persons with valid national
 * register numbers, and M dossiers per person at institutions of M
 * different branches (so the anti-fraud rule always holds). Deterministic:
 * the same seed gives the same data.
 *
 * Persons are made in INSZ order: YY 00-24 are births 2000-2024 and YY
 * 30-99 births 1930-1999, so walking YY, MM, DD and the sequence number is
 * numeric order, and every insert appends to its B-tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo/demo.h"
#include "directory/directory.h"
#include "org/org.h"
#include "registry/registry.h"

#define GEN_BRANCHES 10
#define GEN_PER_BRANCH 10
#define GEN_CHUNK 50000

static const char *branches[GEN_BRANCHES] = {
	"health_insurance", "family_allowances", "social_assistance",
	"unemployment", "pensions", "employment", "occupational_diseases",
	"disability", "annual_holidays", "child_support"};

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * UINT64_C(2685821657736338717);
}

/* Generating is the operator's doing, on the host. */
static const struct audit_actor gen_by = {AUDIT_CHANNEL_CLI, NULL, NULL,
					  "gen"};

static int institutions(struct audit *log,
			int64_t ids[GEN_BRANCHES][GEN_PER_BRANCH],
			struct error *e)
{
	struct store *s = audit_store(log);
	for (int b = 0; b < GEN_BRANCHES; b++) {
		for (int k = 1; k <= 5; k++) {
			if (directory_capacity_add(log, &gen_by, branches[b], k,
						   "synthetic", e) != 0 &&
			    e->kind != ERR_CONFLICT)
				return -1;
		}
		for (int i = 0; i < GEN_PER_BRANCH; i++) {
			int n = 8000000 + b * 100 + i;
			char kbo[11], name[64];
			snprintf(kbo, sizeof(kbo), "%08d%02d", n, 97 - n % 97);
			snprintf(name, sizeof(name), "Synthetic %s %d", branches[b], i);
			struct org_institution inst;
			if (org_institution_by_kbo(s, kbo, &inst) == 0) {
				ids[b][i] = inst.id;
				continue;
			}
			if (org_organisation_add(log, &gen_by, kbo, name, e) != 0 ||
			    org_institution_add(log, &gen_by, kbo, branches[b],
						branches[b], NULL, &ids[b][i],
						e) != 0)
				return -1;
		}
	}
	return 0;
}

/* The i-th day of the walk in INSZ order: 2000-2024, then 1930-1999. */
struct walk {
	struct date day;
	int seq;
	int per_day;
};

static void walk_start(struct walk *w, uint64_t persons)
{
	uint64_t days = (uint64_t)(date_to_days((struct date){2025, 1, 1}) -
				   date_to_days((struct date){1930, 1, 1}));
	w->day = (struct date){2000, 1, 1};
	w->seq = 0;
	w->per_day = (int)((persons + days - 1) / days);
	if (w->per_day > 998)
		w->per_day = 998;
}

static void walk_next(struct walk *w, char insz[INSZ_BUF])
{
	if (++w->seq > w->per_day) {
		w->seq = 1;
		w->day = date_from_days(date_to_days(w->day) + 1);
		if (w->day.y == 2025)
			w->day = (struct date){1930, 1, 1};
	}
	insz_compose(INSZ_RR, w->day.y, w->day.m, w->day.d, true, w->seq, insz);
}

static void person(struct rng *r, const struct walk *w, const char *insz,
		   struct registry_person *p)
{
	static const char *last[] = {"Peeters", "Janssens", "Maes", "Jacobs",
				     "Mertens", "Willems", "Claes", "Goossens",
				     "Dubois", "Lambert", "Dupont", "Martin"};
	static const char *first_m[] = {"Jan", "Luc", "Noah", "Arthur", "Louis"};
	static const char *first_f[] = {"Marie", "Emma", "Olivia", "Lotte", "Anna"};
	memset(p, 0, sizeof(*p));
	str_copy(p->insz, sizeof(p->insz), insz);
	bool male = w->seq % 2;
	str_copy(p->last_name, sizeof(p->last_name), last[next(r) % 12]);
	str_copy(p->first_names, sizeof(p->first_names),
		 male ? first_m[next(r) % 5] : first_f[next(r) % 5]);
	date_format(w->day, p->birth_date);
	str_copy(p->sex, sizeof(p->sex), male ? "M" : "F");
	str_copy(p->country, sizeof(p->country), "BE");
	str_copy(p->language, sizeof(p->language), next(r) % 3 ? "nl" : "fr");
}

static void dossiers(struct rng *r, const struct walk *w, int64_t insz, int m,
		     int64_t ids[GEN_BRANCHES][GEN_PER_BRANCH],
		     struct directory_import_row *out)
{
	int first = (int)(next(r) % GEN_BRANCHES);
	int64_t born = date_to_days(w->day);
	for (int k = 0; k < m; k++) {
		int b = (first + k) % GEN_BRANCHES;
		struct directory_import_row *d = &out[k];
		d->branch = branches[b];
		d->institution_id = ids[b][next(r) % GEN_PER_BRANCH];
		d->insz = insz;
		d->capacity = 1 + (int)(next(r) % 5);
		d->phase = 1 + (int)(next(r) % 3);
		d->start_day = born + (int64_t)(next(r) % 7000);
		d->end_day = next(r) % 2 ? -1 : d->start_day + (int64_t)(next(r) % 3000);
	}
}

int demo_generate(struct audit *log, uint64_t persons, int per_person,
		  uint64_t seed, struct demo_gen_stats *st, struct error *e)
{
	int64_t ids[GEN_BRANCHES][GEN_PER_BRANCH];
	if (per_person < 0 || per_person > GEN_BRANCHES)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "at most %d dossiers per person", GEN_BRANCHES);
	if (institutions(log, ids, e) != 0)
		return -1;
	struct rng r = {seed * 2 + 1};
	struct walk w;
	walk_start(&w, persons);
	struct registry_person *pp = xcalloc(GEN_CHUNK, sizeof(*pp));
	struct directory_import_row *rows =
		xcalloc((size_t)GEN_CHUNK * (size_t)(per_person ? per_person : 1),
			sizeof(*rows));
	memset(st, 0, sizeof(*st));
	int rc = 0;
	for (uint64_t done = 0; done < persons && rc == 0;) {
		size_t n = persons - done < GEN_CHUNK ? (size_t)(persons - done)
						      : GEN_CHUNK;
		for (size_t i = 0; i < n; i++) {
			char insz[INSZ_BUF];
			walk_next(&w, insz);
			person(&r, &w, insz, &pp[i]);
			dossiers(&r, &w, strtoll(insz, NULL, 10), per_person, ids,
				 &rows[i * (size_t)per_person]);
		}
		uint64_t t0 = time_mono_ns();
		rc = registry_import(log, &gen_by, pp, n, e);
		uint64_t t1 = time_mono_ns();
		if (rc == 0 && per_person)
			rc = directory_import(log, &gen_by, rows,
					      n * (size_t)per_person, e);
		st->person_ns += t1 - t0;
		st->dossier_ns += time_mono_ns() - t1;
		st->persons += rc == 0 ? n : 0;
		st->dossiers += rc == 0 ? n * (uint64_t)per_person : 0;
		done += n;
	}
	free(pp);
	free(rows);
	return rc;
}

/* A generated person as a line of an operator's register file. Its
 * names are the generator's plain ASCII, so they need no escaping. */
static void person_line(FILE *out, const struct registry_person *p)
{
	fprintf(out, "{\"insz\":\"%s\",\"last_name\":\"%s\","
		"\"first_names\":\"%s\",\"birth_date\":\"%s\",\"sex\":\"%s\","
		"\"address\":{\"country\":\"%s\"},\"language\":\"%s\"}\n",
		p->insz, p->last_name, p->first_names, p->birth_date, p->sex,
		p->country, p->language);
}

int demo_generate_ndjson(FILE *out, uint64_t persons, uint64_t seed,
			 struct error *e)
{
	struct rng r = {seed * 2 + 1};
	struct walk w;
	walk_start(&w, persons);
	for (uint64_t i = 0; i < persons; i++) {
		char insz[INSZ_BUF];
		struct registry_person p;
		walk_next(&w, insz);
		person(&r, &w, insz, &p);
		person_line(out, &p);
	}
	if (fflush(out) != 0 || ferror(out))
		return err_set(e, ERR_UNAVAILABLE, "write_failed",
			       "the file cannot be written");
	return 0;
}
