/*
 * Talking to an external provider with libcurl: its discovery document,
 * its keys and its token endpoint. TLS is verified against the CA
 * registered for the provider (or the system's), redirects are not
 * followed (an answer is the provider's own or none), and every answer
 * has a size limit and a time limit. Discovery and keys are cached a few
 * minutes per provider: a login costs the provider one request (the
 * token), not three.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "federation/federation_internal.h"

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct federation_answer *a = ud;
	size_t n = size * nmemb;
	if (n > FEDERATION_ANSWER_MAX - a->n)
		return 0; /* too long: curl fails the transfer */
	a->body = xrealloc(a->body, a->n + n + 1);
	memcpy(a->body + a->n, ptr, n);
	a->n += n;
	a->body[a->n] = '\0';
	return n;
}

static int unavailable(struct error *e, const char *id)
{
	return err_set(e, ERR_UNAVAILABLE, "provider_unavailable",
		       "the provider %s cannot be reached now; try again "
		       "later", id);
}

int federation_http(const struct federation_provider *p, const char *url,
		    const char *form, struct federation_answer *a,
		    struct error *e)
{
	memset(a, 0, sizeof(*a));
	if (!federation_url_ok(url))
		return unavailable(e, p->id);
	CURL *c = curl_easy_init();
	if (!c)
		return unavailable(e, p->id);
	struct curl_slist *hdr =
		curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* http only reaches the loopback (federation_url_ok). */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->ca_pem) {
		struct curl_blob ca = {p->ca_pem, strlen(p->ca_pem),
				       CURL_BLOB_COPY};
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
	}
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)FEDERATION_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)FEDERATION_TIMEOUT_MS / 3);
	if (form) {
		/* client_secret_basic (RFC 6749 section 2.3.1). */
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, p->client_id);
		curl_easy_setopt(c, CURLOPT_PASSWORD, p->secret);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	}
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK && a->body)
		return 0;
	log_warn("federation: provider %s did not answer at %s: %s", p->id,
		 url, rc == CURLE_OK ? "no body" : curl_easy_strerror(rc));
	free(a->body);
	a->body = NULL;
	return unavailable(e, p->id);
}

/* GET url's JSON object (new reference), or NULL with e. */
static json_t *get_json(const struct federation_provider *p, const char *url,
			struct error *e)
{
	struct federation_answer a;
	if (federation_http(p, url, NULL, &a, e) != 0)
		return NULL;
	json_t *j = a.status == 200 ? json_loadb(a.body, a.n, 0, NULL) : NULL;
	free(a.body);
	if (json_is_object(j))
		return j;
	json_decref(j);
	log_warn("federation: provider %s answered %ld at %s", p->id, a.status,
		 url);
	unavailable(e, p->id);
	return NULL;
}

/* The discovery document's endpoints into c (OpenID Connect Discovery
 * 1.0 section 4.3: its issuer must be the one registered). */
static int discover(const struct federation_provider *p,
		    struct federation_cache *c, struct error *e)
{
	char *url = xasprintf("%s/.well-known/openid-configuration",
			      p->issuer);
	json_t *d = get_json(p, url, e);
	free(url);
	if (!d)
		return -1;
	const char *iss = json_string_value(json_object_get(d, "issuer"));
	const char *az = json_string_value(
		json_object_get(d, "authorization_endpoint"));
	const char *tk = json_string_value(json_object_get(d, "token_endpoint"));
	const char *ks = json_string_value(json_object_get(d, "jwks_uri"));
	int rc = 0;
	if (!iss || strcmp(iss, p->issuer) != 0 || !federation_url_ok(az) ||
	    !federation_url_ok(tk) || !federation_url_ok(ks)) {
		log_warn("federation: provider %s's discovery names another "
			 "issuer or lacks an endpoint", p->id);
		rc = unavailable(e, p->id);
	} else {
		free(c->authorization_endpoint);
		free(c->token_endpoint);
		free(c->jwks_uri);
		c->authorization_endpoint = xstrdup(az);
		c->token_endpoint = xstrdup(tk);
		c->jwks_uri = xstrdup(ks);
		c->fetched_at = time_now();
	}
	json_decref(d);
	return rc;
}

static int fetch_keys(const struct federation_provider *p,
		      struct federation_cache *c, struct error *e)
{
	json_t *k = get_json(p, c->jwks_uri, e);
	if (!k)
		return -1;
	if (!json_is_array(json_object_get(k, "keys"))) {
		json_decref(k);
		return unavailable(e, p->id);
	}
	free(c->jwks);
	c->jwks = json_dumps(k, JSON_COMPACT);
	c->jwks_at = time_now();
	json_decref(k);
	return 0;
}

/* The slot of p's issuer in the cache (the lock held): its own, or the
 * oldest one nobody is fetching for. NULL when all are busy. */
static struct federation_cache *slot(struct federation *f,
				     const char *issuer)
{
	struct federation_cache *old = NULL;
	for (int i = 0; i < FEDERATION_CACHED; i++) {
		struct federation_cache *c = &f->cache[i];
		if (strcmp(c->issuer, issuer) == 0)
			return c;
		if (!c->fetching && (!old || c->fetched_at < old->fetched_at))
			old = c;
	}
	if (old) {
		str_copy(old->issuer, sizeof(old->issuer), issuer);
		old->fetched_at = old->jwks_at = old->failed_at = 0;
	}
	return old;
}

static void cache_clear(struct federation_cache *c)
{
	free(c->authorization_endpoint);
	free(c->token_endpoint);
	free(c->jwks_uri);
	free(c->jwks);
	memset(c, 0, sizeof(*c));
}

/* Take the fetched parts of t into c (the lock held); t is left empty. */
static void cache_take(struct federation_cache *c, struct federation_cache *t)
{
	if (t->authorization_endpoint) {
		free(c->authorization_endpoint);
		free(c->token_endpoint);
		free(c->jwks_uri);
		c->authorization_endpoint = t->authorization_endpoint;
		c->token_endpoint = t->token_endpoint;
		c->jwks_uri = t->jwks_uri;
		c->fetched_at = t->fetched_at;
	}
	if (t->jwks) {
		free(c->jwks);
		c->jwks = t->jwks;
		c->jwks_at = t->jwks_at;
	}
	memset(t, 0, sizeof(*t));
}

/* What the fetch must get: 1 discovery, 2 keys (bits). */
static int stale(const struct federation_cache *c, bool keys, bool fresh_keys,
		 int64_t now)
{
	int need = 0;
	if (!c->authorization_endpoint || now - c->fetched_at >= FEDERATION_CACHE_S)
		need |= 1;
	if (keys && (fresh_keys || !c->jwks || now - c->jwks_at >= FEDERATION_CACHE_S))
		need |= 2;
	return need;
}

/* Fetch what need says into t, without the lock: a slow provider holds
 * up its own logins only. */
static int fetch(const struct federation_provider *p,
		 struct federation_cache *t, int need, struct error *e)
{
	int rc = need & 1 ? discover(p, t, e) : 0;
	if (rc == 0 && (need & 2))
		rc = fetch_keys(p, t, e);
	return rc;
}

int federation_discover(struct federation *f,
			const struct federation_provider *p, bool fresh_keys,
			char authz[LIMIT_URL], char token[LIMIT_URL],
			char **keys, struct error *e)
{
	int64_t now = time_now();
	pthread_mutex_lock(&f->lock);
	struct federation_cache *c = slot(f, p->issuer);
	int need = c ? stale(c, keys != NULL, fresh_keys, now) : 0;
	/* Busy (another login fetches), or failed a moment ago: refused at
	 * once rather than queued behind a timeout. */
	bool refused = !c || (need && (c->fetching ||
				       now - c->failed_at < FEDERATION_BACKOFF_S));
	bool failed = false; /* e set by the fetch */
	if (!refused && need) {
		struct federation_cache t = {0};
		/* The keys' address comes with the discovery. */
		if ((need & 2) && !(need & 1) && c->jwks_uri)
			t.jwks_uri = xstrdup(c->jwks_uri);
		else
			need |= need & 2 ? 1 : 0;
		c->fetching = true;
		pthread_mutex_unlock(&f->lock);
		failed = fetch(p, &t, need, e) != 0;
		pthread_mutex_lock(&f->lock);
		c->fetching = false;
		if (failed)
			c->failed_at = now;
		else if (strcmp(c->issuer, p->issuer) == 0) {
			if (!(need & 1)) { /* only the copy of the address */
				free(t.jwks_uri);
				t.jwks_uri = NULL;
			}
			cache_take(c, &t);
		}
		cache_clear(&t);
		refused = failed;
	}
	int rc = 0;
	if (refused || !c->authorization_endpoint || (keys && !c->jwks))
		rc = failed ? -1 : unavailable(e, p->id);
	else {
		str_copy(authz, LIMIT_URL, c->authorization_endpoint);
		str_copy(token, LIMIT_URL, c->token_endpoint);
		if (keys)
			*keys = xstrdup(c->jwks);
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}
