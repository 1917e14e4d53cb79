/*
 * The shared test setup (support.h). Everything here goes through the
 * modules' public functions, exactly as the daemon and the demo do, so a
 * fixture cannot hold a row the real code would refuse.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"
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

int ts_store_open(struct ts_store *t, const char *name)
{
	struct error e;
	t->s = NULL;
	if (ts_dir_make(&t->dir, name) != 0)
		return -1;
	ts_dir_file(&t->dir, "kp.db", t->path, sizeof(t->path));
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
	return org_cert_add(log, &ts_operator, id, fp, "CN=test", now - 3600,
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

int ts_world_build(struct audit *log, struct ts_world *w, struct error *e)
{
	const struct audit_actor *op = &ts_operator;
	*w = (struct ts_world){.parent = "85073003328", .child = "12090311839",
			       .stranger = "90031524651",
			       .fund_kbo = "0411111140",
			       .deliberation = "IVC/KSZG/26/071"};
	memset(w->fund_fp, 0xab, sizeof(w->fund_fp));
	if (ts_person(log, w->parent, "Peeters", "Jan", "1985-07-30", e) ||
	    ts_person(log, w->child, "Peeters", "Lotte", "2012-09-03", e) ||
	    ts_person(log, w->stranger, "Dubois", "Marie", "1990-03-15", e) ||
	    registry_link_parent(log, op, w->child, w->parent, e) ||
	    (w->fund = ts_institution(log, w->fund_kbo, "health_insurance_fund",
				      "health_insurance", e)) < 0 ||
	    ts_certificate(log, w->fund, w->fund_fp, e) ||
	    directory_capacity_add(log, op, "health_insurance", 1,
				   "insured holder", e) ||
	    directory_data_type_add(log, op, "identification",
				    "national_register", "identification data",
				    e) ||
	    ts_deliberation(log, w->deliberation, "health_insurance_fund", 1,
			    "identification", "health_insurance_rights",
			    "2025-01-01", 2, e) ||
	    ts_dossier(log, w->fund, "health_insurance", w->parent, 1, 2,
		       "2025-01-01", &w->dossier, e))
		return -1;
	return 0;
}
