/*
 * Calls to the authentic sources: HTTPS with mutual TLS (the hub presents
 * its own certificate; the provider's must chain to the configured CA),
 * connections kept alive and shared between threads (a libcurl share
 * handle), a timeout per call and a cap on the calls in flight per
 * provider, so one slow source cannot take every worker thread with it.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hub/hub_internal.h"

#define HANDLES_MAX 256
#define PROVIDER_SLOTS 256
#define ANSWER_MAX (4 * 1024 * 1024)

struct provider_client {
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t mu; /* the handle pool and the in-flight counts */
	CURL *free_handles[HANDLES_MAX];
	int nfree;
	struct {
		int64_t institution_id;
		int in_flight;
	} slots[PROVIDER_SLOTS];
};

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access a,
		       void *u)
{
	KP_UNUSED(c);
	KP_UNUSED(a);
	struct provider_client *p = u;
	pthread_mutex_lock(&p->locks[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *u)
{
	KP_UNUSED(c);
	struct provider_client *p = u;
	pthread_mutex_unlock(&p->locks[data]);
}

int provider_open(struct hub *h, struct error *e)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, ERR_INTERNAL, "hub_failed",
			       "libcurl cannot initialise");
	struct provider_client *p = xcalloc(1, sizeof(*p));
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&p->locks[i], NULL);
	pthread_mutex_init(&p->mu, NULL);
	p->share = curl_share_init();
	curl_share_setopt(p->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(p->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(p->share, CURLSHOPT_USERDATA, p);
	curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	h->providers = p;
	return 0;
}

void provider_close(struct hub *h)
{
	struct provider_client *p = h->providers;
	if (!p)
		return;
	for (int i = 0; i < p->nfree; i++)
		curl_easy_cleanup(p->free_handles[i]);
	curl_share_cleanup(p->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&p->locks[i]);
	pthread_mutex_destroy(&p->mu);
	free(p);
	curl_global_cleanup();
}

/* The slot counting id's calls in flight: its own, or a free one. Called
 * with p->mu held. -1 when every slot is busy with another provider. */
static int find_slot(struct provider_client *p, int64_t id)
{
	int free_slot = -1;
	for (int i = 0; i < PROVIDER_SLOTS; i++) {
		size_t k = ((size_t)id + (size_t)i) % PROVIDER_SLOTS;
		if (p->slots[k].in_flight && p->slots[k].institution_id == id)
			return (int)k;
		if (!p->slots[k].in_flight && free_slot < 0)
			free_slot = (int)k;
	}
	return free_slot;
}

/* Take a place among the provider's calls in flight: true when there was
 * one. */
static bool enter(struct hub *h, int64_t id)
{
	struct provider_client *p = h->providers;
	int limit = h->opt.provider_concurrency ? h->opt.provider_concurrency
						    : HUB_PROVIDER_CONCURRENCY;
	bool ok = false;
	pthread_mutex_lock(&p->mu);
	int k = find_slot(p, id);
	if (k >= 0 && p->slots[k].in_flight < limit) {
		p->slots[k].institution_id = id;
		p->slots[k].in_flight++;
		ok = true;
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

static void leave(struct hub *h, int64_t id)
{
	struct provider_client *p = h->providers;
	pthread_mutex_lock(&p->mu);
	int k = find_slot(p, id);
	if (k >= 0 && p->slots[k].in_flight)
		p->slots[k].in_flight--;
	pthread_mutex_unlock(&p->mu);
}

/* A handle from the pool (its TLS settings are made once), or a new one. */
static CURL *handle_take(struct hub *h)
{
	struct provider_client *p = h->providers;
	CURL *c = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->nfree)
		c = p->free_handles[--p->nfree];
	pthread_mutex_unlock(&p->mu);
	if (c)
		return c;
	c = curl_easy_init();
	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_SHARE, p->share);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_SSLCERT, h->opt.client_cert);
	curl_easy_setopt(c, CURLOPT_SSLKEY, h->opt.client_key);
	curl_easy_setopt(c, CURLOPT_CAINFO, h->opt.provider_ca);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	return c;
}

static void handle_give_back(struct hub *h, CURL *c)
{
	struct provider_client *p = h->providers;
	pthread_mutex_lock(&p->mu);
	if (p->nfree < HANDLES_MAX) {
		p->free_handles[p->nfree++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	if (c)
		curl_easy_cleanup(c);
}

static size_t collect(char *ptr, size_t size, size_t n, void *u)
{
	struct buf *b = u;
	return buf_append(b, ptr, size * n) == 0 ? size * n : 0;
}

/* Turn the provider's answer into *data or an error. */
static int read_answer(const struct org_institution *inst, CURLcode rc,
		       long status, struct buf *b, json_t **data,
		       struct error *e)
{
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return err_set(e, ERR_TIMEOUT, "provider_timeout",
			       "the authentic source (%s) did not answer in time",
			       inst->kbo);
	if (rc != CURLE_OK)
		return err_set(e, ERR_UPSTREAM, "provider_unavailable",
			       "the authentic source (%s) cannot be reached: %s",
			       inst->kbo, curl_easy_strerror(rc));
	if (status == 404)
		return err_set(e, ERR_NOT_FOUND, "not_found_at_source",
			       "the authentic source (%s) holds no such data",
			       inst->kbo);
	struct error pe;
	json_t *j = jsonx_parse(b->p, b->len, &pe);
	/* A source that keeps no history says so; the hub never answers a
	 * past date with today's data. */
	const char *code = json_string_value(json_object_get(j, "error"));
	if (status == 422 && code &&
	    strcmp(code, "reference_date_unsupported") == 0) {
		json_decref(j);
		return err_set(e, ERR_INVALID, "reference_date_unsupported",
			       "the authentic source (%s) cannot answer for a "
			       "past reference date", inst->kbo);
	}
	if (status != 200) {
		json_decref(j);
		j = NULL;
	}
	json_t *d = json_object_get(j, "data");
	if (!d) {
		json_decref(j);
		return err_set(e, ERR_UPSTREAM, "provider_failed",
			       "the authentic source (%s) answered %ld without "
			       "data", inst->kbo, status);
	}
	*data = json_incref(d);
	json_decref(j);
	return 0;
}

int provider_call(struct hub *h, const struct org_institution *inst,
		  json_t *request, json_t **data, struct error *e)
{
	if (!inst->endpoint[0] || !h->opt.client_cert[0])
		return err_set(e, ERR_UPSTREAM, "provider_unavailable",
			       "the authentic source (%s) has no endpoint",
			       inst->kbo);
	if (!enter(h, inst->id))
		return err_set(e, ERR_UNAVAILABLE, "provider_busy",
			       "the authentic source (%s) has too many requests "
			       "in flight; try again", inst->kbo);
	CURL *c = handle_take(h);
	char *body = jsonx_dump(request);
	struct curl_slist *hdr =
		curl_slist_append(NULL, "Content-Type: application/json");
	struct buf b;
	buf_init(&b, ANSWER_MAX);
	CURLcode rc = CURLE_FAILED_INIT;
	long status = 0;
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, inst->endpoint);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		int timeout = inst->timeout_ms ? inst->timeout_ms
			      : h->opt.provider_timeout_ms ? h->opt.provider_timeout_ms
							   : HUB_PROVIDER_TIMEOUT_MS;
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
		handle_give_back(h, c);
	}
	leave(h, inst->id);
	int out = read_answer(inst, rc, status, &b, data, e);
	if (out != 0)
		log_warn("provider %s (%s) failed: %s", inst->kbo, inst->endpoint,
			 e->detail);
	buf_free(&b);
	curl_slist_free_all(hdr);
	free(body);
	return out;
}
