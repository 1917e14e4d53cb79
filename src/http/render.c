/*
 * Responses: the handler's JSON or text, or an RFC 9457 problem document
 * when it carries an error, with the headers every answer has.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"

/* Every 429 and 503 says when to come back (RFC 9110 §10.2.3): the
 * seconds the domain named in the problem's retry_after, or else one
 * second (a per-address rate, a cap on requests in flight) or, for a
 * database that is away (a failover takes a few seconds), two. */
static void add_retry_after(struct request *rq, struct MHD_Response *r)
{
	const struct http_response *res = &rq->res;
	bool limited = res->err.kind == ERR_RATE_LIMITED || res->status == 429;
	bool away = res->err.kind == ERR_UNAVAILABLE || res->status == 503;
	if (!limited && !away)
		return;
	json_int_t secs = limited ? 1 : 2;
	json_t *v = res->problem_extra
		    ? json_object_get(res->problem_extra, "retry_after") : NULL;
	if (json_is_integer(v) && json_integer_value(v) > 0)
		secs = json_integer_value(v);
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)secs);
	MHD_add_response_header(r, "Retry-After", text);
}

void render_headers(struct request *rq, struct MHD_Response *r,
		    const char *content_type, const char *csp,
		    const char *cache)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, "X-Request-Id", rq->req.request_id);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
				rq->res.err.kind == ERR_NONE && cache
					? cache : "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	/* A page we open is never scripted by the window that opened it. */
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	if (rq->l->cfg->tls)
		MHD_add_response_header(r, "Strict-Transport-Security",
					"max-age=31536000");
	/* libmicrohttpd closes the connection after an answer that says so. */
	if (rq->close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

static void add_common_headers(struct request *rq, struct MHD_Response *r,
			       const char *content_type)
{
	/* Answers carry personal data: never cached by anyone, unless the
	 * handler says a successful answer is public (the log's tiles). No
	 * answer is a page: nothing in one may load, run or be framed
	 * (clickjacking), and no URL (paths can carry an INSZ) leaks to
	 * another site through a Referer. */
	render_headers(rq, r, content_type,
		       "default-src 'none'; frame-ancestors 'none'",
		       rq->res.cache_control);
	if (rq->res.ticket[0])
		MHD_add_response_header(r, "X-Kruispunt-Ticket", rq->res.ticket);
	/* A cookie goes out with the answer it belongs to, also a refusal
	 * (a logout whose session had ended still clears it). */
	for (int i = 0; i < HTTP_SET_COOKIES; i++)
		if (rq->res.set_cookie[i][0])
			MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE,
						rq->res.set_cookie[i]);
	if (rq->res.location && rq->res.err.kind == ERR_NONE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION,
					rq->res.location);
	if (rq->res.www_authenticate)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					rq->res.www_authenticate);
	add_retry_after(rq, r);
}

/* Turn rq->res into bytes: a problem document when it carries an error.
 * The caller frees the bytes (render_send hands them to libmicrohttpd). */
static char *render(struct request *rq, int *status, size_t *len,
		    const char **ctype)
{
	struct http_response *res = &rq->res;
	if (res->err.kind != ERR_NONE) {
		*status = res->status >= 400 ? res->status
					     : http_status_for(res->err.kind);
		*ctype = "application/problem+json";
		char instance[UUID_LEN + 32];
		snprintf(instance, sizeof(instance), "urn:kruispunt:request:%s",
			 rq->req.request_id);
		char *body = problem_render(*status, http_status_title(*status),
					    &res->err, instance,
					    res->problem_extra);
		*len = strlen(body);
		return body;
	}
	*status = res->status ? res->status : 200;
	*ctype = res->content_type ? res->content_type : "application/json";
	if (res->text) {
		char *body = res->text;
		*len = res->text_len ? res->text_len : strlen(body);
		res->text = NULL;
		return body;
	}
	if (res->json) {
		char *body = jsonx_dump(res->json);
		*len = strlen(body);
		return body;
	}
	*len = 0;
	return xstrdup("");
}

enum MHD_Result render_send(struct request *rq)
{
	int status;
	size_t len;
	const char *ctype;
	char *body = render(rq, &status, &len, &ctype);
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);
	add_common_headers(rq, r, ctype);
	enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)status, r);
	MHD_destroy_response(r);
	rq->status = status;
	return ret;
}

static void cookie_set(struct http_response *res, const char *name,
		       const char *value, int64_t max_age_s,
		       const char *same_site)
{
	int i = 0;
	while (i < HTTP_SET_COOKIES - 1 && res->set_cookie[i][0])
		i++;
	if (!value || max_age_s <= 0)
		value = "", max_age_s = 0;
	snprintf(res->set_cookie[i], sizeof(res->set_cookie[i]),
		 "%s=%s; Path=/; Max-Age=%lld; Secure; HttpOnly; "
		 "SameSite=%s", name, value, (long long)max_age_s, same_site);
}

void http_cookie_set(struct http_response *res, const char *name,
		     const char *value, int64_t max_age_s)
{
	cookie_set(res, name, value, max_age_s, "Strict");
}

void http_cookie_set_lax(struct http_response *res, const char *name,
			 const char *value, int64_t max_age_s)
{
	cookie_set(res, name, value, max_age_s, "Lax");
}

void http_session_cookie(struct http_response *res, const char *token,
			 int64_t max_age_s)
{
	http_cookie_set(res, HTTP_SESSION_COOKIE, token, max_age_s);
}

int http_redirect(struct http_response *res, const char *url)
{
	free(res->location);
	res->location = xstrdup(url);
	res->status = 303;
	return 0;
}
