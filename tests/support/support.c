/*
 * The shared test setup (support.h). Everything here goes through the
 * modules' public functions, exactly as the daemon and the demo do, so a
 * fixture cannot hold a row the real code would refuse.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <libpq-fe.h>
#include <unistd.h>

#include "support/support.h"

#include "demo/demo_internal.h"
#include "cli/modules.h"

#include "authz/authz.h"
#include "directory/directory.h"
#include "org/org.h"
#include "registry/registry.h"

const struct audit_actor ts_operator = {AUDIT_CHANNEL_CLI, NULL, NULL,
					"operator"};

int ts_dir_make(struct ts_dir *d, const char *name)
{
	if (crypto_setup() != 0)
		return -1;
	if (snprintf(d->path, sizeof(d->path), "/tmp/kp-%s-XXXXXX", name) >=
	    (int)sizeof(d->path))
		return -1;
	return mkdtemp(d->path) ? 0 : -1;
}

void ts_dir_file(const struct ts_dir *d, const char *rel, char *out, size_t n)
{
	if (snprintf(out, n, "%s/%s", d->path, rel) >= (int)n)
		abort();
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int ts_dir_remove(struct ts_dir *d)
{
	/* Depth first, and never following a link out of the directory. */
	return nftw(d->path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The scratch cluster's URL, read once; NULL when the tests run on
 * SQLite. */
static const char *pg_url(void)
{
	static char url[256];
	static int state; /* 0 unread, 1 SQLite, 2 PostgreSQL */
	if (state)
		return state == 2 ? url : NULL;
	state = 1;
	const char *file = getenv("KP_TEST_PG_URL_FILE");
	if (!file || !*file)
		return NULL;
	FILE *f = fopen(file, "r");
	if (!f || !fgets(url, sizeof(url), f)) {
		fprintf(stderr, "cannot read %s: is the cluster started?\n",
			file);
		abort();
	}
	fclose(f);
	url[strcspn(url, "\r\n")] = '\0';
	state = 2;
	return url;
}

bool ts_pg(void)
{
	return pg_url() != NULL;
}

void ts_db_location(const struct ts_dir *d, const char *rel, char *out,
		    size_t n)
{
	const char *url = pg_url();
	if (!url) {
		ts_dir_file(d, rel, out, n);
		return;
	}
	static int seq;
	char schema[64], sql[128];
	snprintf(schema, sizeof(schema), "t%ld_%d", (long)getpid(), ++seq);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
	PGconn *c = PQconnectdb(url);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		abort();
	}
	PQclear(r);
	PQfinish(c);
	/* This process's connections carry its pid: a test that drops them
	 * (a failover) spares the other tests' on the same cluster. */
	if (snprintf(out, n,
		     "%s%coptions=-csearch_path%%3D%s&application_name=kp%ld",
		     url, strchr(url, '?') ? '&' : '?', schema,
		     (long)getpid()) >= (int)n)
		abort();
}

int ts_store_open(struct ts_store *t, const char *name)
{
	struct error e;
	t->s = NULL;
	if (ts_dir_make(&t->dir, name) != 0)
		return -1;
	ts_db_location(&t->dir, "kp.db", t->path, sizeof(t->path));
	uint8_t pk[ED25519_PK_LEN];
	ed25519_keypair(pk, t->sk);
	t->log = NULL;
	if (cli_store_open(t->path, NULL, &t->s, &e) != 0 ||
	    audit_open(t->s, t->sk, NULL, &t->log, &e) != 0) {
		fprintf(stderr, "ts_store_open: %s\n", e.detail);
		store_close(t->s);
		ts_dir_remove(&t->dir);
		return -1;
	}
	return 0;
}

int ts_store_close(struct ts_store *t)
{
	audit_close(t->log);
	t->log = NULL;
	store_close(t->s);
	t->s = NULL;
	return ts_dir_remove(&t->dir);
}

enum store_rc ts_exec(struct store *s, const char *sql)
{
	struct error e;
	struct store_conn *w = store_write_begin(s, &e);
	if (!w)
		return STORE_ERROR;
	struct store_stmt *st = store_prepare(w, sql);
	enum store_rc rc;
	while ((rc = store_step(st)) == STORE_ROW)
		;
	store_done(st);
	if (rc != STORE_DONE) {
		store_write_rollback(s);
		return rc;
	}
	return store_write_commit(s, &e) == 0 ? STORE_DONE : STORE_ERROR;
}

enum store_rc ts_exec_at(const char *location, const char *sql)
{
	struct store *s;
	struct error e;
	if (cli_store_open(location, NULL, &s, &e) != 0)
		return STORE_ERROR;
	enum store_rc rc = ts_exec(s, sql);
	store_close(s);
	return rc;
}

int64_t ts_int(struct store *s, const char *sql)
{
	int64_t n = -1;
	struct store_conn *r = store_reader(s);
	if (!r || store_one(store_prepare(r, sql), store_read_int, &n,
			    NULL) != 0)
		return -1;
	return n;
}

int64_t ts_int_at(const char *location, const char *sql)
{
	struct store *s;
	struct error e;
	if (cli_store_open(location, NULL, &s, &e) != 0)
		return -1;
	int64_t n = ts_int(s, sql);
	store_close(s);
	return n;
}

void ts_audit_refuse(struct store *s, bool refuse)
{
	/* PostgreSQL's kp_refuse is the audit schema's own refusal. */
	static const char *const sql[2][2] = {
		{"DROP TRIGGER ts_no_audit",
		 "CREATE TRIGGER ts_no_audit BEFORE INSERT ON audit_event "
		 "BEGIN SELECT raise(ABORT, 'disk full'); END"},
		{"DROP TRIGGER ts_no_audit ON audit_event",
		 "CREATE TRIGGER ts_no_audit BEFORE INSERT ON audit_event "
		 "FOR EACH ROW EXECUTE FUNCTION kp_refuse('disk full')"},
	};
	if (ts_exec(s, sql[store_backend_of(s) == STORE_POSTGRESQL][refuse]) !=
	    STORE_DONE)
		abort();
}

void ts_clock_start(void)
{
	clock_set_ms(TS_T0_MS);
}

int64_t ts_day(const char *date)
{
	struct date d;
	if (date_parse(date, &d) != 0)
		abort();
	return date_to_days(d);
}

int ts_events(struct audit *log, const char *action, struct audit_record **out)
{
	struct audit_filter f = {.limit = AUDIT_QUERY_MAX};
	struct error e;
	bool more;
	uint64_t next;
	int n, kept = 0;
	if (audit_query(log, &f, out, &n, &more, &next, &e) != 0) {
		fprintf(stderr, "ts_events: %s\n", e.detail);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (!action || strcmp((*out)[i].action, action) == 0)
			(*out)[kept++] = (*out)[i];
	return kept;
}

bool ts_events_are(const struct audit_record *ev, int n,
		   const char *const want[][3], size_t nwant)
{
	if (n != (int)nwant) {
		fprintf(stderr, "%d events, expected %zu\n", n, nwant);
		return false;
	}
	for (int i = 0; i < n; i++) {
		if (strcmp(ev[i].action, want[i][0]) ||
		    strcmp(ev[i].outcome, want[i][1]) ||
		    strcmp(ev[i].reason, want[i][2])) {
			fprintf(stderr, "event %d: %s %s %s, expected %s %s %s\n",
				i, ev[i].action, ev[i].outcome, ev[i].reason,
				want[i][0], want[i][1], want[i][2]);
			return false;
		}
	}
	return true;
}

int ts_person(struct audit *log, const char *insz, const char *last,
	      const char *first, const char *birth, struct error *e)
{
	struct registry_person p;
	memset(&p, 0, sizeof(p));
	str_copy(p.insz, sizeof(p.insz), insz);
	str_copy(p.last_name, sizeof(p.last_name), last);
	str_copy(p.first_names, sizeof(p.first_names), first);
	str_copy(p.birth_date, sizeof(p.birth_date), birth);
	return registry_add(log, &ts_operator, &p, e);
}

int64_t ts_institution(struct audit *log, const char *kbo,
		       const char *actor_type, const char *branch,
		       struct error *e)
{
	int64_t id;
	if (org_organisation_add(log, &ts_operator, kbo, kbo, e) != 0 ||
	    org_institution_add(log, &ts_operator, kbo, actor_type, branch,
				NULL, &id, e) != 0)
		return -1;
	return id;
}

int ts_certificate(struct audit *log, int64_t id, const uint8_t fp[SHA256_LEN],
		   struct error *e)
{
	int64_t now = time_now();
	struct org_institution inst;
	if (org_institution_get(audit_store(log), id, &inst) != 0)
		return err_set(e, ERR_NOT_FOUND, "institution_unknown",
			       "no institution %lld", (long long)id);
	return org_cert_add(log, &ts_operator, inst.kbo, fp, "CN=test",
			    now - 3600,
			    now + 86400, e);
}

int ts_deliberation(struct audit *log, const char *ref, const char *actor_type,
		    int capacity, const char *data_type, const char *purpose,
		    const char *from, int min_phase, struct error *e)
{
	struct authz_authorization a;
	memset(&a, 0, sizeof(a));
	str_copy(a.reference, sizeof(a.reference), ref);
	str_copy(a.requester_actor_type, sizeof(a.requester_actor_type),
		 actor_type);
	a.capacity = capacity;
	str_copy(a.data_type, sizeof(a.data_type), data_type);
	str_copy(a.purpose, sizeof(a.purpose), purpose);
	str_copy(a.valid_from, sizeof(a.valid_from), from);
	a.min_phase = min_phase;
	return authz_add(log, &ts_operator, &a, e);
}

int ts_dossier(struct audit *log, int64_t id, const char *branch,
	       const char *insz, int capacity, int phase, const char *start,
	       int64_t *dossier, struct error *e)
{
	struct directory_dossier d;
	memset(&d, 0, sizeof(d));
	str_copy(d.insz, sizeof(d.insz), insz);
	d.capacity = capacity;
	d.phase = phase;
	str_copy(d.start, sizeof(d.start), start);
	if (directory_integrate(log, &ts_operator, id, branch, &d, e) != 0)
		return -1;
	if (dossier)
		*dossier = d.id;
	return 0;
}

/* The demo's own entries (src/demo/demo_data.c) that the world is made
 * of, so that the tests' world and the demo's network cannot drift apart.
 * Each aborts when the demo no longer has the entry: a test world built on
 * something else would pass for the wrong reason. */
static const struct demo_person *demo_person_of(const char *insz)
{
	for (size_t i = 0; i < demo_npersons; i++)
		if (strcmp(demo_persons[i].insz, insz) == 0)
			return &demo_persons[i];
	abort();
}

static const struct demo_institution *demo_institution_of(const char *kbo)
{
	for (size_t i = 0; i < demo_ninstitutions; i++)
		if (strcmp(demo_institutions[i].kbo, kbo) == 0)
			return &demo_institutions[i];
	abort();
}

/* The demo's deliberation for this actor type's identification data. */
static const struct demo_authorization *demo_deliberation_of(const char *actor)
{
	for (size_t i = 0; i < demo_nauthorizations; i++)
		if (strcmp(demo_authorizations[i].actor_type, actor) == 0 &&
		    strcmp(demo_authorizations[i].data_type, "identification") == 0)
			return &demo_authorizations[i];
	abort();
}

static int world_person(struct audit *log, const char *insz, struct error *e)
{
	const struct demo_person *p = demo_person_of(insz);
	return ts_person(log, p->insz, p->last_name, p->first_name,
			 p->birth_date, e);
}

/* The reference data the world's deliberation needs, as the demo has it. */
static int world_reference(struct audit *log, const char *branch,
			   const struct demo_authorization *a,
			   struct error *e)
{
	const struct audit_actor *op = &ts_operator;
	for (size_t i = 0; i < demo_ncapacities; i++)
		if (strcmp(demo_capacities[i].branch, branch) == 0 &&
		    demo_capacities[i].code == a->capacity)
			if (directory_capacity_add(log, op, branch, a->capacity,
						   demo_capacities[i].label, e))
				return -1;
	for (size_t i = 0; i < demo_ndata_types; i++)
		if (strcmp(demo_data_types[i].code, a->data_type) == 0)
			return directory_data_type_add(log, op, a->data_type,
						       demo_data_types[i].source,
						       demo_data_types[i].label,
						       e);
	abort();
}

int ts_world_build(struct audit *log, struct ts_world *w, struct error *e)
{
	*w = (struct ts_world){.parent = "85073003328", .child = "12090311839",
			       .stranger = "90031524651",
			       .fund_kbo = "0411111140"};
	const struct demo_institution *fund = demo_institution_of(w->fund_kbo);
	const struct demo_authorization *a =
		demo_deliberation_of(fund->actor_type);
	w->deliberation = a->reference;
	memset(w->fund_fp, 0xab, sizeof(w->fund_fp));
	if (world_person(log, w->parent, e) || world_person(log, w->child, e) ||
	    world_person(log, w->stranger, e) ||
	    registry_link_parent(log, &ts_operator, w->child, w->parent, e) ||
	    (w->fund = ts_institution(log, fund->kbo, fund->actor_type,
				      fund->branch, e)) < 0 ||
	    ts_certificate(log, w->fund, w->fund_fp, e) ||
	    world_reference(log, fund->branch, a, e) ||
	    ts_deliberation(log, a->reference, a->actor_type, a->capacity,
			    a->data_type, a->purpose, a->from, a->min_phase,
			    e) ||
	    ts_dossier(log, w->fund, fund->branch, w->parent, a->capacity,
		       a->min_phase > 2 ? a->min_phase : 2, a->from,
		       &w->dossier, e))
		return -1;
	return 0;
}

bool ts_refusal_is(const char *what, int rc, const struct error *e,
		   const char *code, const char *detail)
{
	if (rc != -1) {
		fprintf(stderr, "%s: accepted (rc %d), want %s\n", what, rc,
			code);
		return false;
	}
	if (strcmp(e->code, code) != 0) {
		fprintf(stderr, "%s: got %s (%s), want %s\n", what, e->code,
			e->detail, code);
		return false;
	}
	if (detail && !strstr(e->detail, detail)) {
		fprintf(stderr, "%s: '%s' does not say '%s'\n", what,
			e->detail, detail);
		return false;
	}
	return true;
}

int ts_totp_code(const char *uri, int64_t t, char code[7])
{
	const char *p = strstr(uri, "secret=");
	char b32[64], *secret = NULL;
	size_t n = p ? strcspn(p + 7, "&") : sizeof(b32), len;
	if (n >= sizeof(b32))
		return -1;
	memcpy(b32, p + 7, n);
	b32[n] = '\0';
	int rc = oath_base32_decode(b32, n, &secret, &len) == OATH_OK &&
			 oath_totp_generate(secret, len, (time_t)t, 30, 0, 6,
					    code) == OATH_OK
		 ? 0
		 : -1;
	free(secret);
	return rc;
}
