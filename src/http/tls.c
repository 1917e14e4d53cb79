/*
 * Client certificate verification. libmicrohttpd asks GnuTLS to request a
 * certificate, but GnuTLS does not judge it during the handshake; we verify
 * it here against our own trust list, which (unlike libmicrohttpd's options)
 * can hold a CRL: a revoked certificate may no longer be used (seed 000
 * art. 7). The verdict is cached per connection by the caller.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "http/http_internal.h"

/* Subject serialNumber: carries the national register number on eID-style
 * certificates. */
#define OID_SERIAL_NUMBER "2.5.4.5"

struct tls_trust {
	gnutls_x509_trust_list_t list;
};

int tls_trust_load(const char *ca_path, const char *crl_path,
		   struct tls_trust **out, struct error *e)
{
	struct tls_trust *t = xcalloc(1, sizeof(*t));
	if (gnutls_x509_trust_list_init(&t->list, 0) < 0) {
		free(t);
		return err_set(e, ERR_INTERNAL, "tls_error", "no trust list");
	}
	bool crl = crl_path && crl_path[0];
	int n = gnutls_x509_trust_list_add_trust_file(
		t->list, ca_path, crl ? crl_path : NULL, GNUTLS_X509_FMT_PEM,
		0, 0);
	if (n <= 0) {
		tls_trust_free(t);
		return err_set(e, ERR_INVALID, "config_invalid",
			       "no CA certificate could be read from %s%s%s",
			       ca_path, crl ? " with CRL " : "",
			       crl ? crl_path : "");
	}
	*out = t;
	return 0;
}

void tls_trust_free(struct tls_trust *t)
{
	if (!t)
		return;
	gnutls_x509_trust_list_deinit(t->list, 1);
	free(t);
}

/* Identity fields of the leaf certificate. */
static void describe(gnutls_x509_crt_t crt, const gnutls_datum_t *der,
		     struct http_client_cert *out)
{
	gnutls_datum_t dn = {NULL, 0};
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
		str_copy(out->subject, sizeof(out->subject), (char *)dn.data);
		gnutls_free(dn.data);
	}
	size_t size = sizeof(out->serial_number);
	if (gnutls_x509_crt_get_dn_by_oid(crt, OID_SERIAL_NUMBER, 0, 0,
					  out->serial_number, &size) != 0)
		out->serial_number[0] = '\0';
	out->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
	out->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	sha256_digest(der->data, der->size, out->fingerprint);
}

static const char *verify_reason(unsigned status)
{
	if (status & GNUTLS_CERT_REVOKED)
		return "certificate revoked";
	if (status & GNUTLS_CERT_EXPIRED)
		return "certificate expired";
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return "certificate not yet valid";
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return "certificate not issued by a trusted CA";
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "certificate not for TLS client authentication";
	return "certificate rejected";
}

/* Verify a chain given as DER certificates, leaf first. */
static void verify_chain(struct tls_trust *t, const gnutls_datum_t *ders,
			 unsigned n, struct http_client_cert *out)
{
	gnutls_x509_crt_t chain[8];
	unsigned loaded = 0;
	memset(out, 0, sizeof(*out));
	out->present = n > 0;
	if (n == 0) {
		out->reason = "no client certificate";
		return;
	}
	if (n > KP_NELEM(chain))
		n = KP_NELEM(chain);
	for (; loaded < n; loaded++) {
		if (gnutls_x509_crt_init(&chain[loaded]) < 0)
			goto done;
		if (gnutls_x509_crt_import(chain[loaded], &ders[loaded],
					   GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(chain[loaded]);
			out->reason = "certificate cannot be parsed";
			goto done;
		}
	}
	describe(chain[0], &ders[0], out);
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
					 (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_CLIENT,
					 0};
	unsigned status = 0;
	if (gnutls_x509_trust_list_verify_crt2(t->list, chain, n, &purpose, 1,
					       0, &status, NULL) < 0 ||
	    status != 0) {
		out->reason = verify_reason(status);
		goto done;
	}
	out->verified = true;
	out->reason = NULL;
done:
	for (unsigned i = 0; i < loaded; i++)
		gnutls_x509_crt_deinit(chain[i]);
}

void tls_verify_session(struct tls_trust *t, gnutls_session_t session,
			struct http_client_cert *out)
{
	unsigned n = 0;
	const gnutls_datum_t *ders = gnutls_certificate_get_peers(session, &n);
	verify_chain(t, ders, ders ? n : 0, out);
}

/* Undo percent-encoding in place (nginx $ssl_client_escaped_cert). */
static void percent_decode(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '%' && r[1] && r[2]) {
			uint8_t b;
			if (hex_decode(r + 1, 2, &b, 1) == 0) {
				*w++ = (char)b;
				r += 2;
				continue;
			}
		}
		*w++ = *r;
	}
	*w = '\0';
}

/* A SHA-256 fingerprint as 64 hex digits, colons allowed. */
static bool parse_fingerprint(const char *v, uint8_t fp[SHA256_LEN])
{
	char hex[2 * SHA256_LEN];
	size_t n = 0;
	for (; *v; v++) {
		if (*v == ':')
			continue;
		if (n == sizeof(hex))
			return false;
		hex[n++] = *v;
	}
	return n == sizeof(hex) && hex_decode(hex, n, fp, SHA256_LEN) == 0;
}

void tls_verify_forwarded(struct tls_trust *t, const char *value,
			  struct http_client_cert *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t fp[SHA256_LEN];
	if (parse_fingerprint(value, fp)) {
		/* The proxy verified the chain; all we get is its word. */
		out->present = true;
		out->verified = true;
		memcpy(out->fingerprint, fp, SHA256_LEN);
		return;
	}
	out->present = true;
	out->reason = "forwarded certificate cannot be parsed";
	if (!t || strlen(value) > LIMIT_CERT_PEM)
		return;
	char *text = xstrdup(value);
	percent_decode(text);
	gnutls_datum_t der = {NULL, 0};
	gnutls_datum_t in = {(unsigned char *)text, (unsigned)strlen(text)};
	int rc = strncmp(text, "-----BEGIN", 10) == 0
		 ? gnutls_pem_base64_decode2("CERTIFICATE", &in, &der)
		 : gnutls_base64_decode2(&in, &der);
	free(text);
	if (rc < 0)
		return;
	verify_chain(t, &der, 1, out);
	gnutls_free(der.data);
}

int http_cert_file(const char *path, struct http_client_cert *out,
		   struct error *e)
{
	gnutls_datum_t pem = {NULL, 0}, der = {NULL, 0};
	gnutls_x509_crt_t crt = NULL;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (gnutls_load_file(path, &pem) < 0 || gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0) {
		err_set(e, ERR_INVALID, "invalid_certificate",
			"%s is not a PEM certificate", path);
		goto done;
	}
	describe(crt, &der, out);
	out->present = true;
	rc = 0;
done:
	gnutls_free(pem.data);
	gnutls_free(der.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}
