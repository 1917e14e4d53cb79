/*
 * The provider's signing keys: one file per key in keys_dir, named
 * "<kid>.jwk", mode 0600, holding {"alg", "created", "jwk"} where jwk is
 * the private JWK as cjose writes it. The kid is "<alg>-<UTC time>-<4
 * random hex>", so that within an algorithm the newest key sorts last: it
 * signs; every key in the directory is published (/oidc/jwks), so tokens
 * signed before a rotation stay verifiable until the operator retires the
 * old key. Key generation, JWK encoding and signatures are cjose's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oidc/oidc_internal.h"

static bool alg_known(const char *alg)
{
	return strcmp(alg, "ES256") == 0 || strcmp(alg, "RS256") == 0;
}

static cjose_jwk_t *key_generate(const char *alg)
{
	cjose_err cerr;
	if (strcmp(alg, "ES256") == 0)
		return cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
	static const uint8_t e65537[] = {0x01, 0x00, 0x01};
	return cjose_jwk_create_RSA_random(3072, e65537, sizeof(e65537),
					   &cerr);
}

static int key_path(const char *dir, const char *kid, char *out, size_t n,
		    struct error *e)
{
	if (snprintf(out, n, "%s/%s.jwk", dir, kid) >= (int)n)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	return 0;
}

/* Write text to a new file of mode 0600 (never over an existing one). */
static int write_secret(const char *path, const char *text, struct error *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_INTERNAL, "key_write_failed",
			       "cannot create %s: %s", path, strerror(errno));
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	int rc = w == (ssize_t)n && fsync(fd) == 0 ? 0 : -1;
	close(fd);
	if (rc != 0) {
		unlink(path);
		return err_set(e, ERR_INTERNAL, "key_write_failed",
			       "cannot write %s", path);
	}
	return 0;
}

int oidc_key_rotate(const char *dir, const char *alg, char kid[64],
		    struct error *e)
{
	if (!alg_known(alg))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "alg: ES256 or RS256");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_INTERNAL, "key_write_failed",
			       "cannot create %s: %s", dir, strerror(errno));
	uint8_t r[2];
	rand_bytes(r, sizeof(r));
	char stamp[20];
	time_t now = (time_t)(time_now_ms() / 1000);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(kid, 64, "%s-%s-%02x%02x", alg, stamp, r[0], r[1]);
	cjose_jwk_t *jwk = key_generate(alg);
	cjose_err cerr;
	char *priv = jwk ? cjose_jwk_to_json(jwk, true, &cerr) : NULL;
	json_t *jj = priv ? json_loads(priv, 0, NULL) : NULL;
	if (priv) {
		secret_wipe(priv, strlen(priv));
		free(priv);
	}
	cjose_jwk_release(jwk);
	if (!jj)
		return err_set(e, ERR_INTERNAL, "key_write_failed",
			       "cjose could not make an %s key", alg);
	json_object_set_new(jj, "kid", json_string(kid));
	json_t *file = json_pack("{s:s,s:I,s:o}", "alg", alg, "created",
				 (json_int_t)(time_now_ms() / 1000), "jwk", jj);
	char *text = json_dumps(file, JSON_COMPACT);
	json_decref(file);
	char path[LIMIT_PATH];
	int rc = key_path(dir, kid, path, sizeof(path), e) == 0 && text
			 ? write_secret(path, text, e)
			 : -1;
	if (text) {
		secret_wipe(text, strlen(text));
		free(text);
	}
	return rc;
}

/* The names of keys_dir's key files, sorted (caller frees each and the
 * array). */
static int key_files(const char *dir, char ***out, int *n, struct error *e)
{
	struct dirent **list;
	*out = NULL;
	*n = 0;
	int k = scandir(dir, &list, NULL, alphasort);
	if (k < 0)
		return errno == ENOENT ? 0
				       : err_set(e, ERR_INTERNAL, "key_read_failed",
						 "cannot read %s: %s", dir,
						 strerror(errno));
	char **names = xcalloc((size_t)k + 1, sizeof(*names));
	for (int i = 0; i < k; i++) {
		size_t len = strlen(list[i]->d_name);
		if (len > 4 && strcmp(list[i]->d_name + len - 4, ".jwk") == 0 &&
		    len - 4 < 64)
			names[(*n)++] = xstrndup(list[i]->d_name, len - 4);
		free(list[i]);
	}
	free(list);
	*out = names;
	return 0;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Read one key file into k. */
static int key_read(const char *dir, const char *kid, struct oidc_key *k,
		    struct error *e)
{
	char path[LIMIT_PATH];
	if (key_path(dir, kid, path, sizeof(path), e) != 0)
		return -1;
	json_t *f = json_load_file(path, 0, NULL);
	const char *alg = json_string_value(json_object_get(f, "alg"));
	char *jwk = json_dumps(json_object_get(f, "jwk"), JSON_COMPACT);
	cjose_err cerr;
	k->jwk = alg && alg_known(alg) && jwk
			 ? cjose_jwk_import(jwk, strlen(jwk), &cerr)
			 : NULL;
	if (alg)
		str_copy(k->alg, sizeof(k->alg), alg);
	str_copy(k->kid, sizeof(k->kid), kid);
	if (jwk) {
		secret_wipe(jwk, strlen(jwk));
		free(jwk);
	}
	json_decref(f);
	if (!k->jwk)
		return err_set(e, ERR_INVALID, "key_read_failed",
			       "%s is not a key kruispunt wrote", path);
	cjose_jwk_set_kid(k->jwk, kid, strlen(kid), &cerr);
	return 0;
}

int oidc_keys_load(struct oidc *o, const char *dir, struct error *e)
{
	char **names;
	int n;
	if (key_files(dir, &names, &n, e) != 0)
		return -1;
	if (n > OIDC_KEYS_MAX) {
		free_names(names, n);
		return err_set(e, ERR_INVALID, "key_read_failed",
			       "%s holds more than %d keys: retire old ones",
			       dir, OIDC_KEYS_MAX);
	}
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		if ((rc = key_read(dir, names[i], &o->keys[o->nkeys], e)) == 0)
			o->nkeys++;
	free_names(names, n);
	/* Sorted by kid, so the last of an algorithm is its newest. */
	for (int i = o->nkeys - 1; i >= 0; i--) {
		bool newer = false;
		for (int j = i + 1; j < o->nkeys; j++)
			newer |= strcmp(o->keys[j].alg, o->keys[i].alg) == 0;
		o->keys[i].signing = !newer;
	}
	return rc;
}

void oidc_keys_free(struct oidc *o)
{
	for (int i = 0; i < o->nkeys; i++)
		cjose_jwk_release(o->keys[i].jwk);
	o->nkeys = 0;
}

static const struct oidc_key *signing_key(struct oidc *o, const char *alg)
{
	for (int i = 0; i < o->nkeys; i++)
		if (o->keys[i].signing && strcmp(o->keys[i].alg, alg) == 0)
			return &o->keys[i];
	return NULL;
}

char *oidc_sign(struct oidc *o, const char *alg, json_t *claims)
{
	const struct oidc_key *k = signing_key(o, alg);
	char *payload = json_dumps(claims, JSON_COMPACT);
	cjose_err cerr;
	cjose_header_t *hdr = cjose_header_new(&cerr);
	char *out = NULL;
	if (k && payload && hdr &&
	    cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &cerr) &&
	    cjose_header_set(hdr, CJOSE_HDR_KID, k->kid, &cerr) &&
	    cjose_header_set(hdr, "typ", "JWT", &cerr)) {
		cjose_jws_t *jws = cjose_jws_sign(k->jwk, hdr,
						  (const uint8_t *)payload,
						  strlen(payload), &cerr);
		const char *ser = NULL;
		if (jws && cjose_jws_export(jws, &ser, &cerr))
			out = xstrdup(ser);
		cjose_jws_release(jws);
	}
	cjose_header_release(hdr);
	free(payload);
	return out;
}

json_t *oidc_jwks(struct oidc *o)
{
	json_t *keys = json_array();
	for (int i = 0; i < o->nkeys; i++) {
		cjose_err cerr;
		char *pub = cjose_jwk_to_json(o->keys[i].jwk, false, &cerr);
		json_t *j = pub ? json_loads(pub, 0, NULL) : NULL;
		free(pub);
		if (!j)
			continue;
		json_object_set_new(j, "use", json_string("sig"));
		json_object_set_new(j, "alg", json_string(o->keys[i].alg));
		json_array_append_new(keys, j);
	}
	return json_pack("{s:o}", "keys", keys);
}

json_t *oidc_key_list(const char *dir, struct error *e)
{
	struct oidc tmp = {0};
	if (oidc_keys_load(&tmp, dir, e) != 0) {
		oidc_keys_free(&tmp);
		return NULL;
	}
	json_t *arr = json_array();
	for (int i = 0; i < tmp.nkeys; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b}", "kid",
						     tmp.keys[i].kid, "alg",
						     tmp.keys[i].alg, "signing",
						     tmp.keys[i].signing));
	oidc_keys_free(&tmp);
	return arr;
}

int oidc_key_retire(const char *dir, const char *kid, struct error *e)
{
	struct oidc tmp = {0};
	if (oidc_keys_load(&tmp, dir, e) != 0) {
		oidc_keys_free(&tmp);
		return -1;
	}
	int found = -1;
	for (int i = 0; i < tmp.nkeys; i++)
		if (strcmp(tmp.keys[i].kid, kid) == 0)
			found = i;
	bool signing = found >= 0 && tmp.keys[found].signing;
	oidc_keys_free(&tmp);
	if (found < 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_key",
			       "no key %s in %s", kid, dir);
	if (signing)
		return err_set(e, ERR_CONFLICT, "key_signing",
			       "%s is the newest key of its algorithm: rotate "
			       "first, retire it later",
			       kid);
	char path[LIMIT_PATH];
	if (key_path(dir, kid, path, sizeof(path), e) != 0)
		return -1;
	if (unlink(path) != 0)
		return err_set(e, ERR_INTERNAL, "key_write_failed",
			       "cannot remove %s: %s", path, strerror(errno));
	return 0;
}
