/*
 * `kruispunt witness serve`: one HTTPS listener, one route. The answers
 * are tlog-witness's own (plain text, the statuses it fixes, the
 * text/x.tlog.size body of a 409 that names the size cosigned); only
 * failures the specification does not name (an unreadable body, the
 * database) are problem+json, as everywhere else.
 */
#include <stdio.h>
#include <string.h>

#include "witness/witness.h"

static int reply(struct http_response *res, int status, const char *type,
		 const char *text)
{
	size_t n = strlen(text);
	res->status = status;
	res->content_type = type;
	res->text = xmalloc(n + 1);
	memcpy(res->text, text, n + 1);
	res->text_len = n;
	return 0;
}

/* The statuses tlog-witness gives each outcome. */
static const int status_of[] = {
	[WITNESS_COSIGNED] = 200,      [WITNESS_MALFORMED] = 400,
	[WITNESS_UNKNOWN_LOG] = 404,   [WITNESS_BAD_SIGNATURE] = 403,
	[WITNESS_OLD_TOO_LARGE] = 400, [WITNESS_OLD_MISMATCH] = 409,
	[WITNESS_BAD_PROOF] = 422,     [WITNESS_FORK] = 409,
	[WITNESS_FAILED] = 503,
};

static int add_checkpoint(struct http_request *req, struct http_response *res,
			  void *app)
{
	struct witness_answer ans;
	enum witness_outcome out =
		witness_add_checkpoint(app, req->body, req->body_len, &ans);
	char text[WITNESS_COSIG_LINE_MAX + 1];
	switch (out) {
	case WITNESS_COSIGNED:
		snprintf(text, sizeof(text), "%s\n", ans.text);
		return reply(res, 200, "text/plain; charset=utf-8", text);
	case WITNESS_OLD_MISMATCH:
		snprintf(text, sizeof(text), "%llu\n",
			 (unsigned long long)ans.size);
		return reply(res, 409, "text/x.tlog.size", text);
	case WITNESS_MALFORMED:
		return err_set(&res->err, ERR_MALFORMED, "invalid_body", "%s",
			       ans.detail);
	case WITNESS_FAILED:
		return store_fail(&res->err, "the witness cannot record now");
	default:
		snprintf(text, sizeof(text), "%s\n", ans.detail);
		return reply(res, status_of[out], "text/plain; charset=utf-8",
			     text);
	}
}

static const struct http_route routes[] = {
	{METHOD_POST, "/add-checkpoint", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_RAW, WITNESS_BODY_MAX, add_checkpoint},
};

int witness_serve_start(struct witness *w, const struct witness_listen *l,
			struct http_server **out, struct error *e)
{
	/* The server keeps a pointer to its configuration: one witness server
	 * per process, so it can live here. */
	static struct http_config cfg;
	const struct config_table t = {http_config_keys, http_config_nkeys,
				       &cfg};
	config_defaults(&t, 1);
	cfg.network_listener.enabled = false;
	struct listener_config *lc = &cfg.public_listener;
	lc->enabled = true;
	lc->tls = true;
	lc->port = l->port;
	lc->client_cert = CLIENT_CERT_NONE;
	lc->behind_proxy = false;
	lc->client_ca[0] = lc->crl[0] = '\0';
	if (!str_copy(lc->address, sizeof(lc->address), l->address) ||
	    !str_copy(lc->tls_cert, sizeof(lc->tls_cert), l->cert) ||
	    !str_copy(lc->tls_key, sizeof(lc->tls_key), l->key))
		return err_set(e, ERR_INVALID, "config_invalid",
			       "a listener setting is too long");
	struct http_server_options opt = {
		.cfg = &cfg,
		.data_dir = ".",
		.routes = routes,
		.nroutes = KP_NELEM(routes),
		.app = w,
	};
	return http_server_start(&opt, out, e);
}
