/*
 * provider: a tiny authentic source for the demo and the tests — what a
 * health insurance fund, a family allowance fund or a welfare centre runs
 * behind the hub. It answers the hub's POST /providers/<kbo> over HTTPS,
 * only to a client whose certificate chains to the network CA (the hub),
 * with data derived from the subject's number, so answers are stable.
 *
 *   provider PORT CERT KEY CA [--delay-ms N]
 *
 * Prints "listening on PORT" once ready (PORT 0: the kernel picks).
 * --delay-ms makes every answer late, to see the hub's timeout. A data
 * type it does not keep answers 404.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>

#include "upload.h"

static long delay_ms;

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *p = calloc(1, 1 << 20);
	size_t n = p ? fread(p, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (p && n == 0) {
		free(p);
		p = NULL;
	}
	return p;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
			      json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		text = strdup("{}");
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Only the hub may ask: its certificate must verify against the CA. */
static int client_verified(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return 0;
	gnutls_session_t s = ci->tls_session;
	unsigned status = 1;
	unsigned n = 0;
	if (!gnutls_certificate_get_peers(s, &n) || n == 0)
		return 0;
	return gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}

/* Stable demo data from the subject's digits. Amounts in euro cents:
 * money is never a binary fraction. */
static json_t *data_for(const char *kbo, const char *type, const char *insz)
{
	unsigned h = 0;
	for (const char *p = insz; *p; p++)
		h = h * 31 + (unsigned)*p;
	if (strcmp(type, "family_allowance") == 0)
		return json_pack("{s:b,s:i,s:i,s:s,s:s}", "entitled", 1,
				 "children", 1 + (int)(h % 3),
				 "monthly_amount_cents", 17320 * (1 + (int)(h % 3)),
				 "since", "2024-01-01", "fund", kbo);
	if (strcmp(type, "health_insurance_rights") == 0)
		return json_pack("{s:b,s:s,s:s,s:b}", "insured", 1, "fund", kbo,
				 "status", h % 2 ? "holder" : "dependent",
				 "increased_reimbursement", h % 5 == 0);
	if (strcmp(type, "integration_income") == 0)
		return json_pack("{s:b,s:s,s:i}", "beneficiary", h % 2 == 0,
				 "category", "single", "monthly_amount_cents",
				 126317);
	return NULL;
}

static enum MHD_Result serve(struct MHD_Connection *c, const char *url,
			     struct upload *u)
{
	if (!client_verified(c))
		return answer(c, MHD_HTTP_FORBIDDEN,
			      json_pack("{s:s}", "error", "client certificate"));
	const char *kbo = strncmp(url, "/providers/", 11) == 0 ? url + 11 : NULL;
	json_error_t je;
	json_t *q = kbo && !u->too_big ? json_loadb(u->buf, u->len, 0, &je) : NULL;
	const char *type = json_string_value(json_object_get(q, "data_type"));
	const char *insz = json_string_value(json_object_get(q, "subject"));
	if (!type || !insz) {
		json_decref(q);
		return answer(c, MHD_HTTP_BAD_REQUEST,
			      json_pack("{s:s}", "error", "bad request"));
	}
	char today[11];
	time_t now = time(NULL);
	struct tm tm;
	strftime(today, sizeof(today), "%Y-%m-%d", gmtime_r(&now, &tm));
	if (delay_ms > 0) {
		struct timespec t = {delay_ms / 1000, (delay_ms % 1000) * 1000000};
		nanosleep(&t, NULL);
	}
	/* This source keeps only current data: a past reference date would
	 * be answered with today's, so it refuses it (the hub maps the code). */
	const char *ref = json_string_value(json_object_get(q, "reference_date"));
	if (ref && strcmp(ref, today) < 0) {
		json_decref(q);
		return answer(c, 422,
			      json_pack("{s:s}", "error",
					"reference_date_unsupported"));
	}
	json_t *d = data_for(kbo, type, insz);
	json_t *body = d ? json_pack("{s:o,s:O}", "data", d, "ticket",
				     json_object_get(q, "ticket"))
			 : json_pack("{s:s}", "error", "no such data here");
	json_decref(q);
	return answer(c, d ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, body);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *data,
			      size_t *size, void **state)
{
	(void)cls;
	(void)version;
	if (strcmp(method, "POST") != 0)
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, json_object());
	enum MHD_Result ret;
	struct upload *u = upload_gather(state, data, size, &ret);
	if (!u)
		return ret;
	return serve(c, url, u);
}

int main(int argc, char **argv)
{
	if (argc != 5 && !(argc == 7 && strcmp(argv[5], "--delay-ms") == 0)) {
		fprintf(stderr, "usage: provider PORT CERT KEY CA [--delay-ms N]\n");
		return 2;
	}
	delay_ms = argc == 7 ? atol(argv[6]) : 0;
	char *cert = read_file(argv[2]), *key = read_file(argv[3]),
	     *ca = read_file(argv[4]);
	if (!cert || !key || !ca) {
		fprintf(stderr, "provider: cannot read the certificate files\n");
		return 1;
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			MHD_USE_TLS,
		0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&sa, MHD_OPTION_HTTPS_MEM_CERT, cert,
		MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_TRUST, ca,
		MHD_OPTION_NOTIFY_COMPLETED, upload_free, NULL, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "provider: cannot listen\n");
		return 1;
	}
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("listening on %u\n", info ? info->port : 0);
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	free(cert);
	free(key);
	free(ca);
	return 0;
}
