/* The hub on the network listener (docs/API.md, "Network API"): exchanges, batches and
 * mailboxes. The caller is the institution its client certificate names;
 * src/hub decides, routes and audits. Every exchange answer, refusals
 * included, carries its ticket in the body and in X-Kruispunt-Ticket. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "hub/hub.h"

static struct hub_requester requester(const struct http_request *req)
{
	return (struct hub_requester){
		req->who.institution_id, req->who.kbo, req->who.actor_type,
		req->who.branch,
		req->who.on_behalf_of[0] ? req->who.on_behalf_of : NULL};
}

/* On the audit log's thread: the event is durable; answer. */
static void exchange_done(void *ctx, int rc, json_t *data,
			  const char *legal_basis, const struct error *e)
{
	struct http_deferred *d = ctx;
	struct http_response *res = http_deferred_response(d);
	if (rc == 0) {
		http_reply_json(res, 200,
				json_pack("{s:s,s:s,s:o}", "ticket", res->ticket,
					  "legal_basis", legal_basis, "data",
					  data));
	} else {
		res->err = *e;
		res->problem_extra = json_pack("{s:s}", "ticket", res->ticket);
	}
	http_resume(d);
}

/* With the connection suspended: decide and route now, answer when the
 * audit event is durable, holding no thread meanwhile. */
static void exchange_start(struct http_request *req, struct http_deferred *d,
			   void *app)
{
	struct app *a = app;
	struct hub_requester who = requester(req);
	hub_exchange_async(a->hub, &who, AUDIT_CHANNEL_NETWORK,
			   req->body ? req->body : "", req->body_len,
			   http_deferred_response(d)->ticket, exchange_done, d);
}

int api_exchange(struct http_request *req, struct http_response *res,
		 void *app)
{
	KP_UNUSED(req);
	res->defer = exchange_start;
	res->defer_ctx = app;
	return 0;
}

int api_exchange_batch(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	/* A batch is the system's own work, run line by line later: no one
	 * person stands behind its lines, so none is claimed. */
	if (req->who.on_behalf_of[0])
		return err_set(&res->err, ERR_INVALID,
			       "on_behalf_of_unsupported",
			       "a batch names no person: send the lines as "
			       "exchanges to name one, or the batch without "
			       HTTP_ON_BEHALF_OF);
	struct hub_requester who = requester(req);
	char job[UUID_LEN];
	if (hub_batch_submit(a->hub, &who, req->body ? req->body : "",
			     req->body_len, job, &res->err) != 0)
		return -1;
	char status[LIMIT_URL];
	snprintf(status, sizeof(status), "/api/v1/exchange/batch/%s", job);
	return http_reply_json(res, 202,
			       json_pack("{s:s,s:s}", "job", job, "status_url",
					 status));
}

int api_batch_status(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	struct hub_batch_status s;
	if (hub_batch_status(a->hub, req->who.institution_id, req->params[0], &s,
			     &res->err) != 0)
		return -1;
	char created[RFC3339_LEN], finished[RFC3339_LEN];
	time_format_rfc3339(s.created_at, created);
	json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:s}", "job", s.job,
			      "status", s.status, "total", (json_int_t)s.total,
			      "done", (json_int_t)s.done, "granted",
			      (json_int_t)s.granted, "refused",
			      (json_int_t)s.refused, "created_at", created);
	if (s.finished_at) {
		time_format_rfc3339(s.finished_at, finished);
		json_object_set_new(j, "finished_at", json_string(finished));
	}
	return http_reply_json(res, 200, j);
}

int api_batch_results(struct http_request *req, struct http_response *res,
		      void *app)
{
	struct app *a = app;
	if (hub_batch_results(a->hub, req->who.institution_id, req->params[0],
			      &res->text, &res->text_len, &res->err) != 0)
		return -1;
	res->content_type = "application/x-ndjson";
	res->status = 200;
	return 0;
}

int api_mailbox(struct http_request *req, struct http_response *res,
		void *app)
{
	struct app *a = app;
	uint64_t after = 0, limit = 100;
	if (api_query_u64(req, "after", false, &after, &res->err) < 0 ||
	    api_query_u64(req, "limit", false, &limit, &res->err) < 0)
		return -1;
	if (limit < 1 || limit > 1000)
		return err_set(&res->err, ERR_INVALID, "invalid_field",
			       "limit: 1 to 1000");
	if (after > INT64_MAX)
		return err_set(&res->err, ERR_INVALID, "invalid_field",
			       "after: a message id, at most %lld",
			       (long long)INT64_MAX);
	struct hub_message *m;
	int n;
	int64_t next;
	if (hub_mailbox(a->hub, req->who.institution_id, (int64_t)after,
			(int)limit, &m, &n, &next, &res->err) != 0)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		char at[RFC3339_LEN];
		json_error_t je;
		time_format_rfc3339(m[i].created_at, at);
		json_array_append_new(
			arr, json_pack("{s:I,s:s,s:s,s:s,s:o,s:s}", "id",
				       (json_int_t)m[i].id, "ticket", m[i].ticket,
				       "type", m[i].type, "subject",
				       m[i].subject, "data",
				       json_loads(m[i].data, 0, &je), "created_at",
				       at));
	}
	hub_messages_free(m, n);
	return http_reply_json(res, 200,
			       json_pack("{s:o,s:I}", "messages", arr, "next",
					 (json_int_t)next));
}

int api_mailbox_ack(struct http_request *req, struct http_response *res,
		    void *app)
{
	struct app *a = app;
	int64_t up_to;
	if (jsonx_int(req->json, "up_to", true, 0, INT64_MAX, &up_to,
		      &res->err) != 0)
		return -1;
	struct hub_requester who = requester(req);
	if (hub_mailbox_ack(a->hub, &who, up_to, &res->err) < 0)
		return -1;
	res->status = 204;
	return 0;
}
