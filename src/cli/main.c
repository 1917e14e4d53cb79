/*
 * kruispunt: one binary, a few subcommands (API.md "Command line").
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("usage: kruispunt COMMAND [OPTIONS]\n\n"
	      "  init --data DIR              create database, keys and config\n"
	      "  serve --config FILE          run the daemon\n"
	      "  demo --data DIR [--port N]   init + demo data + dev PKI + serve\n"
	      "  audit verify --data DIR [--public-key FILE]\n"
	      "                               check the audit log's integrity\n"
	      "  org add|grant|revoke|roles --data DIR ...  organisations, roles\n"
	      "  directory capacity|data-type|availability --data DIR ...\n"
	      "                               reference data\n"
	      "  gen --data DIR --persons N [--dossiers-per-person M] [--seed S]\n"
	      "                               synthetic data for benchmarks\n"
	      "  authz list|add --data DIR ...  list or publish authorizations\n"
	      "  config [--config FILE]       print the effective configuration\n"
	      "  version                      print the version\n",
	      out);
}

int main(int argc, char **argv)
{
	/* Everything kruispunt writes (keys, database, PKI) is private. */
	umask(077);
	/* Worker threads inherit this mask, so SIGINT and SIGTERM reach only
	 * the main thread's sigwait(), which then shuts down in order. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (crypto_setup() != 0) {
		log_error("libsodium cannot initialise");
		return 1;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "demo") == 0)
		return cmd_demo(argc - 1, argv + 1);
	if (strcmp(cmd, "directory") == 0)
		return cmd_directory(argc - 1, argv + 1);
	if (strcmp(cmd, "gen") == 0)
		return cmd_gen(argc - 1, argv + 1);
	if (strcmp(cmd, "org") == 0)
		return cmd_org(argc - 1, argv + 1);
	if (strcmp(cmd, "authz") == 0)
		return cmd_authz(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("kruispunt %s (database schema %d)\n", KP_VERSION,
		       cli_schema_latest());
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "kruispunt: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
