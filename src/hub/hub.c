/* The hub's life cycle: the provider client, the mutation forwarder and
 * the batch workers. */
#include <stdlib.h>
#include <string.h>

#include "hub/hub_internal.h"

int hub_open(struct store *s, struct audit *audit,
	     const struct hub_options *opt, struct hub **out, struct error *e)
{
	struct hub *h = xcalloc(1, sizeof(*h));
	h->store = s;
	h->audit = audit;
	h->opt = *opt;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->wake, NULL);
	if (provider_open(h, e) != 0) {
		free(h);
		return -1;
	}
	if (exchange_workers_start(h) != 0) {
		exchange_workers_stop(h);
		provider_close(h);
		free(h);
		return err_set(e, ERR_INTERNAL, "hub_failed",
			       "cannot start the provider workers");
	}
	if (batch_start(h, e) != 0) {
		exchange_workers_stop(h);
		provider_close(h);
		free(h);
		return -1;
	}
	if (mailbox_start(h) != 0) {
		batch_stop(h);
		exchange_workers_stop(h);
		provider_close(h);
		free(h);
		return err_set(e, ERR_INTERNAL, "hub_failed",
			       "cannot start the mutation forwarder");
	}
	*out = h;
	return 0;
}

void hub_close(struct hub *h)
{
	if (!h)
		return;
	/* Batches first: their lines may still need the provider workers. */
	batch_stop(h);
	mailbox_stop(h);
	exchange_workers_stop(h);
	provider_close(h);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->wake);
	free(h);
}
