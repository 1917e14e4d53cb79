/*
 * PostgreSQL's own tools as child processes: pg_dump writes a backup's
 * database, pg_restore reads it back. They run without a shell
 * (posix_spawnp, an argument vector), their data flows through a pipe
 * (the clear dump never touches the disk), and the database's password
 * reaches them in their own environment only: an argument would be
 * readable by every user of the machine (ps), a file would be one more
 * copy of the secret. Their stderr goes to an unlinked temporary file,
 * from which the first error line becomes the one line the operator sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "backup/backup.h"

extern char **environ;

#define PASSWORD_VAR "PGPASSWORD="
/* The error line quoted to the operator: one line, bounded. */
#define TOOL_LINE_MAX 240

/* environ, with PGPASSWORD=password in place of any PGPASSWORD when a
 * password is given: a new array whose last string is then the caller's
 * to wipe and free, with the array (env_free). Without one the operator's
 * own PGPASSWORD stays: the parent's libpq connected with it, and the
 * child must connect as the parent did. */
static char **child_env(const char *password)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = xcalloc(n + 2, sizeof(*env));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!password ||
		    strncmp(environ[i], PASSWORD_VAR, strlen(PASSWORD_VAR)) != 0)
			env[k++] = environ[i];
	if (password) {
		size_t len = strlen(PASSWORD_VAR) + strlen(password) + 1;
		env[k] = xmalloc(len);
		snprintf(env[k], len, "%s%s", PASSWORD_VAR, password);
		k++;
	}
	env[k] = NULL;
	return env;
}

static void env_free(char **env, const char *password)
{
	size_t k = 0;
	while (env[k])
		k++;
	if (password && k > 0) {
		sodium_memzero(env[k - 1], strlen(env[k - 1]));
		free(env[k - 1]);
	}
	free(env);
}

static int spawn(struct backup_tool *t, const char *const *argv, bool feed,
		 const int pipefd[2], const char *password)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (feed) {
		posix_spawn_file_actions_adddup2(&fa, pipefd[0], 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
						 0);
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
						 0);
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	}
	posix_spawn_file_actions_adddup2(&fa, t->err, 2);
	/* The command line may block signals; the tool must not inherit
	 * that, or SIGTERM (backup_tool_kill) would not stop it. */
	posix_spawnattr_t at;
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	char **env = child_env(password);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, &at,
			      (char *const *)(uintptr_t)argv, env);
	env_free(env, password);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	t->pid = rc == 0 ? pid : -1;
	return rc;
}

int backup_tool_start(struct backup_tool *t, const char *const *argv,
		      bool feed, const char *password, struct error *e)
{
	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->fd = -1;
	str_copy(t->name, sizeof(t->name), argv[0]);
	char tmp[] = "/tmp/kruispunt-tool-XXXXXX";
	int pipefd[2];
	t->err = mkostemp(tmp, O_CLOEXEC);
	if (t->err < 0)
		return err_set(e, ERR_INTERNAL, "backup_io_failed",
			       "cannot create a temporary file: %s",
			       strerror(errno));
	unlink(tmp);
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		close(t->err);
		return err_set(e, ERR_INTERNAL, "backup_io_failed",
			       "cannot make a pipe: %s", strerror(errno));
	}
	int rc = spawn(t, argv, feed, pipefd, password);
	close(pipefd[feed ? 0 : 1]);
	t->fd = pipefd[feed ? 1 : 0];
	if (rc == 0)
		return 0;
	close(t->fd);
	close(t->err);
	t->fd = -1;
	if (rc == ENOENT)
		return err_set(e, ERR_INVALID, "backup_tool_missing",
			       "%s is not installed: install PostgreSQL's "
			       "client tools (Debian: postgresql-client)",
			       argv[0]);
	return err_set(e, ERR_INTERNAL, "backup_tool_failed",
		       "cannot run %s: %s", argv[0], strerror(rc));
}

/* The first line of the child's stderr that says "error" (else its first
 * line), printable characters only, into out. */
static void first_error(int fd, char *out, size_t n)
{
	char buf[4096];
	ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[got > 0 ? got : 0] = '\0';
	char *line = strstr(buf, "error:");
	if (line)
		while (line > buf && line[-1] != '\n')
			line--;
	else
		line = buf;
	size_t k = 0;
	for (; *line && *line != '\n' && k + 1 < n; line++)
		if ((unsigned char)*line >= 0x20 && *line != 0x7f)
			out[k++] = *line;
	out[k] = '\0';
}

int backup_tool_wait(struct backup_tool *t, struct error *e)
{
	if (t->pid < 0)
		return err_set(e, ERR_INTERNAL, "backup_tool_failed",
			       "%s is not running", t->name);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	int status = 0;
	while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR)
		;
	char line[TOOL_LINE_MAX];
	first_error(t->err, line, sizeof(line));
	close(t->err);
	/* Reaped: a later backup_tool_kill must not signal a pid the system
	 * may already have given to another process. */
	t->pid = -1;
	t->err = -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return err_set(e, ERR_UNAVAILABLE, "backup_tool_failed",
		       "%s failed: %s", t->name,
		       line[0] ? line : "no message (killed?)");
}

void backup_tool_kill(struct backup_tool *t)
{
	if (t->pid < 0)
		return;
	kill(t->pid, SIGTERM);
	struct error ignored;
	(void)backup_tool_wait(t, &ignored);
}
