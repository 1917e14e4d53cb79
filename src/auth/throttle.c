/*
 * Password attempts throttled per canonical username, known or not
 * (NIST SP 800-63B §5.2.2): the first few failures in a row cost nothing,
 * then every further attempt waits twice as long as the one before, up to
 * a ceiling. So a guesser needs days to reach the lock at max_failures,
 * and nobody can lock a stranger's key in a minute, while the person who
 * mistypes a few times never notices.
 *
 * An attempt is counted as a failure when it is let through, before the
 * password is checked, and a success clears the count: attempts sent in
 * parallel cannot all pass before the first failure is written down.
 *
 * A fixed, direct-mapped table, as base's rate limiter, but keyed with a
 * secret (SipHash): an attacker cannot pick usernames that share a victim's
 * slot to reset its count. Memory never grows with the names tried.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth_internal.h"

struct throttle_slot {
	uint64_t key;   /* 0: empty */
	int failures;   /* in a row, this attempt included */
	int64_t next_ms; /* no attempt before this */
};

struct auth_throttle {
	pthread_mutex_t mu;
	uint8_t secret[crypto_shorthash_KEYBYTES];
	int free_failures;
	int64_t max_delay_ms;
	struct throttle_slot slots[AUTH_THROTTLE_SLOTS];
};

struct auth_throttle *auth_throttle_new(int free_failures, int max_delay_s)
{
	struct auth_throttle *t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	rand_bytes(t->secret, sizeof(t->secret));
	t->free_failures = free_failures;
	t->max_delay_ms = (int64_t)max_delay_s * 1000;
	return t;
}

void auth_throttle_free(struct auth_throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static struct throttle_slot *slot_of(struct auth_throttle *t,
				     const char *user, uint64_t *key)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, (const uint8_t *)user, strlen(user), t->secret);
	uint64_t k = 0;
	memcpy(&k, h, sizeof(k));
	*key = k | 1; /* 0 marks an empty slot */
	return &t->slots[*key % AUTH_THROTTLE_SLOTS];
}

/* The wait after the n-th failure in a row: none for the free ones, then
 * 1 s, 2 s, 4 s ... up to the ceiling. */
static int64_t delay_ms(const struct auth_throttle *t, int n)
{
	int over = n - t->free_failures;
	if (over <= 0)
		return 0;
	if (over > 40)
		return t->max_delay_ms;
	int64_t d = INT64_C(1000) << (over - 1);
	return d < t->max_delay_ms ? d : t->max_delay_ms;
}

int auth_throttle_begin(struct auth_throttle *t, const char *user)
{
	uint64_t key;
	int64_t now = time_now_ms();
	int wait = 0;
	pthread_mutex_lock(&t->mu);
	struct throttle_slot *s = slot_of(t, user, &key);
	if (s->key != key)
		*s = (struct throttle_slot){key, 0, 0};
	if (now < s->next_ms) {
		/* Whole seconds, rounded up: Retry-After has no fractions. */
		wait = (int)((s->next_ms - now + 999) / 1000);
	} else {
		s->failures++;
		s->next_ms = now + delay_ms(t, s->failures);
	}
	pthread_mutex_unlock(&t->mu);
	return wait;
}

int auth_throttle_wait(struct auth_throttle *t, const char *user)
{
	uint64_t key;
	int64_t now = time_now_ms();
	int wait = 0;
	pthread_mutex_lock(&t->mu);
	struct throttle_slot *s = slot_of(t, user, &key);
	if (s->key == key && now < s->next_ms)
		wait = (int)((s->next_ms - now + 999) / 1000);
	pthread_mutex_unlock(&t->mu);
	return wait;
}

void auth_throttle_success(struct auth_throttle *t, const char *user)
{
	uint64_t key;
	pthread_mutex_lock(&t->mu);
	struct throttle_slot *s = slot_of(t, user, &key);
	if (s->key == key)
		*s = (struct throttle_slot){0, 0, 0};
	pthread_mutex_unlock(&t->mu);
}
