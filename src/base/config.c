/*
 * Configuration: built-in defaults, then an INI file (inih), then
 * environment variables KRUISPUNT_<SECTION>_<KEY>. The keys are tables,
 * one per module (each module declares its own, beside its config struct;
 * src/cli hands them over), so that parsing, the environment override and
 * `kruispunt config` (which prints them all) cannot drift apart. An
 * unknown key is an error: a typo in a security setting must not be
 * silently ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "base/base.h"

static const char *const log_levels[] = {"debug", "info", "warn", "error",
					 NULL};

const struct config_key base_config_keys[] = {
	{"server", "data_dir", CONFIG_STR,
	 CONFIG_FIELD(struct base_config, data_dir), "./var/kruispunt", 0, 0,
	 NULL, "data directory: database, keys, PKI"},
	{"server", "log_level", CONFIG_ENUM,
	 CONFIG_FIELD(struct base_config, log_level), "info", 0, 0, log_levels,
	 "debug | info | warn | error"},
};
const size_t base_config_nkeys = KP_NELEM(base_config_keys);

static int parse_bool(const char *v, bool *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"};
	static const char *no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < KP_NELEM(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* "a, b or c" of an enum key's choices, for its error. */
static void choices_text(const struct config_key *k, char *out, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; k->choices[i]; i++) {
		size_t len = strlen(out);
		const char *sep = i == 0 ? "" : k->choices[i + 1] ? ", " : " or ";
		snprintf(out + len, n - len, "%s%s", sep, k->choices[i]);
	}
}

static int set_enum(const struct config_key *k, int *field, const char *v,
		    struct error *e)
{
	for (int i = 0; k->choices[i]; i++) {
		if (strcmp(v, k->choices[i]) == 0) {
			*field = i;
			return 0;
		}
	}
	char text[128];
	choices_text(k, text, sizeof(text));
	return err_set(e, ERR_INVALID, "config_invalid", "%s.%s must be %s",
		       k->section, k->key, text);
}

static int set_key(void *conf, const struct config_key *k, const char *v,
		   struct error *e)
{
	char *field = (char *)conf + k->offset;
	switch (k->type) {
	case CONFIG_STR:
		if (!str_copy(field, k->size, v))
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.%s is too long", k->section, k->key);
		return 0;
	case CONFIG_INT: {
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < k->min || n > k->max)
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.%s must be a number from %ld to %ld",
				       k->section, k->key, k->min, k->max);
		*(int *)(void *)field = (int)n;
		return 0;
	}
	case CONFIG_BOOL:
		if (parse_bool(v, (bool *)(void *)field) != 0)
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.%s must be true or false",
				       k->section, k->key);
		return 0;
	case CONFIG_ENUM:
		return set_enum(k, (int *)(void *)field, v, e);
	}
	return -1;
}

void config_defaults(const struct config_table *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < t[i].n; j++)
			if (set_key(t[i].conf, &t[i].keys[j], t[i].keys[j].def,
				    NULL) != 0)
				abort(); /* a bad default is a programming error */
}

struct ini_ctx {
	const struct config_table *t;
	size_t n;
	struct error *e;
	bool failed;
};

static int on_ini_line(void *user, const char *section, const char *key,
		       const char *value)
{
	struct ini_ctx *c = user;
	if (c->failed)
		return 0;
	for (size_t i = 0; i < c->n; i++) {
		for (size_t j = 0; j < c->t[i].n; j++) {
			const struct config_key *k = &c->t[i].keys[j];
			if (strcmp(k->section, section) != 0 ||
			    strcmp(k->key, key) != 0)
				continue;
			if (set_key(c->t[i].conf, k, value, c->e) != 0) {
				c->failed = true;
				return 0;
			}
			return 1;
		}
	}
	err_set(c->e, ERR_INVALID, "config_invalid", "unknown key %s.%s",
		section, key);
	c->failed = true;
	return 0;
}

static int load_file(const char *path, struct ini_ctx *c)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return err_set(c->e, ERR_INVALID, "config_invalid",
			       "cannot read %s: %s", path, strerror(errno));
	if (st.st_size > LIMIT_CONFIG_FILE)
		return err_set(c->e, ERR_INVALID, "config_invalid",
			       "%s is larger than %d bytes", path,
			       LIMIT_CONFIG_FILE);
	int rc = ini_parse(path, on_ini_line, c);
	if (c->failed)
		return -1;
	if (rc != 0)
		return err_set(c->e, ERR_INVALID, "config_invalid",
			       "%s: syntax error on line %d", path, rc);
	return 0;
}

static void env_name(const struct config_key *k, char *out, size_t n)
{
	snprintf(out, n, "KRUISPUNT_%s_%s", k->section, k->key);
	for (char *p = out; *p; p++)
		*p = (char)toupper((unsigned char)*p);
}

int config_load_env(const struct config_table *t, size_t n, struct error *e)
{
	char name[96];
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < t[i].n; j++) {
			env_name(&t[i].keys[j], name, sizeof(name));
			const char *v = getenv(name);
			if (v && set_key(t[i].conf, &t[i].keys[j], v, e) != 0)
				return -1;
		}
	}
	return 0;
}

int config_load(const char *path, const struct config_table *t, size_t n,
		struct error *e)
{
	config_defaults(t, n);
	struct ini_ctx c = {t, n, e, false};
	if (path && load_file(path, &c) != 0)
		return -1;
	return config_load_env(t, n, e);
}

int config_path(const char *data_dir, const char *p, char *out, size_t n)
{
	int w = p[0] == '/' ? snprintf(out, n, "%s", p)
			    : snprintf(out, n, "%s/%s", data_dir, p);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static void describe_key(const void *conf, const struct config_key *k,
			 FILE *out)
{
	char name[96];
	const char *field = (const char *)conf + k->offset;
	env_name(k, name, sizeof(name));
	fprintf(out, "; %s (env %s)\n%s = ", k->help, name, k->key);
	switch (k->type) {
	case CONFIG_STR:
		fprintf(out, "%s", field);
		break;
	case CONFIG_INT:
		fprintf(out, "%d", *(const int *)(const void *)field);
		break;
	case CONFIG_BOOL:
		fprintf(out, "%s",
			*(const bool *)(const void *)field ? "true" : "false");
		break;
	case CONFIG_ENUM:
		fprintf(out, "%s",
			k->choices[*(const int *)(const void *)field]);
		break;
	}
	fputc('\n', out);
}

/* True when section was already printed: some key before (table i, key j)
 * has it. */
static bool section_seen(const struct config_table *t, size_t i, size_t j,
			 const char *section)
{
	for (size_t a = 0; a <= i; a++)
		for (size_t b = 0; b < (a < i ? t[a].n : j); b++)
			if (strcmp(t[a].keys[b].section, section) == 0)
				return true;
	return false;
}

void config_describe(const struct config_table *t, size_t n, FILE *out)
{
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < t[i].n; j++) {
			const char *section = t[i].keys[j].section;
			if (section_seen(t, i, j, section))
				continue;
			/* Every key of this section, whichever module's. */
			fprintf(out, "%s[%s]\n", first ? "" : "\n", section);
			first = false;
			for (size_t a = i; a < n; a++)
				for (size_t b = a == i ? j : 0; b < t[a].n; b++)
					if (strcmp(t[a].keys[b].section,
						   section) == 0)
						describe_key(t[a].conf,
							     &t[a].keys[b], out);
		}
	}
}
