/*
 * Request bodies: refused by their declared length before any byte is
 * read, accumulated up to the route's limit, then handed over raw or
 * parsed as one JSON object.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_internal.h"

/* Refuse by the declared Content-Length, before reading any of it. */
bool body_declared_too_large(struct request *rq)
{
	const char *cl = http_header(&rq->req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	rq->declared = rq->body_limit;
	if (!cl)
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(cl, &end, 10);
	if (errno || end == cl || n > rq->body_limit) {
		gate_refuse(rq, 413, ERR_TOO_LARGE, "body_too_large",
			    "request body larger than this endpoint accepts");
		return true;
	}
	rq->declared = n;
	return false;
}

bool body_follows(struct request *rq)
{
	const char *cl = http_header(&rq->req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl)
		return strtoull(cl, NULL, 10) > 0;
	return http_header(&rq->req, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

struct framing {
	unsigned content_length;
	unsigned transfer_encoding;
	bool chunked_only;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind,
				     const char *key, const char *value)
{
	KP_UNUSED(kind);
	struct framing *f = cls;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->content_length++;
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encoding++;
		f->chunked_only = value && strcasecmp(value, "chunked") == 0;
	}
	return MHD_YES;
}

bool body_framing_invalid(struct request *rq)
{
	/* libmicrohttpd takes one of the lengths and goes on: a proxy in
	 * front that took the other would see a second request smuggled in
	 * this one's body. */
	struct framing f = {0, 0, false};
	MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, count_framing, &f);
	const char *why = NULL;
	if (f.content_length > 1)
		why = "more than one Content-Length";
	else if (f.content_length && f.transfer_encoding)
		why = "both Content-Length and Transfer-Encoding";
	else if (f.transfer_encoding > 1 ||
		 (f.transfer_encoding && !f.chunked_only))
		why = "a Transfer-Encoding other than chunked";
	if (!why)
		return false;
	gate_refuse(rq, 400, ERR_MALFORMED, "bad_framing", why);
	rq->close = true;
	return true;
}

/* Keep the next piece of the body, unless the request is refused already:
 * past the route's limit the buffer refuses to grow (413, also for chunked
 * bodies, which declare no length). */
void body_append(struct request *rq, const char *data, size_t n)
{
	if (!rq->refused && buf_append(&rq->body, data, n) != 0) {
		gate_refuse(rq, 413, ERR_TOO_LARGE, "body_too_large",
			    "request body larger than this endpoint accepts");
		buf_free(&rq->body);
	}
}

static bool is_json_type(const char *ct)
{
	static const char json[] = "application/json";
	if (!ct || strncasecmp(ct, json, sizeof(json) - 1) != 0)
		return false;
	char next = ct[sizeof(json) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

static bool is_form_type(const char *ct)
{
	static const char form[] = "application/x-www-form-urlencoded";
	if (!ct || strncasecmp(ct, form, sizeof(form) - 1) != 0)
		return false;
	char next = ct[sizeof(form) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

/* The form's fields as libmicrohttpd's post processor decodes them: a
 * value may arrive in pieces (off > 0), gathered in val; a key met twice
 * makes the whole form invalid. */
struct form_fields {
	json_t *obj;
	char key[128];
	struct buf val;
	bool bad;
};

static void form_flush(struct form_fields *f)
{
	if (!f->key[0])
		return;
	json_t *v = json_stringn(f->val.p ? f->val.p : "", f->val.len);
	/* A NUL inside a value would cut it short for every reader after. */
	if (f->val.len && memchr(f->val.p, '\0', f->val.len)) {
		json_decref(v);
		v = NULL;
	}
	if (!v || json_object_get(f->obj, f->key))
		f->bad = true;
	else
		json_object_set_new(f->obj, f->key, v), v = NULL;
	json_decref(v);
	f->key[0] = '\0';
	f->val.len = 0;
}

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *filename,
				  const char *ctype, const char *enc,
				  const char *data, uint64_t off, size_t size)
{
	KP_UNUSED(kind);
	KP_UNUSED(filename);
	KP_UNUSED(ctype);
	KP_UNUSED(enc);
	struct form_fields *f = cls;
	if (off == 0 || strcmp(key, f->key) != 0) {
		form_flush(f);
		if (strlen(key) >= sizeof(f->key) || !key[0]) {
			f->bad = true;
			return MHD_NO;
		}
		str_copy(f->key, sizeof(f->key), key);
	}
	if (size && buf_append(&f->val, data, size) != 0)
		f->bad = true;
	return f->bad ? MHD_NO : MHD_YES;
}

/* Decode an application/x-www-form-urlencoded body into req.json. */
static int body_form(struct request *rq)
{
	if (!is_form_type(http_header(&rq->req,
				      MHD_HTTP_HEADER_CONTENT_TYPE))) {
		gate_refuse(rq, 415, ERR_MALFORMED, "unsupported_media_type",
			    "send the body as "
			    "application/x-www-form-urlencoded");
		return -1;
	}
	struct form_fields f = {.obj = json_object()};
	buf_init(&f.val, rq->body_limit);
	struct MHD_PostProcessor *pp =
		MHD_create_post_processor(rq->conn, 1024, form_field, &f);
	if (!pp || (rq->body.len &&
		    MHD_post_process(pp, rq->body.p, rq->body.len) != MHD_YES))
		f.bad = true;
	if (pp)
		MHD_destroy_post_processor(pp);
	form_flush(&f);
	buf_free(&f.val);
	if (f.bad) {
		json_decref(f.obj);
		gate_refuse(rq, 400, ERR_MALFORMED, "invalid_request",
			    "a malformed form, or a parameter given twice");
		return -1;
	}
	rq->req.json = f.obj;
	return 0;
}

int body_prepare(struct request *rq, const struct http_route *r)
{
	if (r->body == BODY_NONE)
		return 0;
	rq->req.body = rq->body.p;
	rq->req.body_len = rq->body.len;
	if (r->body == BODY_FORM)
		return body_form(rq);
	if (r->body != BODY_JSON)
		return 0;
	/* Only JSON is accepted: a browser form cannot post it cross-site
	 * without a CORS preflight, which we never grant. */
	if (!is_json_type(http_header(&rq->req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		gate_refuse(rq, 415, ERR_MALFORMED, "unsupported_media_type",
			    "send the body as application/json");
		return -1;
	}
	if (rq->body.len == 0) {
		gate_refuse(rq, 400, ERR_MALFORMED, "malformed_json",
			    "a JSON object is required");
		return -1;
	}
	struct error e;
	rq->req.json = jsonx_parse(rq->body.p, rq->body.len, &e);
	if (!rq->req.json) {
		gate_refuse(rq, 400, ERR_MALFORMED, "malformed_json", e.detail);
		return -1;
	}
	if (!json_is_object(rq->req.json)) {
		gate_refuse(rq, 400, ERR_MALFORMED, "malformed_json",
			    "the body must be a JSON object");
		return -1;
	}
	return 0;
}
