/*
 * audit_load DATA_DIR THREADS COUNT: append COUNT events per thread to the
 * audit log of a kruispunt data directory (COUNT 0: until killed), through
 * the real src/audit, and print each sequence number on stdout once
 * audit_append has acknowledged it. The end-to-end tests use it to fill a
 * log, and kill it with SIGKILL mid-load to check that no acknowledged
 * event is lost. The database is DATA_DIR/kruispunt.db, or, as for the
 * kruispunt command, the URL in KRUISPUNT_STORE_URL when
 * KRUISPUNT_STORE_BACKEND is postgresql.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/modules.h"

static struct audit *log_;
static long count;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *subjects[] = {"85073003328", "12090311839", "90031524651",
				 "92510405775"};
static const char *actors[] = {"0411111140", "0722222210", "0212312313"};

static void *worker(void *arg)
{
	long id = (long)(intptr_t)arg;
	for (long i = 0; count == 0 || i < count; i++) {
		long k = id * 1000003 + i;
		struct audit_event ev = {
			.channel = AUDIT_CHANNEL_NETWORK,
			.actor = actors[k % 3],
			.subject = subjects[k % 4],
			.action = "exchange",
			.data_type = "identification",
			.purpose = "test_load",
			.legal_basis = "IVC/KSZG/26/071",
			.outcome = k % 5 ? AUDIT_GRANTED : AUDIT_REFUSED,
			.reason = k % 5 ? NULL : "no_dossier",
		};
		uint64_t seq;
		struct error e;
		if (audit_append(log_, &ev, &seq, &e) != 0) {
			fprintf(stderr, "audit_load: %s\n", e.detail);
			exit(1);
		}
		char line[32];
		int n = snprintf(line, sizeof(line), "%llu\n",
				 (unsigned long long)seq);
		pthread_mutex_lock(&out_mu);
		if (write(STDOUT_FILENO, line, (size_t)n) != n)
			exit(1);
		pthread_mutex_unlock(&out_mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: audit_load DATA_DIR THREADS COUNT\n");
		return 2;
	}
	long threads = strtol(argv[2], NULL, 10);
	count = strtol(argv[3], NULL, 10);
	char path[1024];
	uint8_t sk[ED25519_SK_LEN];
	snprintf(path, sizeof(path), "%s/keys/audit-signing.key", argv[1]);
	int fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, sk, sizeof(sk)) != (ssize_t)sizeof(sk)) {
		fprintf(stderr, "audit_load: cannot read %s\n", path);
		return 1;
	}
	close(fd);
	struct store *s;
	struct error e;
	const char *backend = getenv("KRUISPUNT_STORE_BACKEND");
	const char *url = getenv("KRUISPUNT_STORE_URL");
	if (backend && strcmp(backend, "postgresql") == 0 && url)
		snprintf(path, sizeof(path), "%s", url);
	else
		snprintf(path, sizeof(path), "%s/kruispunt.db", argv[1]);
	log_set_level(LV_WARN);
	if (crypto_setup() != 0 || cli_store_open(path, NULL, &s, &e) != 0 ||
	    audit_open(s, sk, NULL, &log_, &e) != 0) {
		fprintf(stderr, "audit_load: %s\n", e.detail);
		return 1;
	}
	pthread_t t[256];
	if (threads < 1 || threads > 256)
		return 2;
	for (long i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	for (long i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	audit_close(log_);
	store_close(s);
	return 0;
}
