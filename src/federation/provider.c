/*
 * External providers as data: `kruispunt oidc provider add|list|remove`.
 * A provider's client secret is sealed under the master key before it is
 * stored and never leaves again except towards the provider's own token
 * endpoint; changes are audit events (the secret never in them).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "federation/federation_internal.h"

static const char sql_add[] =
	"INSERT INTO federation_provider (id, name, issuer, client_id,"
	" secret_sealed, key_type, nrn_claim, ca_pem, created_at, acr)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char sql_remove[] = "DELETE FROM federation_provider WHERE id = ?1";
static const char sql_list[] =
	"SELECT id, name, issuer, client_id, key_type, nrn_claim,"
	" ca_pem IS NOT NULL, created_at, acr FROM federation_provider"
	" ORDER BY id";
static const char sql_get[] =
	"SELECT id, name, issuer, client_id, key_type, nrn_claim, ca_pem,"
	" secret_sealed, acr FROM federation_provider WHERE id = ?1";

int federation_open(struct audit *log, struct auth *auth,
		    struct federation **out, struct error *e)
{
	KP_UNUSED(e);
	struct federation *f = xcalloc(1, sizeof(*f));
	f->log = log;
	f->auth = auth;
	f->store = audit_store(log);
	pthread_mutex_init(&f->lock, NULL);
	*out = f;
	return 0;
}

void federation_close(struct federation *f)
{
	if (!f)
		return;
	for (int i = 0; i < FEDERATION_CACHED; i++) {
		struct federation_cache *c = &f->cache[i];
		free(c->authorization_endpoint);
		free(c->token_endpoint);
		free(c->jwks_uri);
		free(c->jwks);
	}
	pthread_mutex_destroy(&f->lock);
	free(f);
}

bool federation_url_ok(const char *url)
{
	if (!url || !text_plain(url, LIMIT_URL - 128) || strchr(url, ' '))
		return false;
	bool tls = strncmp(url, "https://", 8) == 0;
	if (!tls && strncmp(url, "http://", 7) != 0)
		return false;
	/* The authority: no user information (http://localhost:@evil is
	 * evil), no backslash; over http, exactly a loopback host. */
	const char *host = url + (tls ? 8 : 7);
	size_t alen = strcspn(host, "/?#");
	if (alen == 0 || memchr(host, '@', alen) || memchr(host, '\\', alen))
		return false;
	if (tls)
		return true;
	static const char *const loop[] = {"127.0.0.1", "localhost", "[::1]"};
	for (size_t i = 0; i < KP_NELEM(loop); i++) {
		size_t l = strlen(loop[i]);
		if (alen >= l && strncmp(host, loop[i], l) == 0 &&
		    (alen == l ||
		     (host[l] == ':' &&
		      strspn(host + l + 1, "0123456789") == alen - l - 1)))
			return true;
	}
	return false;
}

/* A key type others issue (itsme, MyGov.be, eIDAS means, seed 000 art.
 * 11): never one of kruispunt's own, whose level a provider cannot
 * vouch for (a "eid" session from a provider would be an eID login). */
static bool external_key_type(const char *t)
{
	static const char *const prefixes[] = {"itsme_", "mygov_", "eidas_"};
	for (size_t i = 0; t && i < KP_NELEM(prefixes); i++)
		if (strncmp(t, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static bool id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > FEDERATION_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
			return false;
	return true;
}

/* NULL when spec is acceptable, else what is wrong with it. */
static const char *spec_fault(struct federation *f,
			      const struct federation_provider_spec *s)
{
	size_t sn = s->client_secret ? strlen(s->client_secret) : 0;
	if (!id_ok(s->id))
		return "id: 1 to 32 of a-z, 0-9 and -";
	if (!s->name || !*s->name || !text_plain(s->name, 100))
		return "name: plain text, at most 100 bytes";
	if (!federation_url_ok(s->issuer))
		return "issuer: an https URL (http only on the loopback)";
	if (!s->client_id || !*s->client_id || !text_plain(s->client_id, 255))
		return "client id: plain text, at most 255 bytes";
	if (sn == 0 || sn > FEDERATION_SECRET_MAX ||
	    !text_plain(s->client_secret, FEDERATION_SECRET_MAX))
		return "client secret: 1 to 256 bytes of plain text";
	if (!s->key_type || !external_key_type(s->key_type) ||
	    auth_key_level(f->auth, s->key_type) <= 0)
		return "key type: an external one of data/key_types.tsv "
		       "(itsme_*, mygov_*, eidas_*)";
	if (!s->nrn_claim || !*s->nrn_claim || !text_plain(s->nrn_claim, 63))
		return "national number claim: a claim's name";
	if (s->acr && !text_plain(s->acr, 255))
		return "acr: the provider's acr values, space separated";
	if (s->ca_pem && (strlen(s->ca_pem) > FEDERATION_CA_MAX ||
			  !strstr(s->ca_pem, "-----BEGIN CERTIFICATE-----")))
		return "CA: a PEM file of certificates";
	return NULL;
}

struct provider_add {
	const struct federation_provider_spec *s;
	uint8_t sealed[FEDERATION_SECRET_MAX + AUTH_SEAL_OVERHEAD];
	size_t n;
};

static int add_change(struct store_conn *w, void *ctx,
		      struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct provider_add *c = ctx;
	const struct federation_provider_spec *s = c->s;
	struct store_stmt *st = store_prepare(w, sql_add);
	const char *t[] = {s->id, s->name, s->issuer, s->client_id};
	for (int i = 0; i < 4; i++)
		store_bind_text(st, i + 1, t[i]);
	store_bind_blob(st, 5, c->sealed, c->n);
	store_bind_text(st, 6, s->key_type);
	store_bind_text(st, 7, s->nrn_claim);
	if (s->ca_pem)
		store_bind_text(st, 8, s->ca_pem);
	store_bind_int(st, 9, time_now());
	store_bind_text(st, 10, s->acr ? s->acr : "");
	static const struct store_refusal dup = {
		ERR_CONFLICT, "provider_exists", "a provider with this id exists"};
	return store_run(st, &dup, e);
}

int federation_provider_add(struct federation *f, const struct audit_actor *by,
			    const struct federation_provider_spec *spec,
			    struct error *e)
{
	struct provider_add c = {.s = spec};
	struct error bad;
	const struct error *refusal = NULL;
	const char *fault = spec_fault(f, spec);
	if (fault) {
		err_set(&bad, ERR_INVALID, "invalid_field", "%s", fault);
		refusal = &bad;
	} else
		c.n = auth_seal(f->auth, (const uint8_t *)spec->client_secret,
				strlen(spec->client_secret), c.sealed);
	struct audit_event ev =
		audit_event_by(by, "federation_provider_add");
	ev.purpose = fault ? NULL : spec->id;
	ev.data_type = fault ? NULL : spec->key_type;
	return audit_change(f->log, &ev, add_change, &c, refusal, e);
}

static int remove_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	const char *id = *(const char **)ctx;
	struct store_stmt *st = store_prepare(w, sql_remove);
	store_bind_text(st, 1, id);
	if (store_run(st, NULL, e) != 0)
		return -1;
	if (store_changes(w) == 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_provider",
			       "no provider %s", id);
	return 0;
}

int federation_provider_remove(struct federation *f,
			       const struct audit_actor *by, const char *id,
			       struct error *e)
{
	if (!id_ok(id))
		return err_set(e, ERR_NOT_FOUND, "unknown_provider",
			       "no such provider");
	struct audit_event ev =
		audit_event_by(by, "federation_provider_remove");
	ev.purpose = id;
	return audit_commit(f->log, &ev, 1, remove_change, &id, e);
}

struct listed {
	char id[FEDERATION_ID_MAX + 1], name[128], issuer[LIMIT_URL];
	char client_id[256], key_type[32], nrn_claim[64], acr[256];
	bool ca;
	int64_t created_at;
};

static void read_listed(struct store_stmt *st, void *item)
{
	struct listed *l = item;
	str_copy(l->id, sizeof(l->id), store_col_text(st, 0));
	str_copy(l->name, sizeof(l->name), store_col_text(st, 1));
	str_copy(l->issuer, sizeof(l->issuer), store_col_text(st, 2));
	str_copy(l->client_id, sizeof(l->client_id), store_col_text(st, 3));
	str_copy(l->key_type, sizeof(l->key_type), store_col_text(st, 4));
	str_copy(l->nrn_claim, sizeof(l->nrn_claim), store_col_text(st, 5));
	l->ca = store_col_int(st, 6) != 0;
	l->created_at = store_col_int(st, 7);
	str_copy(l->acr, sizeof(l->acr), store_col_text(st, 8));
}

json_t *federation_provider_list(struct federation *f, bool public,
				 struct error *e)
{
	struct store_conn *r = store_reader(f->store);
	if (!r) {
		store_fail(e, "providers cannot be read now");
		return NULL;
	}
	int n = 0;
	struct listed *l = store_collect(store_prepare(r, sql_list),
					 sizeof(*l), read_listed, &n);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		int level = auth_key_level(f->auth, l[i].key_type);
		json_t *o = json_pack("{s:s,s:s,s:i}", "id", l[i].id, "name",
				      l[i].name, "level", level);
		if (!public)
			json_object_update_new(
				o, json_pack("{s:s,s:s,s:s,s:s,s:b,s:I}",
					     "issuer", l[i].issuer, "client_id",
					     l[i].client_id, "key_type",
					     l[i].key_type, "nrn_claim",
					     l[i].nrn_claim, "ca", l[i].ca,
					     "created_at",
					     (json_int_t)l[i].created_at));
		if (!public && l[i].acr[0])
			json_object_set_new(o, "acr", json_string(l[i].acr));
		json_array_append_new(arr, o);
	}
	free(l);
	return arr;
}

struct got {
	struct federation *f;
	struct federation_provider *p;
	bool sealed_ok;
};

static void read_provider(struct store_stmt *st, void *out)
{
	struct got *g = out;
	struct federation_provider *p = g->p;
	str_copy(p->id, sizeof(p->id), store_col_text(st, 0));
	str_copy(p->name, sizeof(p->name), store_col_text(st, 1));
	str_copy(p->issuer, sizeof(p->issuer), store_col_text(st, 2));
	str_copy(p->client_id, sizeof(p->client_id), store_col_text(st, 3));
	str_copy(p->key_type, sizeof(p->key_type), store_col_text(st, 4));
	str_copy(p->nrn_claim, sizeof(p->nrn_claim), store_col_text(st, 5));
	p->ca_pem = store_col_null(st, 6) ? NULL
					  : xstrdup(store_col_text(st, 6));
	size_t n = 0;
	const uint8_t *sealed = store_col_blob(st, 7, &n);
	int len = auth_unseal(g->f->auth, sealed, n, (uint8_t *)p->secret,
			      FEDERATION_SECRET_MAX);
	g->sealed_ok = len > 0;
	p->secret[len > 0 ? len : 0] = '\0';
	str_copy(p->acr, sizeof(p->acr), store_col_text(st, 8));
}

int federation_provider_get(struct federation *f, const char *id,
			    struct federation_provider *p, struct error *e)
{
	memset(p, 0, sizeof(*p));
	if (!id_ok(id))
		return 1;
	struct store_conn *r = store_reader(f->store);
	if (!r)
		return store_fail(e, "providers cannot be read now");
	struct store_stmt *st = store_prepare(r, sql_get);
	store_bind_text(st, 1, id);
	struct got g = {f, p, false};
	int rc = store_one(st, read_provider, &g, e);
	if (rc == 0 && !g.sealed_ok) {
		/* Another master key sealed it: the operator adds it again. */
		log_warn("federation: the secret of provider %s cannot be "
			 "unsealed with this master key", id);
		federation_provider_free(p);
		return 1;
	}
	return rc;
}

void federation_provider_free(struct federation_provider *p)
{
	secret_wipe(p->secret, sizeof(p->secret));
	free(p->ca_pem);
	p->ca_pem = NULL;
}
