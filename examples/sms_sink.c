/*
 * sms_sink PORT DIR: a local SMS gateway for the demo and the tests. It
 * takes what kruispunt's notify worker posts to notify.sms_url —
 * POST / with {"to": "+32...", "text": "..."} — and stores each message as
 * DIR/<n>.json, so a test reads what the phone would have shown. Loopback
 * only, no authentication: a sink, not a gateway. Prints "listening on
 * PORT" once ready (PORT 0: the kernel picks). With a file DIR/.fail
 * present it answers 503, so tests can see the outbox retry.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "upload.h"

static const char *dir;
static int counter;

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
			      const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* The message as received, if it has a "to" and a "text". */
static unsigned store(const struct upload *u)
{
	char path[4096], tmp[4200], flag[4096];
	snprintf(flag, sizeof(flag), "%s/.fail", dir);
	if (access(flag, F_OK) == 0)
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	json_error_t je;
	json_t *j = json_loadb(u->buf, u->len, 0, &je);
	const char *to = j ? json_string_value(json_object_get(j, "to")) : NULL;
	const char *text = j ? json_string_value(json_object_get(j, "text")) : NULL;
	unsigned status = MHD_HTTP_BAD_REQUEST;
	if (to && text) {
		snprintf(path, sizeof(path), "%s/%06d.json", dir, ++counter);
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		/* appears whole or not at all */
		if (json_dump_file(j, tmp, JSON_SORT_KEYS) == 0 &&
		    rename(tmp, path) == 0)
			status = MHD_HTTP_OK;
		else
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	json_decref(j);
	return status;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *data,
			      size_t *size, void **state)
{
	(void)cls;
	(void)url;
	(void)version;
	if (strcmp(method, "POST") != 0)
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{}");
	enum MHD_Result ret;
	struct upload *u = upload_gather(state, data, size, &ret);
	if (!u)
		return ret;
	if (u->too_big)
		return answer(c, MHD_HTTP_CONTENT_TOO_LARGE, "{}");
	unsigned status = store(u);
	return answer(c, status, status == MHD_HTTP_OK ? "{\"status\":\"sent\"}"
						      : "{\"status\":\"failed\"}");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sms_sink PORT DIR\n");
		return 2;
	}
	dir = argv[2];
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Blocked before the server thread starts, so only sigwait sees
	 * them and the server stops cleanly. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_NOTIFY_COMPLETED, upload_free, NULL, MHD_OPTION_END);
	if (!d) {
		perror("sms_sink");
		return 1;
	}
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("listening on %u\n", info ? info->port : 0);
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
