/*
 * One exchange, on one asynchronous path: parse, resolve, decide, route,
 * audit. The order of the checks is the seed's (hub.h); the first that
 * fails names the refusal. Whatever the outcome, the exchange has a ticket
 * and a durable audit event before the caller sees an answer.
 *
 * hub_exchange_async parses the request (its own syntax, no store), then
 * resolves its names and decides on one read snapshot, on the caller's
 * thread. Identification data comes from that snapshot; anything else is
 * queued for the provider workers, so a slow source holds none of the
 * caller's threads. The audit event is queued last, and the caller is
 * answered once it is durable. hub_exchange is the same path with a wait
 * at its end, so tests and callers without a server take the road
 * production takes.
 */
#include <string.h>

#include "hub/hub_internal.h"
#include "authz/authz.h"
#include "directory/directory.h"
#include "registry/registry.h"

/* The data type the hub answers itself, from the registers it holds. */
#define HUB_OWN_SOURCE "national_register"
/* Data type codes and purposes, in bytes: longer ones are refused. */
#define HUB_NAME_MAX 64

/* An exchange in flight. The hub owns it from hub_exchange_async until its
 * answer is given, then frees it. */
struct exchange {
	struct hub *h;
	struct hub_requester who; /* its strings are the caller's */
	const char *channel;
	hub_done_fn done;
	void *ctx;
	struct exchange_request r;
	char source[64];                /* the data type's source (resolve) */
	struct registry_person person;  /* the subject (decide) */
	int rc;
	json_t *data;
	char ticket[UUID_LEN];
	char legal_basis[64];
	struct error e;
	struct exchange *next;          /* in the provider queue */
};

/* A refused field is still what the caller sent: the audit event records
 * it (escaped by the log), so a hostile purpose is seen, not dropped.
 * Returns -1, the refusal that brought us here. */
static int raw_for_audit(json_t *root, const char *key, const char **out)
{
	*out = json_string_value(json_object_get(root, key));
	return -1;
}

int exchange_parse(const char *body, size_t len, struct exchange_request *r,
		   struct error *e)
{
	memset(r, 0, sizeof(*r));
	r->capacity = -1;
	r->root = jsonx_parse(body, len, e);
	if (!r->root || !json_is_object(r->root))
		return err_set(e, ERR_MALFORMED, "malformed_request",
			       "the body is not a JSON object");
	const char *subject, *date = NULL;
	if (jsonx_str(r->root, "subject", true, LIMIT_ID_INPUT, &subject, e) != 0)
		return -1;
	struct insz z;
	if (insz_parse(subject, strlen(subject), &z) != 0)
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "subject: not a valid national register or BIS "
			       "number");
	str_copy(r->subject, sizeof(r->subject), z.digits);
	if (jsonx_str(r->root, "data_type", true, HUB_NAME_MAX, &r->data_type,
		      e) != 0)
		return raw_for_audit(r->root, "data_type", &r->data_type);
	r->capacity = directory_capacity_json(json_object_get(r->root, "capacity"));
	if (r->capacity < 0)
		return err_set(e, ERR_INVALID, "unknown_capacity",
			       "capacity: a code 000-900 or 902");
	if (jsonx_str(r->root, "purpose", true, HUB_NAME_MAX, &r->purpose, e) != 0)
		return raw_for_audit(r->root, "purpose", &r->purpose);
	if (jsonx_str(r->root, "reference_date", false, DATE_LEN - 1, &date,
		      e) < 0)
		return -1;
	struct date d = date_today();
	if (date && date_parse(date, &d) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "reference_date: YYYY-MM-DD");
	date_format(d, r->reference_date);
	r->day = date_to_days(d);
	r->params = json_object_get(r->root, "params");
	if (r->params && !json_is_object(r->params))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "params: an object");
	return 0;
}

/* Step 1, the lookups: the data type exists (and has a source), the
 * capacity exists in the requester's branch. */
static int resolve(struct exchange *x)
{
	const struct exchange_request *r = &x->r;
	int known = directory_data_type_source(x->h->store, r->data_type,
					       x->source, sizeof(x->source));
	if (known != 0)
		return known < 0 ? store_fail(&x->e, "try again")
				 : err_set(&x->e, ERR_INVALID, "unknown_data_type",
					   "data_type: not in the reference "
					   "directory");
	if (!directory_capacity_known(x->h->store, x->who.branch, r->capacity))
		return err_set(&x->e, ERR_INVALID, "unknown_capacity",
			       "capacity: not a capacity of your branch (%s)",
			       x->who.branch);
	return 0;
}

/* Steps 2 to 4: authorization, dossier and phase, the subject exists. */
static int decide(struct exchange *x)
{
	const struct exchange_request *r = &x->r;
	struct store *s = x->h->store;
	struct error *e = &x->e;
	struct authz_authorization granted;
	int a = authz_decide(s, x->who.actor_type, r->capacity, r->data_type,
			     r->purpose, r->day, &granted);
	if (a < 0)
		return store_fail(e, "try again");
	if (a != AUTHZ_GRANTED)
		return err_set(e, ERR_FORBIDDEN,
			       authz_answer_code((enum authz_answer)a),
			       "no authorization of the Information Security "
			       "Committee covers this request on %s",
			       r->reference_date);
	str_copy(x->legal_basis, sizeof(x->legal_basis), granted.reference);
	int d = directory_decide(s, x->who.institution_id, r->subject,
				 r->capacity, r->day, granted.min_phase);
	if (d < 0)
		return store_fail(e, "try again");
	if (d == DIRECTORY_NO_DOSSIER)
		return err_set(e, ERR_FORBIDDEN, "no_dossier",
			       "you hold no dossier on this person in capacity "
			       "%03d on %s", r->capacity, r->reference_date);
	if (d == DIRECTORY_PHASE_TOO_LOW)
		return err_set(e, ERR_FORBIDDEN, "phase_too_low",
			       "%s requires your dossier at phase %d or higher",
			       granted.reference, granted.min_phase);
	/* A past reference date is answered as the registers stood then. */
	int p = r->day < date_to_days(date_today())
		? registry_get_as_of(s, r->subject, r->reference_date,
				     &x->person, e)
		: registry_get(s, r->subject, &x->person, e);
	if (p != 0)
		return p < 0 ? -1
			     : err_set(e, ERR_NOT_FOUND, "unknown_person",
				       "the registers know no such person on "
				       "%s", r->reference_date);
	return 0;
}

/* Steps 1 to 4 after parsing, on one snapshot of the directory and
 * registers. */
static int check(struct exchange *x)
{
	bool snapshot = store_read_begin(x->h->store) == 0;
	int rc = resolve(x);
	if (rc == 0)
		rc = decide(x);
	if (snapshot)
		store_read_end(x->h->store);
	return rc;
}

static json_t *identification(const struct registry_person *p);

/* The registers' answer for data_type about p: identification data, or
 * the pension status (seed 001: whether the person is retired), each
 * only for its own data type, so that a deliberation for one opens
 * nothing of the other. Returns 0 with *out, or -1 with e
 * (ERR_UNAVAILABLE "data_type_unsupported": a data type the directory
 * says the registers hold but they do not answer). */
static int registers_answer(const char *data_type,
			    const struct registry_person *p, json_t **out,
			    struct error *e)
{
	*out = NULL;
	if (strcmp(data_type, "identification") == 0) {
		*out = identification(p);
		return 0;
	}
	if (strcmp(data_type, "pension_status") == 0) {
		*out = json_pack("{s:s}", "insz", p->insz);
		if (p->pension_status[0])
			json_object_set_new(*out, "pension_status",
					    json_string(p->pension_status));
		if (p->pension_since[0])
			json_object_set_new(*out, "pension_since",
					    json_string(p->pension_since));
		return 0;
	}
	return err_set(e, ERR_UNAVAILABLE, "data_type_unsupported",
		       "the registers answer identification and "
		       "pension_status only");
}

/* Identification data, from the registers the hub holds. */
static json_t *identification(const struct registry_person *p)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "insz", p->insz, "register",
			      p->register_, "last_name", p->last_name,
			      "first_names", p->first_names);
	static const struct {
		const char *name;
		size_t off;
	} opt[] = {
		{"birth_date", offsetof(struct registry_person, birth_date)},
		{"birth_place", offsetof(struct registry_person, birth_place)},
		{"sex", offsetof(struct registry_person, sex)},
		{"nationality", offsetof(struct registry_person, nationality)},
		{"language", offsetof(struct registry_person, language)},
		{"deceased_on", offsetof(struct registry_person, deceased_on)},
	};
	for (size_t i = 0; i < KP_NELEM(opt); i++) {
		const char *v = (const char *)p + opt[i].off;
		if (v[0])
			json_object_set_new(j, opt[i].name, json_string(v));
	}
	if (p->street[0] || p->municipality[0])
		json_object_set_new(j, "address",
				    json_pack("{s:s,s:s,s:s,s:s}", "street",
					      p->street, "postal_code",
					      p->postal_code, "municipality",
					      p->municipality, "country",
					      p->country[0] ? p->country : "BE"));
	return j;
}

/* The institution that is the authentic source of the data type for this
 * person: of the source's actor type, holding a dossier on the person on
 * the reference date in a capacity in which it keeps that data. */
static int find_source(struct exchange *x, struct org_institution *out)
{
	const struct exchange_request *r = &x->r;
	int64_t id;
	int found = directory_source(x->h->store, r->subject, r->day, x->source,
				     r->data_type, &id);
	if (found == 0)
		found = org_institution_get(x->h->store, id, out);
	if (found < 0)
		return store_fail(&x->e, "try again");
	if (found > 0)
		return err_set(&x->e, ERR_NOT_FOUND, "no_authentic_source",
			       "no %s holds this person's %s on %s", x->source,
			       r->data_type, r->reference_date);
	return 0;
}

/* Route to the authentic source's endpoint (on a provider worker). */
static int ask_source(struct exchange *x)
{
	const struct exchange_request *r = &x->r;
	struct org_institution inst;
	if (find_source(x, &inst) != 0)
		return -1;
	json_t *q = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "ticket", x->ticket,
			      "data_type", r->data_type, "subject", r->subject,
			      "purpose", r->purpose, "reference_date",
			      r->reference_date, "requester", x->who.kbo);
	if (r->params)
		json_object_set(q, "params", r->params);
	if (x->who.user)
		json_object_set_new(q, "on_behalf_of",
				    json_string(x->who.user));
	int rc = provider_call(x->h, &inst, q, &x->data, &x->e);
	json_decref(q);
	return rc;
}

/* The audit event of an exchange (pointing into x, valid until x->r.root
 * is released). */
static struct audit_event describe(const struct exchange *x)
{
	return (struct audit_event){
		.channel = x->channel,
		.actor = x->who.kbo,
		.user = x->who.user,
		.subject = x->r.subject[0] ? x->r.subject : NULL,
		.action = "exchange",
		.data_type = x->r.data_type,
		.purpose = x->r.purpose,
		.legal_basis = x->legal_basis[0] ? x->legal_basis : NULL,
		.ticket = x->ticket,
		.outcome = x->rc == 0 ? AUDIT_GRANTED : AUDIT_REFUSED,
		.reason = x->rc == 0 ? NULL : x->e.code,
	};
}

/* The event could not be made durable: the exchange did not happen, and
 * no data leaves. */
static void not_logged(struct exchange *x, const char *why)
{
	log_error("security: exchange %s was not audited: %s", x->ticket, why);
	json_decref(x->data);
	x->data = NULL;
	x->rc = err_set(&x->e, ERR_UNAVAILABLE, "audit_unavailable",
			"the exchange could not be logged, so it did not "
			"happen; try again");
}

/* Hand the answer over (data goes to the callee) and free x. */
static void answer(struct exchange *x)
{
	x->done(x->ctx, x->rc, x->data, x->legal_basis, &x->e);
	free(x);
}

static void logged(void *arg, int rc, uint64_t seq)
{
	KP_UNUSED(seq);
	struct exchange *x = arg;
	if (rc != 0)
		not_logged(x, "not durable");
	answer(x);
}

/* The outcome is known: queue its audit event, answer when durable. */
static void log_and_answer(struct exchange *x)
{
	struct audit_event ev = describe(x);
	struct error ae;
	/* Once queued, x belongs to the audit log's thread, which may free it
	 * at once: keep what is still to release. The event is encoded
	 * before the call returns, so its strings may go then. */
	json_t *root = x->r.root;
	x->r.root = NULL;
	int queued = audit_append_async(x->h->audit, &ev, logged, x, &ae);
	json_decref(root);
	if (queued != 0) {
		not_logged(x, ae.detail);
		answer(x);
	}
}

/* A provider call may take seconds: it runs on the hub's own workers, so
 * the caller's threads stay free for everyone else. */
static void *provider_worker(void *arg)
{
	struct hub *h = arg;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->calls && !h->stopping)
			pthread_cond_wait(&h->calls_cond, &h->mu);
		struct exchange *x = h->calls;
		if (!x)
			break; /* stopping and drained */
		h->calls = x->next;
		pthread_mutex_unlock(&h->mu);
		x->rc = ask_source(x);
		log_and_answer(x);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static void provider_queue(struct exchange *x)
{
	struct hub *h = x->h;
	pthread_mutex_lock(&h->mu);
	if (h->calls)
		h->calls_tail->next = x;
	else
		h->calls = x;
	h->calls_tail = x;
	pthread_cond_signal(&h->calls_cond);
	pthread_mutex_unlock(&h->mu);
}

int exchange_workers_start(struct hub *h, struct error *e)
{
	pthread_cond_init(&h->calls_cond, NULL);
	for (; h->nworkers < HUB_PROVIDER_WORKERS; h->nworkers++) {
		if (pthread_create(&h->workers[h->nworkers], NULL,
				   provider_worker, h) != 0) {
			/* Join the ones that did start. */
			exchange_workers_stop(h);
			return err_set(e, ERR_INTERNAL, "hub_failed",
				       "cannot start the provider workers");
		}
	}
	return 0;
}

void exchange_workers_stop(struct hub *h)
{
	pthread_mutex_lock(&h->mu);
	h->stopping = true;
	pthread_cond_broadcast(&h->calls_cond);
	pthread_mutex_unlock(&h->mu);
	for (int i = 0; i < h->nworkers; i++)
		pthread_join(h->workers[i], NULL);
	pthread_cond_destroy(&h->calls_cond);
}

void hub_exchange_async(struct hub *h, const struct hub_requester *who,
			const char *channel, const char *body, size_t len,
			char ticket[UUID_LEN], hub_done_fn done, void *ctx)
{
	struct exchange *x = xcalloc(1, sizeof(*x));
	x->h = h;
	x->who = *who;
	x->channel = channel;
	x->done = done;
	x->ctx = ctx;
	/* The caller's copy first: the answer may come before this returns. */
	uuid7_new(x->ticket);
	str_copy(ticket, UUID_LEN, x->ticket);
	x->rc = exchange_parse(body, len, &x->r, &x->e);
	if (x->rc == 0)
		x->rc = check(x);
	if (x->rc == 0 && strcmp(x->source, HUB_OWN_SOURCE) != 0) {
		provider_queue(x);
		return;
	}
	if (x->rc == 0)
		x->rc = registers_answer(x->r.data_type, &x->person, &x->data,
					 &x->e);
	log_and_answer(x);
}

/* A caller waiting for its exchange's answer (hub_exchange): on its stack,
 * filled by whichever thread answers. */
struct exchange_wait {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool answered;
	int rc;
	json_t *data;
	char *legal_basis;  /* the caller's, 64 bytes */
	struct error *e;    /* the caller's */
};

static void answered(void *ctx, int rc, json_t *data, const char *legal_basis,
		     const struct error *e)
{
	struct exchange_wait *w = ctx;
	pthread_mutex_lock(&w->mu);
	w->rc = rc;
	w->data = data;
	str_copy(w->legal_basis, 64, legal_basis);
	if (rc != 0)
		*w->e = *e;
	/* Signalled under the lock: the waiter cannot return, and take w off
	 * its stack, before this thread lets go of it. */
	w->answered = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

int hub_exchange(struct hub *h, const struct hub_requester *who,
		 const char *body, size_t len, char ticket[UUID_LEN],
		 json_t **data, char legal_basis[64], struct error *e)
{
	struct exchange_wait w = {.rc = -1, .legal_basis = legal_basis, .e = e};
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cond, NULL);
	hub_exchange_async(h, who, AUDIT_CHANNEL_NETWORK, body, len, ticket,
			   answered, &w);
	pthread_mutex_lock(&w.mu);
	while (!w.answered)
		pthread_cond_wait(&w.cond, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.mu);
	*data = w.data;
	return w.rc;
}
