/*
 * One exchange: parse, decide, route, audit. The order of the checks is
 * the seed's (hub.h); the first that fails names the refusal. Whatever the
 * outcome, the exchange has a ticket and a durable audit event before the
 * caller sees an answer.
 */
#include <string.h>

#include "hub/hub_internal.h"
#include "authz/authz.h"
#include "directory/directory.h"
#include "registry/registry.h"

/* The data type the hub answers itself, from the registers it holds. */
#define HUB_OWN_SOURCE "national_register"

struct xreq {
	json_t *root;           /* owns the strings below */
	const char *data_type;
	const char *purpose;
	char subject[INSZ_BUF];
	int capacity;
	int64_t day;
	char reference_date[DATE_LEN];
	char source[64];        /* the data type's authentic source */
	json_t *params;         /* borrowed from root, may be NULL */
	struct registry_person person;
};

/* Step 1: the request is well-formed. */
static int parse(struct hub *h, const struct hub_requester *who,
		 const char *body, size_t len, struct xreq *r, struct error *e)
{
	r->root = jsonx_parse(body, len, e);
	if (!r->root)
		return err_set(e, ERR_MALFORMED, "malformed_request",
			       "the body is not a JSON object");
	if (!json_is_object(r->root))
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
	if (jsonx_str(r->root, "data_type", true, 64, &r->data_type, e) != 0)
		return -1;
	int known = directory_data_type_source(h->store, r->data_type,
					       r->source, sizeof(r->source));
	if (known != 0)
		return known < 0 ? store_fail(e, "try again")
				 : err_set(e, ERR_INVALID, "unknown_data_type",
					   "data_type: not in the reference "
					   "directory");
	r->capacity = directory_capacity_json(json_object_get(r->root, "capacity"));
	if (r->capacity < 0 ||
	    !directory_capacity_known(h->store, who->branch, r->capacity))
		return err_set(e, ERR_INVALID, "unknown_capacity",
			       "capacity: not a capacity of your branch (%s)",
			       who->branch);
	if (jsonx_str(r->root, "purpose", true, 64, &r->purpose, e) != 0)
		return -1;
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

/* Steps 2 to 4: authorization, dossier and phase, the subject exists. */
static int decide(struct hub *h, const struct hub_requester *who,
		  struct xreq *r, char legal_basis[64], struct error *e)
{
	struct authz_authorization granted;
	int a = authz_decide(h->store, who->actor_type, r->capacity,
			     r->data_type, r->purpose, r->day, &granted);
	if (a < 0)
		return store_fail(e, "try again");
	if (a != AUTHZ_GRANTED)
		return err_set(e, ERR_FORBIDDEN,
			       authz_answer_code((enum authz_answer)a),
			       "no authorization of the Information Security "
			       "Committee covers this request on %s",
			       r->reference_date);
	str_copy(legal_basis, 64, granted.reference);
	int d = directory_decide(h->store, who->institution_id, r->subject,
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
	int p = registry_get(h->store, r->subject, &r->person, e);
	if (p != 0)
		return p < 0 ? -1
			     : err_set(e, ERR_NOT_FOUND, "unknown_person",
				       "the registers know no such person");
	return 0;
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

/* The institution that is the authentic source of r's data type for this
 * person: of the source's actor type, holding a dossier on the person on
 * the reference date in a capacity in which it keeps that data. */
static int find_source(struct hub *h, const struct xreq *r,
		       struct org_institution *out, struct error *e)
{
	struct directory_holding hold[HUB_MAX_HOLDINGS];
	int n = directory_holdings(h->store, r->subject, r->day, hold,
				   HUB_MAX_HOLDINGS);
	if (n < 0)
		return store_fail(e, "try again");
	for (int i = 0; i < n; i++) {
		if (org_institution_get(h->store, hold[i].institution_id, out) != 0 ||
		    strcmp(out->actor_type, r->source) != 0 ||
		    !directory_available(h->store, r->source, hold[i].capacity,
					 r->data_type))
			continue;
		return 0;
	}
	return err_set(e, ERR_NOT_FOUND, "no_authentic_source",
		       "no %s holds this person's %s on %s", r->source,
		       r->data_type, r->reference_date);
}

static int route(struct hub *h, const struct hub_requester *who,
		 const struct xreq *r, const char *ticket, json_t **data,
		 struct error *e)
{
	if (strcmp(r->source, HUB_OWN_SOURCE) == 0) {
		*data = identification(&r->person);
		return 0;
	}
	struct org_institution inst;
	if (find_source(h, r, &inst, e) != 0)
		return -1;
	json_t *q = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "ticket", ticket,
			      "data_type", r->data_type, "subject", r->subject,
			      "purpose", r->purpose, "reference_date",
			      r->reference_date, "requester", who->kbo);
	if (r->params)
		json_object_set(q, "params", r->params);
	int rc = provider_call(h, &inst, q, data, e);
	json_decref(q);
	return rc;
}

/* Steps 1 to 4, on one snapshot of the directory and registers. */
static int check(struct hub *h, const struct hub_requester *who,
		 const char *body, size_t len, struct xreq *r,
		 char legal_basis[64], struct error *e)
{
	bool snapshot = store_read_begin(h->store) == 0;
	int rc = parse(h, who, body, len, r, e);
	if (rc == 0)
		rc = decide(h, who, r, legal_basis, e);
	if (snapshot)
		store_read_end(h->store);
	return rc;
}

/* The audit event of an exchange (pointing into r, valid until r->root is
 * released). */
static struct audit_event describe(const struct hub_requester *who,
				   const char *channel, const struct xreq *r,
				   const char *ticket, const char *legal_basis,
				   int rc, const struct error *e)
{
	return (struct audit_event){
		.channel = channel,
		.actor = who->kbo,
		.subject = r->subject[0] ? r->subject : NULL,
		.action = "exchange",
		.data_type = r->data_type,
		.purpose = r->purpose,
		.legal_basis = legal_basis[0] ? legal_basis : NULL,
		.ticket = ticket,
		.outcome = rc == 0 ? AUDIT_GRANTED : AUDIT_REFUSED,
		.reason = rc == 0 ? NULL : e->code,
	};
}

static int not_logged(const char *ticket, const struct error *ae,
		      struct error *e)
{
	log_error("security: exchange %s was not audited: %s", ticket,
		  ae->detail);
	return err_set(e, ERR_UNAVAILABLE, "audit_unavailable",
		       "the exchange could not be logged, so it did not "
		       "happen; try again");
}

int hub_exchange(struct hub *h, const struct hub_requester *who,
		 const char *body, size_t len, char ticket[UUID_LEN],
		 json_t **data, char legal_basis[64], struct error *e)
{
	struct xreq r;
	memset(&r, 0, sizeof(r));
	uuid7_new(ticket);
	legal_basis[0] = '\0';
	*data = NULL;
	int rc = check(h, who, body, len, &r, legal_basis, e);
	if (rc == 0)
		rc = route(h, who, &r, ticket, data, e);
	struct audit_event ev = describe(who, AUDIT_CHANNEL_NETWORK, &r, ticket,
					 legal_basis, rc, e);
	struct error ae;
	if (audit_append(h->audit, &ev, NULL, &ae) != 0) {
		json_decref(*data);
		*data = NULL;
		rc = not_logged(ticket, &ae, e);
	}
	json_decref(r.root);
	return rc;
}

/* An exchange whose answer is on its way. */
struct waiting {
	struct hub *h;
	struct hub_requester who; /* its strings are the caller's */
	const char *channel;
	hub_done_fn done;
	void *ctx;
	struct xreq r;
	int rc;
	json_t *data;
	char ticket[UUID_LEN];
	char legal_basis[64];
	struct error e;
	struct waiting *next;     /* in the provider queue */
};

static void logged(void *arg, int rc, uint64_t seq)
{
	KP_UNUSED(seq);
	struct waiting *w = arg;
	if (rc != 0) {
		struct error ae;
		err_set(&ae, ERR_UNAVAILABLE, "audit_unavailable", "not durable");
		json_decref(w->data);
		w->data = NULL;
		w->rc = not_logged(w->ticket, &ae, &w->e);
	}
	w->done(w->ctx, w->rc, w->data, w->legal_basis, &w->e);
	free(w);
}

/* The outcome is known: queue its audit event, answer when durable. */
static void log_and_answer(struct waiting *w)
{
	struct audit_event ev = describe(&w->who, w->channel, &w->r, w->ticket,
					 w->legal_basis, w->rc, &w->e);
	struct error ae;
	/* Once queued, w belongs to the audit log's thread, which may free it
	 * at once: keep what is still to release. The event is encoded
	 * before the call returns, so its strings may go then. */
	json_t *root = w->r.root;
	w->r.root = NULL;
	int queued = audit_append_async(w->h->audit, &ev, logged, w, &ae);
	json_decref(root);
	if (queued != 0) {
		json_decref(w->data);
		w->data = NULL;
		w->rc = not_logged(w->ticket, &ae, &w->e);
		w->done(w->ctx, w->rc, NULL, w->legal_basis, &w->e);
		free(w);
	}
}

/* A provider call may take seconds: it runs on the hub's own workers, so
 * the HTTP threads stay free for everyone else. */
static void *provider_worker(void *arg)
{
	struct hub *h = arg;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->calls && !h->stopping)
			pthread_cond_wait(&h->calls_cond, &h->mu);
		struct waiting *w = h->calls;
		if (!w)
			break; /* stopping and drained */
		h->calls = w->next;
		pthread_mutex_unlock(&h->mu);
		w->rc = route(w->h, &w->who, &w->r, w->ticket, &w->data, &w->e);
		log_and_answer(w);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
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

void hub_exchange_async_on(struct hub *h, const struct hub_requester *who,
			   const char *channel, const char *body, size_t len,
			   char ticket[UUID_LEN], hub_done_fn done, void *ctx)
{
	struct waiting *w = xcalloc(1, sizeof(*w));
	w->h = h;
	w->who = *who;
	w->channel = channel;
	w->done = done;
	w->ctx = ctx;
	uuid7_new(ticket);
	str_copy(w->ticket, sizeof(w->ticket), ticket);
	w->rc = check(h, who, body, len, &w->r, w->legal_basis, &w->e);
	if (w->rc == 0 && strcmp(w->r.source, HUB_OWN_SOURCE) != 0) {
		pthread_mutex_lock(&h->mu);
		if (h->calls)
			h->calls_tail->next = w;
		else
			h->calls = w;
		h->calls_tail = w;
		pthread_cond_signal(&h->calls_cond);
		pthread_mutex_unlock(&h->mu);
		return;
	}
	if (w->rc == 0)
		w->rc = route(h, who, &w->r, ticket, &w->data, &w->e);
	log_and_answer(w);
}

void hub_exchange_async(struct hub *h, const struct hub_requester *who,
			const char *body, size_t len, char ticket[UUID_LEN],
			hub_done_fn done, void *ctx)
{
	hub_exchange_async_on(h, who, AUDIT_CHANNEL_NETWORK, body, len, ticket,
			      done, ctx);
}
