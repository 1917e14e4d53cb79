/* Shared between the files of src/hub only. */
#ifndef KP_HUB_INTERNAL_H
#define KP_HUB_INTERNAL_H

#include <pthread.h>

#include "hub/hub.h"
#include "org/org.h"

struct provider_client;
struct waiting;

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
	/* Asynchronous exchanges waiting for a provider call (exchange.c). */
	struct waiting *calls, *calls_tail;
	pthread_cond_t calls_cond;
	pthread_t workers[HUB_PROVIDER_WORKERS];
	int nworkers;
	struct batch_state *batch;         /* batch.c */
};

/* hub_exchange_async for a channel. */
void hub_exchange_async_on(struct hub *h, const struct hub_requester *who,
			   const char *channel, const char *body, size_t len,
			   char ticket[UUID_LEN], hub_done_fn done, void *ctx);

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
