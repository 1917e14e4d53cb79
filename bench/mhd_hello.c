/*
 * The baseline for bench/http_baseline.sh: the smallest correct
 * libmicrohttpd server, with the same threading model as kruispunt (epoll,
 * thread pool of one thread per core) and the same keep-alive handling
 * (answer on the second call, see docs/DESIGN.md, pitfall 1).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static const char body[] = "{\"status\":\"ok\"}";

static enum MHD_Result hello(void *cls, struct MHD_Connection *c,
			     const char *url, const char *method,
			     const char *version, const char *upload,
			     size_t *upload_size, void **con_cls)
{
	static int marker;
	struct MHD_Response *r = cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	/* A POST body arrives in calls of its own: take it, answer after. */
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	return MHD_queue_response(c, MHD_HTTP_OK, r);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mhd_hello PORT\n");
		return 2;
	}
	long port = strtol(argv[1], NULL, 10);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
		(uint16_t)port, NULL, NULL, hello, r,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(cores > 0 ? cores : 1),
		MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "mhd_hello: cannot listen on %ld\n", port);
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sig;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(r);
	return 0;
}
