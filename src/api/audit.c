/* Audit log endpoints: the signed checkpoint and RFC 9162 proofs. The
 * event queries (auditor, citizen) arrive with sessions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "org/org.h"

int api_query_u64(struct http_request *req, const char *name, bool required,
		  uint64_t *out, struct error *e)
{
	return api_parse_u64(http_query(req, name), name, required, out, e);
}

int api_parse_u64(const char *v, const char *name, bool required,
		  uint64_t *out, struct error *e)
{
	if (!v)
		return required ? err_set(e, ERR_INVALID, "invalid_field",
					  "query parameter '%s' is required",
					  name)
				: 1;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	/* Digits only: strtoull alone would take a sign or leading blanks. */
	if (errno || end == v || *end || v[0] < '0' || v[0] > '9' ||
	    strlen(v) > 19)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "query parameter '%s' must be a number", name);
	*out = n;
	return 0;
}

static json_t *hex_json(const uint8_t *b, size_t n)
{
	char hex[2 * 64 + 1];
	hex_encode(b, n, hex);
	return json_string(hex);
}

static json_t *path_json(const struct audit_proof *p)
{
	json_t *a = json_array();
	for (int i = 0; i < p->n; i++)
		json_array_append_new(a, hex_json(p->hash[i], SHA256_LEN));
	return a;
}

int api_audit_checkpoint(struct http_request *req, struct http_response *res,
			 void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	struct audit_checkpoint cp;
	if (audit_checkpoint_latest(a->store, &cp) != 0)
		return store_fail(&res->err, "no checkpoint can be read now");
	/* The key that signed this checkpoint, which a rotation may since
	 * have retired: the signature verifies with it only. */
	uint8_t pk[ED25519_PK_LEN];
	if (audit_key_public(a->audit, cp.key_id, pk) != 0)
		return store_fail(&res->err, "the checkpoint's key cannot be read now");
	json_t *j = json_pack("{s:I,s:o,s:s,s:o,s:o}", "tree_size",
			      (json_int_t)cp.tree_size, "root_hash",
			      hex_json(cp.root, SHA256_LEN), "timestamp",
			      cp.timestamp, "signature",
			      hex_json(cp.signature, sizeof(cp.signature)),
			      "public_key", hex_json(pk, sizeof(pk)));
	json_object_set_new(j, "algorithm", json_string("Ed25519"));
	json_object_set_new(j, "key_id", json_integer((json_int_t)cp.key_id));
	/* The same key as a C2SP signed-note key (docs/AUDIT.md). */
	char vkey[AUDIT_VKEY_MAX];
	audit_note_vkey(audit_origin(a->audit), pk, vkey);
	json_object_set_new(j, "vkey", json_string(vkey));
	json_object_set_new(j, "origin", json_string(audit_origin(a->audit)));
	return http_reply_json(res, 200, j);
}

int api_audit_inclusion(struct http_request *req, struct http_response *res,
			void *app)
{
	struct app *a = app;
	uint64_t seq, size;
	if (api_query_u64(req, "seq", true, &seq, &res->err) < 0)
		return -1;
	int has = api_query_u64(req, "tree_size", false, &size, &res->err);
	if (has < 0)
		return -1;
	struct audit_checkpoint cp;
	if (has == 1) {
		/* Default: the newest signed tree, the one a client can check. */
		if (audit_checkpoint_latest(a->store, &cp) != 0)
			return store_fail(&res->err, "no checkpoint");
		size = cp.tree_size;
	}
	uint8_t leaf[SHA256_LEN];
	struct audit_proof p;
	if (audit_proof_inclusion(a->store, audit_size(a->audit), seq, size,
				  leaf, &p, &res->err) != 0)
		return -1;
	return http_reply_json(res, 200,
			       json_pack("{s:I,s:I,s:o,s:o}", "seq",
					 (json_int_t)seq, "tree_size",
					 (json_int_t)size, "leaf_hash",
					 hex_json(leaf, SHA256_LEN), "path",
					 path_json(&p)));
}

int api_audit_consistency(struct http_request *req, struct http_response *res,
			  void *app)
{
	struct app *a = app;
	uint64_t first, second;
	if (api_query_u64(req, "first", true, &first, &res->err) < 0 ||
	    api_query_u64(req, "second", true, &second, &res->err) < 0)
		return -1;
	struct audit_proof p;
	if (audit_proof_consistency(a->store, audit_size(a->audit), first,
				    second, &p, &res->err) != 0)
		return -1;
	return http_reply_json(res, 200,
			       json_pack("{s:I,s:I,s:o}", "first",
					 (json_int_t)first, "second",
					 (json_int_t)second, "path",
					 path_json(&p)));
}

/* An RFC 3339 query parameter as milliseconds; 0 when absent. */
static int time_param(struct http_request *req, const char *name,
		      int64_t *ms, struct error *e)
{
	const char *v = http_query(req, name);
	int64_t t;
	*ms = 0;
	if (!v)
		return 0;
	if (time_parse_rfc3339(v, &t) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "%s must be an RFC 3339 time", name);
	*ms = t * 1000;
	return 0;
}

static json_t *record_json(const struct audit_record *r)
{
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "seq",
			      (json_int_t)r->seq, "at", r->at, "channel",
			      r->channel, "action", r->action, "outcome",
			      r->outcome, "profile", r->profile);
	const char *opt[][2] = {{"actor", r->actor},       {"user", r->user},
				{"subject", r->subject},   {"data_type", r->data_type},
				{"purpose", r->purpose},   {"legal_basis", r->legal_basis},
				{"ticket", r->ticket},     {"reason", r->reason}};
	for (size_t i = 0; i < KP_NELEM(opt); i++)
		if (opt[i][1][0])
			json_object_set_new(j, opt[i][0], json_string(opt[i][1]));
	if (r->count > 1)
		json_object_set_new(j, "count", json_integer(r->count));
	return j;
}

/* The organisation the session acts for when it audits the network (its
 * KBO), or NULL with res->err set: the gate checked the auditor role, but
 * the role counts only at the network's operator. */
static const char *network_auditor(struct http_request *req,
				   struct http_response *res, struct app *a)
{
	const char *kbo = strncmp(req->who.profile, "org:", 4) == 0
			  ? req->who.profile + 4 : NULL;
	if (kbo && org_audits_the_network(a->store, kbo))
		return kbo;
	res->problem_extra = json_pack("{s:s,s:s}", "role", "auditor",
				       "reason", "missing");
	err_set(&res->err, ERR_FORBIDDEN, "role_required",
		"act for the Crossroads Bank as its auditor");
	return NULL;
}

/* The auditor's tool (seed 003: "authorized people have tools to exploit
 * the logs"): events by subject, acting organisation, acting person, time
 * and outcome. Only for auditors of the Crossroads Bank itself, and the
 * query is itself an audit event. */
int api_audit_events(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	const char *kbo = network_auditor(req, res, a);
	if (!kbo)
		return -1;
	struct audit_filter f = {.limit = 100};
	f.subject = http_query(req, "subject");
	f.actor = http_query(req, "actor");
	f.user = http_query(req, "user");
	f.outcome = http_query(req, "outcome");
	uint64_t after = 0, limit = 100;
	int has_after = api_query_u64(req, "after", false, &after, &res->err);
	if (has_after < 0 ||
	    api_query_u64(req, "limit", false, &limit, &res->err) < 0 ||
	    time_param(req, "from", &f.from_ms, &res->err) != 0 ||
	    time_param(req, "to", &f.to_ms, &res->err) != 0)
		return -1;
	f.after = after;
	f.has_after = has_after == 0;
	f.limit = limit > AUDIT_QUERY_MAX ? AUDIT_QUERY_MAX : (int)limit;
	struct audit_record *recs;
	int n;
	bool more;
	uint64_t next;
	struct audit_actor by = api_actor(req);
	by.actor = kbo;
	if (audit_consult(a->audit, &by, &f, &recs, &n, &more, &next,
			  &res->err) != 0)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, record_json(&recs[i]));
	free(recs);
	json_t *out = json_pack("{s:o}", "events", arr);
	json_object_set_new(out, "next", more ? json_integer((json_int_t)next)
					      : json_null());
	return http_reply_json(res, 200, out);
}

/* ------------------------------------------------ c2sp.org/tlog-tiles */

/* The checkpoint may change every second: caches keep it no longer. */
#define LOG_CHECKPOINT_CACHE "no-cache"
/* A tile of a given width never changes: the log only grows. */
#define LOG_TILE_CACHE "public, max-age=31536000, immutable"

static int no_such_tile(struct http_response *res)
{
	return err_set(&res->err, ERR_NOT_FOUND, "no_such_tile",
		       "no such tile in the signed tree (c2sp.org/tlog-tiles)");
}

static int reply_text(struct http_response *res, const char *text, size_t n)
{
	res->text = xmalloc(n + 1);
	memcpy(res->text, text, n);
	res->text[n] = '\0';
	res->text_len = n;
	res->content_type = "text/plain; charset=utf-8";
	return 0;
}

int api_log_checkpoint(struct http_request *req, struct http_response *res,
		       void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	char note[AUDIT_NOTE_MAX];
	size_t n = audit_checkpoint_note(a->audit, note, NULL);
	if (n == 0)
		return store_fail(&res->err, "no checkpoint can be read now");
	res->cache_control = LOG_CHECKPOINT_CACHE;
	return reply_text(res, note, n);
}

int api_log_vkey(struct http_request *req, struct http_response *res,
		 void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	char vkey[AUDIT_VKEY_MAX + 1];
	size_t n = audit_vkey(a->audit, vkey);
	vkey[n++] = '\n';
	res->cache_control = LOG_CHECKPOINT_CACHE;
	return reply_text(res, vkey, n);
}

int api_log_tile(struct http_request *req, struct http_response *res,
		 void *app)
{
	struct app *a = app;
	struct audit_tile t;
	if (audit_tile_parse(req->params[0], &t) != 0 || t.entries)
		return no_such_tile(res);
	uint8_t *bytes;
	size_t n;
	int rc = audit_tile_hashes(a->store, &t, &bytes, &n);
	if (rc < 0)
		return store_fail(&res->err, "the log could not be read");
	if (rc > 0)
		return no_such_tile(res);
	res->text = (char *)bytes;
	res->text_len = n;
	res->content_type = "application/octet-stream";
	res->cache_control = LOG_TILE_CACHE;
	return 0;
}

/* Entry bundles name persons: an auditor's only, each read an event, and
 * never cached (the default no-store). */
int api_log_entries(struct http_request *req, struct http_response *res,
		    void *app)
{
	struct app *a = app;
	const char *kbo = network_auditor(req, res, a);
	if (!kbo)
		return -1;
	char path[LIMIT_URL + 16];
	struct audit_tile t;
	snprintf(path, sizeof(path), "entries/%s", req->params[0]);
	if (audit_tile_parse(path, &t) != 0)
		return no_such_tile(res);
	struct audit_actor by = api_actor(req);
	by.actor = kbo;
	uint8_t *bytes;
	size_t n;
	int rc = audit_consult_entries(a->audit, &by, &t, &bytes, &n,
				       &res->err);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return no_such_tile(res);
	res->text = (char *)bytes;
	res->text_len = n;
	res->content_type = "application/octet-stream";
	return 0;
}

json_t *api_base64(const uint8_t *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(cap);
	sodium_bin2base64(b64, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	json_t *j = json_string(b64);
	free(b64);
	return j;
}

/* Event seq's receipt, a C2SP tlog-proof file for the caller to keep. */
static int send_receipt(struct app *a, struct http_request *req,
			struct http_response *res, uint64_t seq)
{
	char *text;
	size_t n;
	if (audit_receipt(a->audit, req->who.insz, seq, &text, &n,
			  &res->err) != 0)
		return -1;
	res->text = text;
	res->text_len = n;
	res->content_type = "text/plain; charset=utf-8";
	return 0;
}

/* The proof that an event about the caller is in the log (by its seq, as
 * the access log lists it). */
int api_me_access_proof(struct http_request *req, struct http_response *res,
			void *app)
{
	uint64_t seq;
	if (api_parse_u64(req->params[0], "seq", true, &seq, &res->err) != 0)
		return err_set(&res->err, ERR_NOT_FOUND, "unknown_event",
			       "no event of yours has this number");
	return send_receipt(app, req, res, seq);
}

/* The same, found by an exchange's ticket (the one its answer carried). */
int api_me_access_proof_by_ticket(struct http_request *req,
				  struct http_response *res, void *app)
{
	struct app *a = app;
	const char *ticket = http_query(req, "ticket");
	if (!ticket || !uuid_valid(ticket))
		return err_set(&res->err, ERR_INVALID, "invalid_field",
			       "ticket: the UUID an exchange answered with");
	struct audit_filter f = {.subject = req->who.insz, .ticket = ticket,
				 .limit = 1};
	struct audit_record *r;
	int n;
	bool more;
	uint64_t next;
	if (audit_query(a->audit, &f, &r, &n, &more, &next, &res->err) != 0)
		return -1;
	uint64_t seq = n ? r[0].seq : 0;
	free(r);
	if (!n)
		return err_set(&res->err, ERR_NOT_FOUND, "unknown_event",
			       "no event of yours has this ticket");
	return send_receipt(a, req, res, seq);
}
