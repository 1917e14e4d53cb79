/*
 * Token buckets in a fixed, direct-mapped table. Each slot remembers the
 * hash of its key; a different key hashing to a taken slot takes it over
 * with a full bucket. That forgets an attacker only when many other keys
 * pass at once, and then each of those is limited in turn; memory never
 * grows with the number of clients.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

struct slot {
	uint64_t key;
	double tokens;
	uint64_t last_ns;
};

struct ratelimit {
	pthread_mutex_t mu;
	double rate, burst;
	size_t n;
	struct slot *slots;
};

/* FNV-1a: the keys are short and this is no defence by itself. */
static uint64_t hash(const void *key, size_t n)
{
	const uint8_t *p = key;
	uint64_t h = UINT64_C(1469598103934665603);
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(1099511628211);
	return h | 1; /* 0 marks an empty slot */
}

struct ratelimit *ratelimit_new(double rate, double burst, size_t slots)
{
	struct ratelimit *r = xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->rate = rate;
	r->burst = burst;
	r->n = slots ? slots : 1;
	r->slots = xcalloc(r->n, sizeof(*r->slots));
	return r;
}

void ratelimit_free(struct ratelimit *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->slots);
	free(r);
}

bool ratelimit_allow(struct ratelimit *r, const void *key, size_t n)
{
	uint64_t h = hash(key, n), now = time_tick_ns();
	pthread_mutex_lock(&r->mu);
	struct slot *s = &r->slots[h % r->n];
	if (s->key != h) {
		s->key = h;
		s->tokens = r->burst;
	} else if (now > s->last_ns) {
		/* A tick that went back (a test clock set or reset) adds
		 * nothing rather than wrapping around. */
		s->tokens += (double)(now - s->last_ns) / 1e9 * r->rate;
		if (s->tokens > r->burst)
			s->tokens = r->burst;
	}
	s->last_ns = now;
	bool ok = s->tokens >= 1.0;
	if (ok)
		s->tokens -= 1.0;
	pthread_mutex_unlock(&r->mu);
	return ok;
}
