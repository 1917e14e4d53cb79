/*
 * The files a listener reads at start: its certificate and key (handed to
 * libmicrohttpd in memory) and the CA and CRL client certificates are
 * verified against.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"

/* Read a whole file of at most max bytes; the caller frees the result
 * (and wipes it first when it is a key). */
static char *read_file(const char *path, size_t max, size_t *len,
		       struct error *e)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		err_set(e, ERR_INVALID, "config_invalid", "cannot read %s: %s",
			path, strerror(errno));
		return NULL;
	}
	char *p = xmalloc(max + 1);
	size_t n = fread(p, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(p);
		err_set(e, ERR_INVALID, "config_invalid", "%s is too large",
			path);
		return NULL;
	}
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

int listener_tls(struct listener *l, const char *data_dir,
		 struct error *e)
{
	char path[LIMIT_PATH];
	const struct listener_config *lc = l->cfg;
	if (config_path(data_dir, lc->tls_cert, path, sizeof(path)) != 0 ||
	    !(l->cert_pem = read_file(path, 256 * 1024, NULL, e)))
		return -1;
	if (config_path(data_dir, lc->tls_key, path, sizeof(path)) != 0 ||
	    !(l->key_pem = read_file(path, 64 * 1024, &l->key_len, e)))
		return -1;
	return 0;
}

/* The trust anchors client certificates are verified against. */
int listener_trust(struct listener *l, const char *data_dir,
		   struct error *e)
{
	const struct listener_config *lc = l->cfg;
	if (!lc->client_ca[0]) {
		if (lc->client_cert != CLIENT_CERT_NONE && !lc->behind_proxy)
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.client_cert needs %s.client_ca",
				       l->name, l->name);
		return 0;
	}
	char ca[LIMIT_PATH], crl[LIMIT_PATH] = "";
	if (config_path(data_dir, lc->client_ca, ca, sizeof(ca)) != 0 ||
	    (lc->crl[0] && config_path(data_dir, lc->crl, crl, sizeof(crl)) != 0))
		return err_set(e, ERR_INVALID, "config_invalid", "path too long");
	if (tls_trust_load(ca, crl, &l->trust, e) != 0)
		return -1;
	if (lc->tls && !lc->behind_proxy &&
	    !(l->ca_pem = read_file(ca, 1024 * 1024, NULL, e)))
		return -1;
	return 0;
}
