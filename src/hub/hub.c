/* The hub's life cycle: the provider client, the provider call workers,
 * the mutation forwarder and the batch workers, started by one table and
 * stopped in its reverse order. */
#include <stdlib.h>
#include <string.h>

#include "hub/hub_internal.h"

/* The parts of a hub in the order they start. Each open undoes its own
 * partial work when it fails; the parts before it are closed, last first.
 * In reverse, batches stop first: their lines may still need the provider
 * workers, which stop before the client they call with. */
static const struct hub_step {
	int (*open)(struct hub *h, struct error *e);
	void (*close)(struct hub *h);
} steps[] = {
	{provider_open, provider_close},
	{exchange_workers_start, exchange_workers_stop},
	{mailbox_start, mailbox_stop},
	{batch_start, batch_stop},
};

/* Close the first n steps, the last started first, and free h. */
static void hub_free(struct hub *h, size_t n)
{
	while (n > 0)
		steps[--n].close(h);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->wake);
	free(h);
}

int hub_open(struct store *s, struct audit *audit,
	     const struct hub_options *opt, struct hub **out, struct error *e)
{
	struct hub *h = xcalloc(1, sizeof(*h));
	h->store = s;
	h->audit = audit;
	h->opt = *opt;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->wake, NULL);
	for (size_t i = 0; i < KP_NELEM(steps); i++) {
		if (steps[i].open(h, e) != 0) {
			hub_free(h, i);
			return -1;
		}
	}
	*out = h;
	return 0;
}

void hub_close(struct hub *h)
{
	if (h)
		hub_free(h, KP_NELEM(steps));
}
