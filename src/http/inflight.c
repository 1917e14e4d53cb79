/*
 * Counts per client address, for a listener behind a proxy: there every
 * connection comes from the proxy, so libmicrohttpd's per-address cap
 * (applied at accept, to the proxy) is lifted, and these counts take its
 * place: the requests each real client has in flight, and the connections
 * of each address that is no proxy. A linear table: it holds an entry
 * only while that address has something open, at most one per connection.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"

struct addr_count {
	char addr[64];
	int n;
};

struct addr_counts {
	pthread_mutex_t lock;
	struct addr_count *v;
	size_t len, cap;
};

struct addr_counts *addr_counts_new(size_t cap)
{
	struct addr_counts *t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->v = xcalloc(cap, sizeof(*t->v));
	t->cap = cap;
	return t;
}

void addr_counts_free(struct addr_counts *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->v);
	free(t);
}

static struct addr_count *find(struct addr_counts *t, const char *addr)
{
	for (size_t i = 0; i < t->len; i++)
		if (strcmp(t->v[i].addr, addr) == 0)
			return &t->v[i];
	return NULL;
}

bool addr_counts_take(struct addr_counts *t, const char *addr, int max)
{
	pthread_mutex_lock(&t->lock);
	struct addr_count *a = find(t, addr);
	if (!a && t->len < t->cap) {
		a = &t->v[t->len++];
		str_copy(a->addr, sizeof(a->addr), addr);
		a->n = 0;
	}
	/* A full table refuses too: it cannot be, with one entry per
	 * connection, unless something leaked. */
	bool ok = a && a->n < max;
	if (ok)
		a->n++;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

void addr_counts_give(struct addr_counts *t, const char *addr)
{
	pthread_mutex_lock(&t->lock);
	struct addr_count *a = find(t, addr);
	if (a && --a->n <= 0)
		*a = t->v[--t->len];
	pthread_mutex_unlock(&t->lock);
}
