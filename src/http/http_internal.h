/* Shared between the files of src/http only. */
#ifndef KP_HTTP_INTERNAL_H
#define KP_HTTP_INTERNAL_H

#include <gnutls/gnutls.h>

#include "http/http.h"

/* ---- router.c */

enum route_match { MATCH_OK = 0, MATCH_NO_PATH, MATCH_NO_METHOD };

/* Find the route for (listener, method, path). scratch receives a copy of
 * the path that params point into. On MATCH_OK *idx is the route's index. */
enum route_match router_find(const struct http_route *routes, size_t n,
			     unsigned listener, enum http_method method,
			     const char *path, char *scratch, size_t scratch_len,
			     const char **params, int *nparams, size_t *idx);
/* Check a route table at startup: patterns well-formed, every route on at
 * least one listener with a handler. Returns 0, or -1 with e set. */
int router_check(const struct http_route *routes, size_t n, struct error *e);
enum http_method method_parse(const char *m);
/* "GET" ... or "-" for an unknown method. */
const char *method_name(enum http_method m);

/* ---- tls.c */

struct tls_trust;

/* Load a CA bundle (and optional CRL, "" for none) to verify client
 * certificates with. Returns 0 and *out (free with tls_trust_free). */
int tls_trust_load(const char *ca_path, const char *crl_path,
		   struct tls_trust **out, struct error *e);
void tls_trust_free(struct tls_trust *t);
/* Verify the peer certificate of a TLS session; fills out (present false
 * when the client sent none). */
void tls_verify_session(struct tls_trust *t, gnutls_session_t session,
			struct http_client_cert *out);
/* Verify a certificate forwarded by a proxy: PEM (percent-encoded or not),
 * base64 DER, or a bare SHA-256 fingerprint in hex (then the proxy's word
 * is all there is). t may be NULL only for the fingerprint form. */
void tls_verify_forwarded(struct tls_trust *t, const char *value,
			  struct http_client_cert *out);

/* ---- metrics.c */

struct http_metrics;

struct http_metrics *metrics_new(size_t nroutes);
void metrics_free(struct http_metrics *m);
/* route_idx == nroutes for requests that matched no route. */
void metrics_record(struct http_metrics *m, size_t route_idx,
		    enum http_method method, int status, uint64_t ns);
char *metrics_render(struct http_metrics *m, const struct http_route *routes,
		     size_t *len);

#endif
