/* The HTTP server's configuration keys (http.h). */
#include <stddef.h>

#include "http/http.h"

static const char *const cert_modes[] = {"none", "optional", "required",
					 NULL};

#define SRV(field) CONFIG_FIELD(struct http_config, field)
#define LST(l, field)                                              \
	offsetof(struct http_config, l) +                          \
		offsetof(struct listener_config, field),           \
		sizeof(((struct listener_config *)0)->field)

/* The three listeners share their keys; only section, defaults and help
 * differ. */
#define LISTENER_KEYS(sec, l, def_on, def_port, def_mode, def_ca, def_metrics, \
		      what)                                                  \
	{sec, "enabled", CONFIG_BOOL, LST(l, enabled), def_on, 0, 1, NULL,   \
	 "serve the " what " listener"},                                     \
	{sec, "address", CONFIG_STR, LST(l, address), "127.0.0.1", 0, 0,     \
	 NULL, "address to bind (loopback by default: secure by default)"},  \
	{sec, "port", CONFIG_INT, LST(l, port), def_port, 0, 65535, NULL,    \
	 "TCP port (0: let the kernel choose)"},                             \
	{sec, "tls", CONFIG_BOOL, LST(l, tls), "true", 0, 1, NULL,           \
	 "serve TLS; plain HTTP is refused unless bound to loopback"},       \
	{sec, "tls_cert", CONFIG_STR, LST(l, tls_cert), "pki/server.crt", 0, \
	 0, NULL, "server certificate (PEM)"},                               \
	{sec, "tls_key", CONFIG_STR, LST(l, tls_key), "pki/server.key", 0,   \
	 0, NULL, "server private key (PEM)"},                               \
	{sec, "client_ca", CONFIG_STR, LST(l, client_ca), def_ca, 0, 0,      \
	 NULL, "CA bundle that client certificates must chain to"},          \
	{sec, "crl", CONFIG_STR, LST(l, crl), "", 0, 0, NULL,                \
	 "certificate revocation list (PEM) for client certificates"},       \
	{sec, "client_cert", CONFIG_ENUM, LST(l, client_cert), def_mode, 0,  \
	 0, cert_modes, "none | optional | required"},                       \
	{sec, "behind_proxy", CONFIG_BOOL, LST(l, behind_proxy), "false", 0, \
	 1, NULL, "a TLS-terminating proxy verified the client certificate"}, \
	{sec, "proxy_addresses", CONFIG_STR, LST(l, proxy_addresses), "", 0, \
	 0, NULL, "comma-separated proxy IP addresses whose header is "     \
	 "believed"},                                                        \
	{sec, "proxy_cert_header", CONFIG_STR, LST(l, proxy_cert_header),    \
	 "X-Client-Cert", 0, 0, NULL,                                        \
	 "header with the client certificate: PEM (URL-encoded or not), "    \
	 "base64 DER, or its SHA-256 fingerprint in hex"},                  \
	{sec, "metrics", CONFIG_BOOL, LST(l, metrics), def_metrics, 0, 1,    \
	 NULL, "serve /metrics on this listener (operations data)"}

_Static_assert(sizeof(enum client_cert_mode) == sizeof(int),
	       "client_cert is set as an int (CONFIG_ENUM)");

const struct config_key http_config_keys[] = {
	{"server", "threads", CONFIG_INT, SRV(threads), "0", 0, 256, NULL,
	 "HTTP worker threads per listener (0: one per core)"},
	{"server", "anonymous_posts_per_second", CONFIG_INT,
	 SRV(public_posts_per_second), "20", 1, 1000000, NULL,
	 "unauthenticated POSTs (and OpenID Connect authorization and "
	 "logout requests) per client address per second (429)"},
	{"server", "connections_per_address", CONFIG_INT,
	 SRV(connections_per_address), KP_XSTR(LIMIT_CONNECTIONS_PER_IP), 1,
	 LIMIT_CONNECTIONS, NULL,
	 "concurrent connections per client address and listener; behind a "
	 "proxy, requests in flight per real client (X-Forwarded-For)"},
	{"server", "request_head_timeout", CONFIG_INT,
	 SRV(request_head_timeout), KP_XSTR(LIMIT_REQUEST_HEAD_S), 1, 3600,
	 NULL, "seconds a client has to send a complete request head; an idle "
	 "keep-alive connection is closed after it too"},
	LISTENER_KEYS("public", public_listener, "true", "8443", "none", "",
		      "false", "public (portal + user API)"),
	LISTENER_KEYS("network", network_listener, "true", "8444", "required",
		      "pki/ca.pem", "true", "network (institution API)"),
	/* Off by default: it needs the citizen CA, which only the operator
	 * can name. */
	LISTENER_KEYS("eid", eid_listener, "false", "8445", "required",
		      "pki/citizen-ca.pem", "false",
		      "eID login (a citizen's certificate on every connection)"),
	{"portal", "web_dir", CONFIG_STR, SRV(web_dir), "", 0, 0, NULL,
	 "the portal's static files, served under / on the public listener "
	 "(empty: share/kruispunt/web beside the binary, or the source "
	 "tree's web/)"},
};
const size_t http_config_nkeys = KP_NELEM(http_config_keys);
