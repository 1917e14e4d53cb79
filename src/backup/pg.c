/*
 * What a PostgreSQL installation's archive needs beside the common
 * format: telling one from a SQLite one, and pointing the restored
 * configuration at the database it was restored into.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"

bool backup_manifest_is_pg(const struct backup_manifest *m)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].name, BACKUP_PG_DUMP_NAME) == 0)
			return true;
	return false;
}

/* The line [p, end) without its leading and trailing blanks. */
static void trim(const char **p, const char **end)
{
	while (*p < *end && isspace((unsigned char)**p))
		(*p)++;
	while (*end > *p && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

/* Whether the line [p, end) sets one of the keys a restore replaces. */
static bool replaced_key(const char *p, const char *end)
{
	static const char *const keys[] = {"backend", "url", "password_file"};
	const char *eq = memchr(p, '=', (size_t)(end - p));
	if (!eq)
		return false;
	const char *k = p, *ke = eq;
	trim(&k, &ke);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((size_t)(ke - k) == strlen(keys[i]) &&
		    memcmp(k, keys[i], (size_t)(ke - k)) == 0)
			return true;
	return false;
}

static void store_keys(struct buf *b, const char *url,
		       const char *password_file)
{
	buf_printf(b, "; set by kruispunt restore\nbackend = postgresql\n"
		      "url = %s\n", url);
	if (password_file)
		buf_printf(b, "password_file = %s\n", password_file);
}

/* url and password_file: each shorter than LIMIT_PATH. */
char *backup_ini_point_to(const char *text, size_t len, const char *url,
			  const char *password_file)
{
	/* Room for every line, a newline added to the last, and the keys:
	 * url and password_file are each shorter than LIMIT_PATH (the
	 * caller's bound), so no append below can fail. */
	struct buf b;
	buf_init(&b, len + 3 * LIMIT_PATH + 256);
	bool in_store = false, seen = false;
	/* Where the comment lines just above the current line begin in b:
	 * they explain a key, and go with it when it is replaced. */
	size_t comments = 0;
	for (const char *p = text, *stop = text + len; p < stop;) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		const char *end = nl ? nl : stop, *next = nl ? nl + 1 : stop;
		const char *t = p, *te = end;
		trim(&t, &te);
		bool header = t < te && *t == '[';
		if (header)
			in_store = (size_t)(te - t) == 7 &&
				   memcmp(t, "[store]", 7) == 0;
		bool comment = t < te && (*t == ';' || *t == '#');
		if (in_store && !header && replaced_key(t, te)) {
			b.len = comments;
			if (b.p)
				b.p[b.len] = '\0';
		} else {
			if (!comment)
				comments = b.len + (size_t)(end - p) + 1;
			buf_append(&b, p, (size_t)(end - p));
			buf_append(&b, "\n", 1);
		}
		if (header && in_store && !seen) {
			store_keys(&b, url, password_file);
			seen = true;
			comments = b.len;
		}
		p = next;
	}
	if (!seen) {
		buf_append(&b, "\n[store]\n", 9);
		store_keys(&b, url, password_file);
	}
	return buf_take(&b, NULL);
}
