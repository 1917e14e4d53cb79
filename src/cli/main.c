/*
 * kruispunt: one binary, a few subcommands (docs/API.md, "Command line").
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

/* `kruispunt COMMAND --help` (or -h) anywhere among its arguments: the
 * command's usage, not a usage error. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
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
		cli_help_overview(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		cmd = "help";
	else if (strcmp(cmd, "--version") == 0)
		cmd = "version";
	const struct cli_command *c = cli_command_find(cmd);
	if (!c) {
		fprintf(stderr, "kruispunt: unknown command '%s'\n", cmd);
		cli_help_overview(stderr);
		return 2;
	}
	if (wants_help(argc, argv))
		return cli_help(c->name, stdout) == 0 ? 0 : 2;
	return c->run(argc - 1, argv + 1);
}
