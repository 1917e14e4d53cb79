/*
 * The operator's secret for a backup: a key file or a passphrase, read
 * from a file (never from the command line, where any user of the machine
 * sees it in the process list) or, for automation, from the environment.
 * Never logged; wiped after use.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "backup/backup.h"

/* Up to max bytes of the file at path into out; *n its length. A file
 * longer than max is refused (it is no key and no passphrase). */
static int read_small(const char *path, char *out, size_t max, size_t *n,
		      struct error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_INVALID, "backup_key_missing",
			       "cannot read %s: %s", path, strerror(errno));
	size_t len = 0;
	ssize_t r;
	while ((r = read(fd, out + len, max + 1 - len)) > 0 &&
	       (len += (size_t)r) <= max)
		;
	close(fd);
	if (r < 0 || len > max)
		return err_set(e, ERR_INVALID, "backup_key_invalid",
			       "%s is not a key or passphrase file "
			       "(unreadable or longer than %zu bytes)",
			       path, max);
	*n = len;
	return 0;
}

int backup_secret_key_file(const char *path, struct backup_secret *sec,
			   struct error *e)
{
	memset(sec, 0, sizeof(*sec));
	char text[2 * BACKUP_KEY_LEN + 2];
	size_t n;
	if (read_small(path, text, sizeof(text) - 1, &n, e) != 0)
		return -1;
	size_t hex = 2 * BACKUP_KEY_LEN;
	int rc = -1;
	if (n == BACKUP_KEY_LEN) {
		memcpy(sec->key, text, BACKUP_KEY_LEN);
		rc = 0;
	} else if (n == hex || (n == hex + 1 && text[hex] == '\n')) {
		rc = hex_decode(text, hex, sec->key, BACKUP_KEY_LEN);
	}
	secret_wipe(text, sizeof(text));
	if (rc != 0)
		return err_set(e, ERR_INVALID, "backup_key_invalid",
			       "%s is not a backup key (32 bytes, raw or as "
			       "64 hex digits)", path);
	return 0;
}

int backup_secret_passphrase(const char *text, struct backup_secret *sec,
			     struct error *e)
{
	memset(sec, 0, sizeof(*sec));
	size_t n = strnlen(text, BACKUP_PASSPHRASE_MAX + 1);
	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (n == 0 || n > BACKUP_PASSPHRASE_MAX)
		return err_set(e, ERR_INVALID, "backup_key_invalid",
			       "the passphrase must have 1 to %d bytes",
			       BACKUP_PASSPHRASE_MAX);
	sec->passphrase = true;
	memcpy(sec->pass, text, n);
	sec->pass_len = n;
	return 0;
}

int backup_secret_passphrase_file(const char *path, struct backup_secret *sec,
				  struct error *e)
{
	char text[BACKUP_PASSPHRASE_MAX + 2];
	size_t n;
	if (read_small(path, text, BACKUP_PASSPHRASE_MAX + 1, &n, e) != 0)
		return -1;
	text[n] = '\0';
	int rc = strlen(text) == n ? backup_secret_passphrase(text, sec, e)
				   : err_set(e, ERR_INVALID,
					     "backup_key_invalid",
					     "%s holds a NUL byte", path);
	secret_wipe(text, sizeof(text));
	return rc;
}

void backup_secret_wipe(struct backup_secret *sec)
{
	secret_wipe(sec, sizeof(*sec));
}

int backup_key_generate(const char *path, struct error *e)
{
	uint8_t key[BACKUP_KEY_LEN];
	char hex[2 * BACKUP_KEY_LEN + 2];
	rand_bytes(key, sizeof(key));
	hex_encode(key, sizeof(key), hex);
	hex[2 * BACKUP_KEY_LEN] = '\n';
	secret_wipe(key, sizeof(key));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		secret_wipe(hex, sizeof(hex));
		return err_set(e, ERR_INVALID, "backup_key_exists",
			       "cannot create %s: %s", path, strerror(errno));
	}
	ssize_t w = write(fd, hex, 2 * BACKUP_KEY_LEN + 1);
	secret_wipe(hex, sizeof(hex));
	int rc = w == 2 * BACKUP_KEY_LEN + 1 && fsync(fd) == 0 ? 0 : -1;
	close(fd);
	if (rc != 0) {
		unlink(path);
		return err_set(e, ERR_INTERNAL, "backup_write_failed",
			       "cannot write %s", path);
	}
	return 0;
}
