/* Shared between the files of src/hub only. */
#ifndef KP_HUB_INTERNAL_H
#define KP_HUB_INTERNAL_H

#include <pthread.h>

#include "hub/hub.h"
#include "org/org.h"

struct provider_client;
struct exchange;

/* Threads that call providers for asynchronous exchanges. */
#define HUB_PROVIDER_WORKERS 8
/* Dossiers on one person the hub considers when it routes an exchange or
 * forwards a mutation: a person has a handful; the rest are not
 * considered. */
#define HUB_MAX_HOLDINGS 64
struct batch_state;

struct hub {
	struct store *store;
	struct audit *audit;
	struct hub_options opt;
	struct provider_client *providers; /* provider.c */
	/* The mutation forwarder (mailbox.c). */
	pthread_t forwarder;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stopping, kicked;
	/* Exchanges waiting for a provider call (exchange.c). */
	struct exchange *calls, *calls_tail;
	pthread_cond_t calls_cond;
	pthread_t workers[HUB_PROVIDER_WORKERS];
	int nworkers;
	struct batch_state *batch;         /* batch.c */
};

/* What an exchange request asks, as written: checked for its own syntax
 * only. Resolving its names (data type, capacity) and deciding need the
 * store, and follow on one read snapshot. */
struct exchange_request {
	json_t *root;           /* the parsed body; owns the strings below */
	char subject[INSZ_BUF]; /* INSZ digits */
	const char *data_type;
	int capacity;           /* a code; -1 until parsed */
	const char *purpose;
	char reference_date[DATE_LEN]; /* today's date when not given */
	int64_t day;            /* reference_date as days since 1970 */
	json_t *params;         /* borrowed from root; NULL when absent */
};

/* exchange.c: parse body[0..len) into r, touching no store. Returns 0, or
 * -1 with e (ERR_MALFORMED "malformed_request"; ERR_INVALID
 * "invalid_insz", "unknown_capacity", "invalid_field"). Either way the
 * caller json_decref's r->root: what was parsed before a refusal still
 * describes it in the audit event. */
int exchange_parse(const char *body, size_t len, struct exchange_request *r,
		   struct error *e);

/* exchange.c: the provider call workers. Returns 0, or -1 with e set
 * and no worker left running. */
int exchange_workers_start(struct hub *h, struct error *e);
void exchange_workers_stop(struct hub *h);

/* provider.c: calls to the authentic sources' endpoints. */
int provider_open(struct hub *h, struct error *e);
void provider_close(struct hub *h);
/* POST request to inst's endpoint and read its answer's "data". Returns 0
 * and *data (caller frees), or -1 with e (ERR_UPSTREAM "provider_failed" /
 * "provider_unavailable", ERR_TIMEOUT "provider_timeout", ERR_UNAVAILABLE
 * "provider_busy", ERR_NOT_FOUND "not_found_at_source"). */
int provider_call(struct hub *h, const struct org_institution *inst,
		  json_t *request, json_t **data, struct error *e);

/* mailbox.c: the forwarder thread. Returns 0, or -1 with e set. */
int mailbox_start(struct hub *h, struct error *e);
void mailbox_stop(struct hub *h);

/* batch.c: the batch workers. */
int batch_start(struct hub *h, struct error *e);
void batch_stop(struct hub *h);

#endif
