/*
 * A small in-process cache of validated sessions. Every authenticated
 * request checks its token; without the cache that is a database read per
 * request, the largest part of its cost (docs/benchmarks.md). An entry is
 * used only while the session's idle clock needs no write (under a minute
 * since it was last moved) and only in the cache generation it was read
 * in: every change to an existing session (logout, step-up, profile, key
 * deactivation) bumps the generation after its commit, so no request sees
 * a session older than the last change made to it. On SQLite sessions
 * change only through this process (the CLI never touches them). On
 * PostgreSQL other nodes change them too: their commits notify this node
 * (migration 34's trigger), which bumps the generation as it hears them,
 * milliseconds later; while it cannot hear them (its listening connection
 * lost), the cache is not used at all.
 */
#include <string.h>

#include "auth/auth_internal.h"

struct session_slot {
	uint8_t hash[SHA256_LEN];
	bool used;
	uint64_t gen;
	int64_t seen; /* the session's last_seen_at as stored */
	struct auth_session s;
};

/* Another node changed a session (or this node may have missed such a
 * change): nothing cached before is to be trusted. */
static void sessions_heard(void *arg, enum store_heard what)
{
	struct auth *a = arg;
	pthread_mutex_lock(&a->cache_lock);
	a->cache_gen++;
	if (what != STORE_HEARD_NOTIFY)
		a->cache_live = what == STORE_HEARD_CONNECTED;
	pthread_mutex_unlock(&a->cache_lock);
}

void auth_cache_init(struct auth *a)
{
	pthread_mutex_init(&a->cache_lock, NULL);
	a->cache = xcalloc(LIMIT_SESSION_CACHE, sizeof(*a->cache));
	a->cache_gen = 1;
	/* Alone on its database (SQLite), this process makes every change
	 * and invalidates itself; beside other nodes (PostgreSQL), only
	 * once their notifications are heard. */
	a->cache_live = store_backend_of(a->store) == STORE_SQLITE;
	a->cache_listener =
		store_listen(a->store, "kp_sessions", sessions_heard, a);
}

void auth_cache_free(struct auth *a)
{
	store_unlisten(a->cache_listener);
	secret_wipe(a->cache, LIMIT_SESSION_CACHE * sizeof(*a->cache));
	free(a->cache);
	pthread_mutex_destroy(&a->cache_lock);
}

static struct session_slot *slot_of(struct auth *a, const uint8_t *hash)
{
	size_t i = ((size_t)hash[0] | (size_t)hash[1] << 8 |
		    (size_t)hash[2] << 16) % LIMIT_SESSION_CACHE;
	return &a->cache[i];
}

uint64_t auth_cache_generation(struct auth *a)
{
	pthread_mutex_lock(&a->cache_lock);
	uint64_t g = a->cache_gen;
	pthread_mutex_unlock(&a->cache_lock);
	return g;
}

bool auth_cache_get(struct auth *a, const uint8_t hash[SHA256_LEN],
		    int64_t now, struct auth_session *out, int64_t *seen)
{
	pthread_mutex_lock(&a->cache_lock);
	struct session_slot *sl = slot_of(a, hash);
	bool hit = a->cache_live && sl->used && sl->gen == a->cache_gen &&
		   memcmp(sl->hash, hash, SHA256_LEN) == 0 &&
		   now - sl->seen < AUTH_SEEN_STEP_S;
	if (hit) {
		*out = sl->s;
		*seen = sl->seen;
	}
	pthread_mutex_unlock(&a->cache_lock);
	return hit;
}

void auth_cache_put(struct auth *a, const uint8_t hash[SHA256_LEN],
		    uint64_t gen, const struct auth_session *s, int64_t seen)
{
	pthread_mutex_lock(&a->cache_lock);
	/* Read before a change committed: it may be stale, keep it out. */
	if (gen == a->cache_gen) {
		struct session_slot *sl = slot_of(a, hash);
		memcpy(sl->hash, hash, SHA256_LEN);
		sl->used = true;
		sl->gen = gen;
		sl->seen = seen;
		sl->s = *s;
	}
	pthread_mutex_unlock(&a->cache_lock);
}

void auth_cache_invalidate(struct auth *a)
{
	pthread_mutex_lock(&a->cache_lock);
	a->cache_gen++;
	pthread_mutex_unlock(&a->cache_lock);
}
