/*
 * Loading the registers from an operator's file: the first load, and
 * the daily changes after it (docs/IMPORT.md).
 *
 * The first load records one event per person, as every other change to a
 * person's data is: the person finds the load in the log of who touched
 * their data. To make a million events affordable, persons are committed
 * AUDIT_COMMIT_MAX at a time from LOAD_THREADS threads at once: the audit
 * writer takes every commit queued while it wrote the last one into one
 * transaction, so one fsync covers hundreds of persons
 * (docs/benchmarks.md).
 *
 * Daily changes go through registry_add, registry_mutate and
 * registry_link_parent, exactly as the network API's, so each mutation
 * reaches the hub's forwarder the same way.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "registry/registry_internal.h"

#define LOAD_THREADS 8

/* The fields registry_read fills, compared one by one. */
static bool same_person(const struct registry_person *a,
			const struct registry_person *b)
{
	return !strcmp(a->insz, b->insz) && !strcmp(a->register_, b->register_) &&
	       !strcmp(a->last_name, b->last_name) &&
	       !strcmp(a->first_names, b->first_names) &&
	       !strcmp(a->birth_date, b->birth_date) &&
	       !strcmp(a->birth_place, b->birth_place) &&
	       !strcmp(a->sex, b->sex) && !strcmp(a->nationality, b->nationality) &&
	       !strcmp(a->street, b->street) &&
	       !strcmp(a->postal_code, b->postal_code) &&
	       !strcmp(a->municipality, b->municipality) &&
	       !strcmp(a->country, b->country) &&
	       !strcmp(a->language, b->language) &&
	       !strcmp(a->deceased_on, b->deceased_on) &&
	       !strcmp(a->pension_status, b->pension_status) &&
	       !strcmp(a->pension_since, b->pension_since);
}

struct load {
	struct audit *log;
	const struct audit_actor *by;
	const struct registry_line *l;
	size_t n;
	enum registry_outcome *out;
	size_t *todo; /* indexes of the lines to insert */
	size_t ntodo;
	atomic_size_t next; /* the next group to commit */
	atomic_bool failed;
	struct error err; /* the first failure */
	pthread_mutex_t mu;
};

/* One group of persons to insert: indexes into the load's lines. */
struct group {
	struct load *ld;
	const size_t *idx;
	size_t n;
};

/* Insert the group's persons; one already there (registered meanwhile,
 * or twice in the file) gets its event refused instead. May run again:
 * outcomes are set afresh each time. */
static int group_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	struct group *g = ctx;
	for (size_t i = 0; i < n; i++) {
		size_t k = g->idx[i];
		int rc = registry_insert_new(w, &g->ld->l[k].person, e);
		if (rc < 0)
			return -1;
		g->ld->out[k] = rc == 0 ? REGISTRY_INSERTED : REGISTRY_REFUSED;
		if (rc == 1) {
			evs[i].outcome = AUDIT_REFUSED;
			evs[i].reason = "person_exists";
		}
	}
	return 0;
}

static void *load_main(void *arg)
{
	struct load *ld = arg;
	struct audit_event evs[AUDIT_COMMIT_MAX];
	for (;;) {
		size_t first = atomic_fetch_add(&ld->next, 1) * AUDIT_COMMIT_MAX;
		if (first >= ld->ntodo || atomic_load(&ld->failed))
			break;
		struct group g = {ld, ld->todo + first, ld->ntodo - first};
		if (g.n > AUDIT_COMMIT_MAX)
			g.n = AUDIT_COMMIT_MAX;
		for (size_t i = 0; i < g.n; i++)
			evs[i] = registry_event(ld->by, "person_add",
						ld->l[g.idx[i]].person.insz);
		struct error e;
		if (audit_commit(ld->log, evs, g.n, group_change, &g, &e) != 0) {
			pthread_mutex_lock(&ld->mu);
			if (!atomic_exchange(&ld->failed, true))
				ld->err = e;
			pthread_mutex_unlock(&ld->mu);
		}
	}
	return NULL;
}

/* Which lines need inserting: the others are registered already, the
 * same (unchanged) or not (refused, recorded as such). */
static int sort_out(struct load *ld, struct error *e)
{
	struct store_conn *r = store_reader(audit_store(ld->log));
	if (!r)
		return store_fail(e, "the register cannot be read now");
	for (size_t i = 0; i < ld->n; i++) {
		struct registry_person cur;
		const struct registry_person *p = &ld->l[i].person;
		int rc = registry_read(r, p->insz, &cur, e);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			ld->todo[ld->ntodo++] = i;
			continue;
		}
		ld->out[i] = same_person(&cur, p) ? REGISTRY_UNCHANGED
						  : REGISTRY_REFUSED;
		if (ld->out[i] == REGISTRY_REFUSED) {
			struct audit_event ev = registry_event(ld->by,
							       "person_add",
							       p->insz);
			struct error bad;
			err_set(&bad, ERR_CONFLICT, "person_exists",
				"registered with other data");
			audit_refused(ld->log, &ev, &bad);
		}
	}
	return 0;
}

int registry_load(struct audit *log, const struct audit_actor *by,
		  const struct registry_line *l, size_t n,
		  enum registry_outcome *out, struct error *e)
{
	struct load ld = {.log = log, .by = by, .l = l, .n = n, .out = out};
	ld.todo = xcalloc(n ? n : 1, sizeof(*ld.todo));
	atomic_init(&ld.next, 0);
	atomic_init(&ld.failed, false);
	pthread_mutex_init(&ld.mu, NULL);
	int rc = sort_out(&ld, e);
	pthread_t th[LOAD_THREADS];
	size_t started = 0;
	while (rc == 0 && started < LOAD_THREADS &&
	       started * AUDIT_COMMIT_MAX < ld.ntodo &&
	       pthread_create(&th[started], NULL, load_main, &ld) == 0)
		started++;
	if (rc == 0 && started == 0 && ld.ntodo > 0)
		load_main(&ld); /* no thread to be had: this one does it all */
	while (started > 0)
		pthread_join(th[--started], NULL);
	if (rc == 0 && atomic_load(&ld.failed)) {
		*e = ld.err;
		rc = -1;
	}
	pthread_mutex_destroy(&ld.mu);
	free(ld.todo);
	return rc;
}

/* ------------------------------------------------------------ mutations */

/* A field no mutation changes, given in the line and differing: its name,
 * or NULL. */
static const char *unchangeable(const struct registry_person *cur,
				const struct registry_person *in)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
#define F(x) {#x, offsetof(struct registry_person, x)}
		F(birth_date), F(birth_place), F(sex), F(nationality),
		F(language),
#undef F
	};
	for (size_t i = 0; i < KP_NELEM(fields); i++) {
		const char *a = (const char *)cur + fields[i].off;
		const char *b = (const char *)in + fields[i].off;
		if (b[0] && strcmp(a, b) != 0)
			return fields[i].name;
	}
	return NULL;
}

static bool address_differs(const struct registry_person *cur,
			    const struct registry_person *in)
{
	if (!in->street[0] && !in->postal_code[0] && !in->municipality[0])
		return false;
	/* A country left out is not compared (a move without one is to
	 * Belgium, as the mutation has it). */
	return strcmp(cur->street, in->street) ||
	       strcmp(cur->postal_code, in->postal_code) ||
	       strcmp(cur->municipality, in->municipality) ||
	       (in->country[0] && strcmp(cur->country, in->country));
}

static bool name_differs(const struct registry_person *cur,
			 const struct registry_person *in)
{
	return (in->last_name[0] && strcmp(cur->last_name, in->last_name)) ||
	       (in->first_names[0] && strcmp(cur->first_names, in->first_names));
}

/* A since date left out is not compared: the status alone changed
 * takes effect on the line's date. */
static bool pension_differs(const struct registry_person *cur,
			    const struct registry_person *in)
{
	return in->pension_status[0] &&
	       (strcmp(cur->pension_status, in->pension_status) ||
		(in->pension_since[0] &&
		 strcmp(cur->pension_since, in->pension_since)));
}

/* The date a mutation of the line takes effect: a death on its date, a
 * pension on its since date when the line has one, the rest on the
 * line's date (on). */
static const char *effective(const struct registry_line *l,
			     enum registry_mutation_type t, const char *on)
{
	if (t == MUTATION_DEATH)
		return l->person.deceased_on;
	if (t == MUTATION_PENSION && l->person.pension_since[0])
		return l->person.pension_since;
	return on;
}

#define LINE_MUTATIONS_MAX 4

/* The mutations a known person's line asks for, in the order they are
 * applied: a death last, since nothing changes a deceased person. */
static size_t mutations_of(const struct registry_person *cur,
			   const struct registry_line *l,
			   struct registry_mutation m[LINE_MUTATIONS_MAX])
{
	size_t k = 0;
	const char *on = l->effective_on;
	char today[DATE_LEN];
	date_format(date_today(), today);
	if (!on[0])
		on = today;
	if (address_differs(cur, &l->person))
		m[k++].type = MUTATION_ADDRESS;
	if (name_differs(cur, &l->person))
		m[k++].type = MUTATION_NAME;
	if (pension_differs(cur, &l->person))
		m[k++].type = MUTATION_PENSION;
	if (l->person.deceased_on[0] &&
	    strcmp(cur->deceased_on, l->person.deceased_on))
		m[k++].type = MUTATION_DEATH;
	for (size_t i = 0; i < k; i++) {
		m[i].person = l->person;
		str_copy(m[i].effective_on, sizeof(m[i].effective_on),
			 effective(l, m[i].type, on));
	}
	return k;
}

/* Links to the line's parents that are not registered yet. Returns the
 * number made, or -1 with e. */
static int missing_links(struct audit *log, const struct audit_actor *by,
			 const struct registry_line *l, struct error *e)
{
	struct store *s = audit_store(log);
	int made = 0;
	for (int i = 0; i < l->nparents; i++) {
		if (registry_is_parent(s, l->parents[i], l->person.insz))
			continue;
		if (registry_link_parent(log, by, l->person.insz, l->parents[i],
					 e) != 0)
			return -1;
		made++;
	}
	return made;
}

int registry_upsert(struct audit *log, const struct audit_actor *by,
		    const struct registry_line *l, const char *actor_type,
		    int64_t institution_id, enum registry_outcome *out,
		    struct error *e)
{
	struct registry_person cur;
	int found = registry_get(audit_store(log), l->person.insz, &cur, e);
	if (found < 0)
		return -1;
	if (found == 1) {
		if (registry_add(log, by, &l->person, e) != 0)
			return -1;
		*out = REGISTRY_INSERTED;
		return missing_links(log, by, l, e) < 0 ? -1 : 0;
	}
	const char *field = unchangeable(&cur, &l->person);
	if (field)
		return err_set(e, ERR_CONFLICT, "unchangeable_field",
			       "%s differs from the register's, and no "
			       "mutation changes it", field);
	struct registry_mutation m[LINE_MUTATIONS_MAX];
	memset(m, 0, sizeof(m));
	size_t k = mutations_of(&cur, l, m);
	for (size_t i = 0; i < k; i++) {
		char ticket[UUID_LEN];
		if (registry_mutate(log, by, l->person.insz, &m[i], actor_type,
				    institution_id, ticket, e) != 0)
			return -1;
	}
	int links = missing_links(log, by, l, e);
	if (links < 0)
		return -1;
	*out = k > 0 || links > 0 ? REGISTRY_UPDATED : REGISTRY_UNCHANGED;
	return 0;
}
