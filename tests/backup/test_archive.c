/* The backup archive (src/backup): a round trip through the format, and
 * the attacks a backup file on restore is untrusted input for: a wrong
 * key, a file cut short, a flipped byte, hostile entry names and sizes
 * (built with a valid encryption, so that the parser itself is tested),
 * and a restore that must leave nothing behind when it fails. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "backup/backup.h"
#include "cli/modules.h"
#include "support/support.h"

#define BIG (3 * BACKUP_CHUNK + 123) /* crosses chunk boundaries */

/* An archive in memory. */
struct mem {
	char *p;
	size_t n;
};

static struct backup_secret key_a, key_b, pass_a;
static uint8_t *big;

static int setup(void **state)
{
	(void)state;
	if (crypto_setup() != 0)
		return -1;
	memset(&key_a, 0, sizeof(key_a));
	memset(key_a.key, 0xa1, BACKUP_KEY_LEN);
	key_b = key_a;
	key_b.key[31] ^= 1;
	/* Argon2id at its minimum: the format is under test, not the KDF. */
	if (backup_secret_passphrase("correct horse", &pass_a, NULL) != 0)
		return -1;
	pass_a.opslimit = crypto_pwhash_OPSLIMIT_MIN;
	pass_a.memlimit = crypto_pwhash_MEMLIMIT_MIN;
	big = xmalloc(BIG);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(big);
	return 0;
}

/* A manifest for the files given (name, bytes, size), as JSON. */
static char *manifest(const char *const *names, const uint8_t *const *data,
		      const size_t *sizes, size_t n)
{
	struct backup_manifest m = {.format = BACKUP_FORMAT,
				    .created_at = "2026-03-01T10:00:00Z",
				    .version = "test",
				    .schema_version = 7,
				    .tree_size = 42};
	for (size_t i = 0; i < n; i++) {
		str_copy(m.files[i].name, sizeof(m.files[i].name), names[i]);
		m.files[i].size = sizes[i];
		sha256_digest(data[i], sizes[i], m.files[i].sha256);
	}
	m.nfiles = n;
	return backup_manifest_json(&m);
}

/* A whole, valid archive of two files: a key and a big database. */
static struct mem valid(const struct backup_secret *sec)
{
	const char *names[] = {"kruispunt.db", "keys/master.key"};
	const uint8_t *data[] = {big, (const uint8_t *)"0123456789abcdef"};
	size_t sizes[] = {BIG, 16};
	struct mem m = {0};
	FILE *f = open_memstream(&m.p, &m.n);
	struct backup_writer *w;
	assert_int_equal(backup_writer_open(f, sec, &w, NULL), 0);
	char *json = manifest(names, data, sizes, 2);
	assert_int_equal(backup_writer_entry(w, BACKUP_MANIFEST_NAME,
					     strlen(json), NULL), 0);
	assert_int_equal(backup_writer_data(w, json, strlen(json), NULL), 0);
	free(json);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(backup_writer_entry(w, names[i], sizes[i],
						     NULL), 0);
		assert_int_equal(backup_writer_data(w, data[i], sizes[i],
						    NULL), 0);
	}
	assert_int_equal(backup_writer_finish(w, NULL), 0);
	backup_writer_free(w);
	fclose(f);
	return m;
}

/* Read archive bytes p[0..n); returns 0, or -1 with *code set. */
static int read_mem(const void *p, size_t n, const struct backup_secret *sec,
		    const struct backup_sink *sink, const char **code)
{
	FILE *f = fmemopen((void *)(uintptr_t)p, n, "rb");
	struct backup_manifest m;
	struct error e = {0};
	int rc = backup_read(f, sec, sink, &m, &e);
	fclose(f);
	*code = rc == 0 ? "" : e.code;
	return rc;
}

static void expect_refused(const struct mem *m, size_t n,
			   const struct backup_secret *sec, const char *code)
{
	const char *got;
	assert_int_equal(read_mem(m->p, n, sec, NULL, &got), -1);
	assert_string_equal(got, code);
}

/* A sink that collects the files it is given. */
struct collect {
	char names[4][BACKUP_NAME_MAX + 1];
	uint8_t *data[4];
	size_t len[4];
	int n, ended;
};

static int c_begin(void *ctx, const struct backup_file *f, struct error *e)
{
	(void)e;
	struct collect *c = ctx;
	str_copy(c->names[c->n], sizeof(c->names[0]), f->name);
	c->data[c->n] = xmalloc((size_t)f->size + 1);
	c->len[c->n++] = 0;
	return 0;
}

static int c_data(void *ctx, const void *p, size_t n, struct error *e)
{
	(void)e;
	struct collect *c = ctx;
	memcpy(c->data[c->n - 1] + c->len[c->n - 1], p, n);
	c->len[c->n - 1] += n;
	return 0;
}

static int c_end(void *ctx, struct error *e)
{
	(void)e;
	((struct collect *)ctx)->ended++;
	return 0;
}

static void round_trip(void **state)
{
	(void)state;
	struct mem m = valid(&key_a);
	struct collect c = {0};
	struct backup_sink sink = {&c, c_begin, c_data, c_end};
	const char *code;
	FILE *f = fmemopen(m.p, m.n, "rb");
	struct backup_manifest man;
	assert_int_equal(backup_read(f, &key_a, &sink, &man, NULL), 0);
	fclose(f);
	assert_int_equal(man.schema_version, 7);
	assert_int_equal(man.tree_size, 42);
	assert_int_equal(man.nfiles, 2);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ended, 2);
	assert_string_equal(c.names[0], "kruispunt.db");
	assert_int_equal(c.len[0], BIG);
	assert_memory_equal(c.data[0], big, BIG);
	assert_string_equal(c.names[1], "keys/master.key");
	assert_memory_equal(c.data[1], "0123456789abcdef", 16);
	for (int i = 0; i < c.n; i++)
		free(c.data[i]);
	/* The same archive with a passphrase. */
	free(m.p);
	m = valid(&pass_a);
	assert_int_equal(read_mem(m.p, m.n, &pass_a, NULL, &code), 0);
	free(m.p);
}

static void wrong_key(void **state)
{
	(void)state;
	struct mem m = valid(&key_a);
	expect_refused(&m, m.n, &key_b, "backup_wrong_key");
	expect_refused(&m, m.n, &pass_a, "backup_wrong_key");
	free(m.p);
	m = valid(&pass_a);
	struct backup_secret other;
	assert_int_equal(backup_secret_passphrase("correct horsf", &other,
						  NULL), 0);
	expect_refused(&m, m.n, &other, "backup_wrong_key");
	expect_refused(&m, m.n, &key_a, "backup_wrong_key");
	free(m.p);
}

#define CIPHER (BACKUP_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)

static void truncated_file(void **state)
{
	(void)state;
	struct mem m = valid(&key_a);
	/* At a chunk boundary every chunk left authenticates: only the
	 * missing FINAL tag tells. */
	expect_refused(&m, BACKUP_HEADER_LEN + 2 * CIPHER, &key_a,
		       "backup_truncated");
	expect_refused(&m, BACKUP_HEADER_LEN + CIPHER + 10, &key_a,
		       "backup_truncated"); /* less than a tag */
	expect_refused(&m, BACKUP_HEADER_LEN + CIPHER + 30, &key_a,
		       "backup_damaged");
	expect_refused(&m, m.n - 1, &key_a, "backup_damaged");
	expect_refused(&m, BACKUP_HEADER_LEN - 1, &key_a, "backup_truncated");
	expect_refused(&m, 3, &key_a, "backup_not_a_backup");
	expect_refused(&m, 0, &key_a, "backup_not_a_backup");
	/* And bytes after the end. */
	char *longer = xmalloc(m.n + 1);
	memcpy(longer, m.p, m.n);
	longer[m.n] = 0;
	const char *code;
	assert_int_equal(read_mem(longer, m.n + 1, &key_a, NULL, &code), -1);
	assert_string_equal(code, "backup_damaged");
	free(longer);
	free(m.p);
}

static void flipped_byte(void **state)
{
	(void)state;
	struct mem m = valid(&key_a);
	static const struct {
		size_t at;
		const char *code;
	} cases[] = {
		{0, "backup_not_a_backup"},  /* magic */
		{8, "backup_not_a_backup"},  /* format version */
		{9, "backup_damaged"},       /* KDF */
		{13, "backup_damaged"},      /* opslimit of a key file */
		{30, "backup_damaged"},      /* salt of a key file */
		{50, "backup_wrong_key"},    /* stream header */
		{BACKUP_HEADER_LEN + 5, "backup_wrong_key"}, /* chunk 1 */
		{BACKUP_HEADER_LEN + CIPHER + 99, "backup_damaged"},
	};
	for (size_t i = 0; i < KP_NELEM(cases); i++) {
		m.p[cases[i].at] ^= 0x40;
		expect_refused(&m, m.n, &key_a, cases[i].code);
		m.p[cases[i].at] ^= 0x40;
	}
	/* A passphrase archive's limits are covered by the key derivation
	 * and by the chunks' additional data: changing them fails. */
	free(m.p);
	m = valid(&pass_a);
	m.p[23] ^= 0x01; /* memlimit */
	expect_refused(&m, m.n, &pass_a, "backup_wrong_key");
	m.p[23] ^= 0x01;
	m.p[12] = 0x7f; /* opslimit far past BACKUP_OPSLIMIT_MAX */
	expect_refused(&m, m.n, &pass_a, "backup_damaged");
	free(m.p);
}

/* An archive whose plaintext is exactly raw: the parser meets hostile
 * framing with a valid encryption. */
static struct mem raw_archive(const void *raw, size_t n)
{
	struct mem m = {0};
	FILE *f = open_memstream(&m.p, &m.n);
	struct backup_writer *w;
	assert_int_equal(backup_writer_open(f, &key_a, &w, NULL), 0);
	assert_int_equal(backup_writer_raw(w, raw, n, NULL), 0);
	assert_int_equal(backup_writer_finish(w, NULL), 0);
	backup_writer_free(w);
	fclose(f);
	return m;
}

/* Plaintext: a manifest listing one file "f" of 3 bytes "abc", then the
 * entries given (name, declared size, bytes). */
static size_t frame(uint8_t *out, const char *name, size_t name_len,
		    uint64_t size, const void *data, size_t n)
{
	/* A declared length past the bound is refused before the name is
	 * read: only the length need be there. */
	size_t copy = name_len > BACKUP_NAME_MAX * 2 ? 0 : name_len;
	out[0] = (uint8_t)(name_len >> 8);
	out[1] = (uint8_t)name_len;
	memcpy(out + 2, name, copy);
	for (int i = 0; i < 8; i++)
		out[2 + copy + (size_t)i] = (uint8_t)(size >> (56 - 8 * i));
	memcpy(out + 10 + copy, data, n);
	return 10 + copy + n;
}

static void expect_hostile(const char *name, size_t name_len, uint64_t size,
			   const char *data, const char *code)
{
	const char *names[] = {"f"};
	const uint8_t *d[] = {(const uint8_t *)"abc"};
	size_t sizes[] = {3};
	char *json = manifest(names, d, sizes, 1);
	uint8_t *p = xmalloc(strlen(json) + 600);
	size_t n = frame(p, BACKUP_MANIFEST_NAME, strlen(BACKUP_MANIFEST_NAME),
			 strlen(json), json, strlen(json));
	if (name)
		n += frame(p + n, name, name_len, size, data, strlen(data));
	free(json);
	struct mem m = raw_archive(p, n);
	free(p);
	if (code) {
		expect_refused(&m, m.n, &key_a, code);
	} else {
		const char *got;
		assert_int_equal(read_mem(m.p, m.n, &key_a, NULL, &got), 0);
	}
	free(m.p);
}

static void hostile_entries(void **state)
{
	(void)state;
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	/* The control: this framing, well formed, is accepted. */
	expect_hostile("f", 1, 3, "abc", NULL);
	expect_hostile(NULL, 0, 0, "", "backup_truncated"); /* f missing */
	expect_hostile("", 0, 3, "abc", "backup_entry_invalid");
	expect_hostile(longname, 200, 3, "abc", "backup_entry_invalid");
	expect_hostile(longname, 0xffff, 3, "abc", "backup_entry_invalid");
	expect_hostile("../f", 4, 3, "abc", "backup_entry_invalid");
	expect_hostile("/etc/passwd", 11, 3, "abc", "backup_entry_invalid");
	expect_hostile("a\nb", 3, 3, "abc", "backup_entry_invalid");
	expect_hostile("f\0x", 3, 3, "abc", "backup_entry_invalid");
	expect_hostile("g", 1, 3, "abc", "backup_entry_invalid"); /* unlisted */
	expect_hostile("f", 1, 4, "abcd", "backup_entry_invalid"); /* size */
	expect_hostile("f", 1, UINT64_MAX, "abc", "backup_entry_invalid");
	expect_hostile("f", 1, 3, "abd", "backup_damaged"); /* digest */
	expect_hostile("f", 1, 3, "ab", "backup_truncated"); /* cut short */
}

static void hostile_manifest(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"not json",
		"[]",
		"{\"format\":2,\"created_at\":\"x\",\"kruispunt_version\":\"v\","
		"\"schema_version\":1,\"audit_tree_size\":0,\"files\":[]}",
		"{\"format\":1,\"created_at\":\"x\",\"kruispunt_version\":\"v\","
		"\"schema_version\":1,\"audit_tree_size\":0,\"files\":[{\"name\":"
		"\"../x\",\"size\":1,\"sha256\":\"" "00000000000000000000000000"
		"000000000000000000000000000000000000\"}]}",
		"{\"format\":1,\"created_at\":\"x\",\"kruispunt_version\":\"v\","
		"\"schema_version\":1,\"audit_tree_size\":0,\"files\":[{\"name\":"
		"\"x\",\"size\":-1,\"sha256\":\"00\"}]}",
	};
	struct backup_manifest m;
	for (size_t i = 0; i < KP_NELEM(bad); i++)
		assert_int_equal(backup_manifest_parse(bad[i], strlen(bad[i]), &m,
						       NULL), -1);
	/* The manifest must come first. */
	uint8_t p[64];
	size_t n = frame(p, "f", 1, 3, "abc", 3);
	struct mem a = raw_archive(p, n);
	expect_refused(&a, a.n, &key_a, "backup_entry_invalid");
	free(a.p);
	/* An empty stream has no manifest at all. */
	a = raw_archive("", 0);
	expect_refused(&a, a.n, &key_a, "backup_truncated");
	free(a.p);
}

static void names(void **state)
{
	(void)state;
	static const char *const good[] = {"kruispunt.db", "keys/master.key",
					   "a/b/c", "x-1_2.Y"};
	static const char *const bad[] = {"", "/", "/a", "a/", "a//b", "..",
					  "../a", "a/../b", ".hidden",
					  "a/.b", "a/b/c/d", "a b", "a\tb",
					  "a\\b", "é"};
	for (size_t i = 0; i < KP_NELEM(good); i++)
		assert_true(backup_name_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < KP_NELEM(bad); i++)
		assert_false(backup_name_valid(bad[i], strlen(bad[i])));
}

static void secrets(void **state)
{
	(void)state;
	struct ts_dir d;
	char path[256];
	struct backup_secret s;
	assert_int_equal(ts_dir_make(&d, "backup_secrets"), 0);
	ts_dir_file(&d, "k", path, sizeof(path));
	assert_int_equal(backup_key_generate(path, NULL), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(backup_key_generate(path, NULL), -1); /* kept */
	assert_int_equal(backup_secret_key_file(path, &s, NULL), 0);
	assert_false(s.passphrase);
	FILE *f = fopen(path, "w");
	fputs("too short\n", f);
	fclose(f);
	assert_int_equal(backup_secret_key_file(path, &s, NULL), -1);
	f = fopen(path, "w");
	fputs("\n", f);
	fclose(f);
	assert_int_equal(backup_secret_passphrase_file(path, &s, NULL), -1);
	f = fopen(path, "w");
	fputs("a passphrase\n", f);
	fclose(f);
	assert_int_equal(backup_secret_passphrase_file(path, &s, NULL), 0);
	assert_int_equal(s.pass_len, strlen("a passphrase"));
	assert_int_equal(ts_dir_remove(&d), 0);
}

/* backup_create of a scratch data directory, restored elsewhere: the
 * same files, mode 0600; then a restore that fails leaves nothing. */
static void create_and_restore(void **state)
{
	(void)state;
	/* kruispunt backup copies a SQLite database; a PostgreSQL one is
	 * backed up with PostgreSQL's own tools (docs/STORE.md). */
	if (ts_pg())
		skip();
	struct ts_store t;
	assert_int_equal(ts_store_open(&t, "backup_create"), 0);
	char keys[256], file[256], out[256], target[256];
	ts_dir_file(&t.dir, "keys", keys, sizeof(keys));
	assert_int_equal(mkdir(keys, 0700), 0);
	ts_dir_file(&t.dir, "keys/master.key", file, sizeof(file));
	FILE *f = fopen(file, "w");
	fputs("0123456789abcdef0123456789abcdef", f);
	fclose(f);
	ts_dir_file(&t.dir, "kruispunt.ini", file, sizeof(file));
	f = fopen(file, "w");
	fputs("[store]\ndatabase = kp.db\n", f);
	fclose(f);
	ts_dir_file(&t.dir, "backup.kpb", out, sizeof(out));
	struct store_options so = {.schemas = cli_schemas,
				   .nschemas = cli_nschemas};
	struct backup_source src = {t.dir.path, "kp.db", NULL, &so};
	struct backup_manifest m;
	struct error e;
	assert_int_equal(backup_create(&src, out, &key_a, &m, &e), 0);
	assert_int_equal(m.nfiles, 4); /* checkpoint, db, key, ini */
	assert_int_equal(m.schema_version, cli_schema_latest());
	ts_dir_file(&t.dir, "restored", target, sizeof(target));
	assert_int_equal(backup_restore(out, &key_a, target,
					cli_schema_latest(), &m, &e), 0);
	ts_dir_file(&t.dir, "restored/keys/master.key", file, sizeof(file));
	struct stat st;
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	/* Not over anything. */
	assert_int_equal(backup_restore(out, &key_a, target,
					cli_schema_latest(), &m, &e), -1);
	assert_string_equal(e.code, "restore_target");
	/* A schema newer than this binary's. */
	ts_dir_file(&t.dir, "newer", target, sizeof(target));
	assert_int_equal(backup_restore(out, &key_a, target, 1, &m, &e), -1);
	assert_string_equal(e.code, "restore_schema_newer");
	assert_int_equal(access(target, F_OK), -1);
	/* A wrong key, into an empty directory that stays empty. */
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(backup_restore(out, &key_b, target,
					cli_schema_latest(), &m, &e), -1);
	assert_string_equal(e.code, "backup_wrong_key");
	assert_int_equal(rmdir(target), 0); /* still empty */
	/* And no directory of a failed restore is left beside it. */
	DIR *dir = opendir(t.dir.path);
	struct dirent *de;
	while ((de = readdir(dir)) != NULL)
		assert_null(strstr(de->d_name, ".restore-"));
	closedir(dir);
	assert_int_equal(ts_store_close(&t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(wrong_key),
		cmocka_unit_test(truncated_file),
		cmocka_unit_test(flipped_byte),
		cmocka_unit_test(hostile_entries),
		cmocka_unit_test(hostile_manifest),
		cmocka_unit_test(names),
		cmocka_unit_test(secrets),
		cmocka_unit_test(create_and_restore),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
