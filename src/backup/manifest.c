/*
 * What a backup holds, and the names it may give: the manifest (JSON, the
 * archive's first entry) and the rule for an entry's name. Both are read
 * from an untrusted file on restore, so both are strict: a name that could
 * climb out of the restored directory, hide, or forge a line in a message
 * never reaches the file system.
 */
#include <string.h>

#include "backup/backup.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool backup_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > BACKUP_NAME_MAX)
		return false;
	int depth = 1;
	bool start = true; /* at the first character of a component */
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c == '/') {
			if (start || ++depth > BACKUP_NAME_DEPTH)
				return false;
			start = true;
			continue;
		}
		/* A leading dot would allow "." and ".." and hidden files. */
		if (!name_char(c) || (start && c == '.'))
			return false;
		start = false;
	}
	return !start;
}

char *backup_manifest_json(const struct backup_manifest *m)
{
	json_t *files = json_array();
	for (size_t i = 0; i < m->nfiles; i++) {
		char hex[2 * SHA256_LEN + 1];
		hex_encode(m->files[i].sha256, SHA256_LEN, hex);
		json_array_append_new(
			files, json_pack("{s:s, s:I, s:s}", "name",
					 m->files[i].name, "size",
					 (json_int_t)m->files[i].size,
					 "sha256", hex));
	}
	json_t *j = json_pack("{s:i, s:s, s:s, s:i, s:I, s:o}", "format",
			      m->format, "created_at", m->created_at,
			      "kruispunt_version", m->version,
			      "schema_version", m->schema_version,
			      "audit_tree_size", (json_int_t)m->tree_size,
			      "files", files);
	char *out = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (!out)
		abort();
	char *copy = xstrdup(out);
	free(out);
	return copy;
}

static int file_parse(json_t *f, struct backup_manifest *m, size_t i,
		      struct error *e)
{
	const char *name, *hex;
	int64_t size;
	if (!json_is_object(f) ||
	    jsonx_str(f, "name", true, BACKUP_NAME_MAX, &name, e) != 0 ||
	    jsonx_int(f, "size", true, 0, (int64_t)BACKUP_FILE_SIZE_MAX,
		      &size, e) != 0 ||
	    jsonx_str(f, "sha256", true, 2 * SHA256_LEN, &hex, e) != 0)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "the manifest lists a file it does not "
			       "describe");
	struct backup_file *out = &m->files[i];
	if (!backup_name_valid(name, strlen(name)) ||
	    strcmp(name, BACKUP_MANIFEST_NAME) == 0 ||
	    hex_decode(hex, strlen(hex), out->sha256, SHA256_LEN) != 0)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "the manifest lists a file with a bad name "
			       "or checksum");
	for (size_t k = 0; k < i; k++)
		if (strcmp(m->files[k].name, name) == 0)
			return err_set(e, ERR_INVALID, "backup_entry_invalid",
				       "the manifest lists %s twice", name);
	str_copy(out->name, sizeof(out->name), name);
	out->size = (uint64_t)size;
	return 0;
}

static int header_parse(json_t *j, struct backup_manifest *m,
			struct error *e)
{
	const char *at, *version;
	int64_t format, schema, size;
	if (jsonx_int(j, "format", true, 0, 255, &format, e) != 0 ||
	    jsonx_str(j, "created_at", true, RFC3339_LEN - 1, &at, e) != 0 ||
	    jsonx_str(j, "kruispunt_version", true, sizeof(m->version) - 1,
		      &version, e) != 0 ||
	    jsonx_int(j, "schema_version", true, 0, INT32_MAX, &schema,
		      e) != 0 ||
	    jsonx_int(j, "audit_tree_size", true, 0, INT64_MAX, &size,
		      e) != 0)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "the manifest is not valid");
	if (format != BACKUP_FORMAT)
		return err_set(e, ERR_INVALID, "backup_not_a_backup",
			       "manifest format %d is not known to this "
			       "version", (int)format);
	m->format = (int)format;
	str_copy(m->created_at, sizeof(m->created_at), at);
	str_copy(m->version, sizeof(m->version), version);
	m->schema_version = (int)schema;
	m->tree_size = (uint64_t)size;
	return 0;
}

int backup_manifest_parse(const char *text, size_t len,
			  struct backup_manifest *m, struct error *e)
{
	memset(m, 0, sizeof(*m));
	json_t *j = jsonx_parse(text, len, e);
	if (!j)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "the manifest is not valid JSON");
	json_t *files = json_object_get(j, "files");
	int rc = json_is_object(j) ? header_parse(j, m, e)
				   : err_set(e, ERR_INVALID,
					     "backup_entry_invalid",
					     "the manifest is not valid");
	if (rc == 0 && (!json_is_array(files) ||
			json_array_size(files) > BACKUP_FILES_MAX))
		rc = err_set(e, ERR_INVALID, "backup_entry_invalid",
			     "the manifest's file list is not valid");
	for (size_t i = 0; rc == 0 && i < json_array_size(files); i++) {
		rc = file_parse(json_array_get(files, i), m, i, e);
		m->nfiles = i + 1;
	}
	json_decref(j);
	return rc;
}
