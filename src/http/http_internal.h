/* Shared between the files of src/http only. */
#ifndef KP_HTTP_INTERNAL_H
#define KP_HTTP_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "http/http.h"

/* ---- the server's state (server.c starts and stops it) */

struct tls_trust;
struct http_metrics;
struct addr_counts;
struct static_files;
struct static_file;

struct listener {
	enum http_listener id;
	const char *name;
	const struct listener_config *cfg;
	struct http_server *srv;
	struct MHD_Daemon *daemon;
	char *cert_pem;
	char *key_pem;
	size_t key_len;
	char *ca_pem;
	struct tls_trust *trust;
	struct in6_addr proxies[LIMIT_PROXY_ADDRESSES];
	int nproxies;
	int port;
};

struct http_server {
	struct http_server_options opt;
	struct listener listeners[3];
	struct http_metrics *metrics;
	/* The portal's files, loaded at start (static.c); never NULL. */
	struct static_files *files;
	/* Strangers get smaller limits (docs/DESIGN.md, habit 2): unauthenticated
	 * POSTs (login, identifier checks), per client address. */
	struct ratelimit *anonymous;
	/* Behind a proxy (inflight.c): requests in flight per real client,
	 * and connections per address that is no proxy. */
	struct addr_counts *inflight, *direct;
	int per_address; /* the cap for both, and libmicrohttpd's elsewhere */
	/* Requests suspended for a deferred answer: libmicrohttpd must not
	 * stop with one still suspended. */
	_Atomic int suspended;
	/* Every open connection of every listener, with its deadline
	 * (deadline.c); conn_lock guards the list and each one's fd. */
	pthread_mutex_t conn_lock;
	pthread_cond_t deadline_wake;
	pthread_t deadline_thread;
	bool deadline_started, deadline_stop;
	struct conn_state *conns;
	uint64_t head_timeout_ns;
};

/* Per TCP connection: the client certificate is verified once per TLS
 * session, not once per request. */
struct conn_state {
	struct listener *l;
	struct conn_state *prev, *next; /* http_server.conns */
	int fd;       /* -1 once shut down for its deadline */
	char peer[64];
	/* Monotonic time by which the connection must have handed its
	 * request to us (0: none now; deadline.c). */
	_Atomic uint64_t deadline_ns;
	bool checked;
	bool counted; /* in http_server.direct */
	struct http_client_cert cert;
	/* The request line being parsed decoded to a NUL (request_unescape):
	 * its path would be cut there. Read and cleared by request_begin. */
	bool nul_in_url;
	/* The request line's URI as libmicrohttpd found it, before decoding
	 * (request_uri_seen): where it ends tells a raw NUL in it. */
	uintptr_t raw_uri, raw_uri_len;
};

struct request;

/* The handle a deferred answer is completed through (http.h). */
struct http_deferred {
	struct request *rq;
};

/* One request, from its first call to its completion (request.c). */
struct request {
	struct http_request req;
	struct http_response res;
	struct listener *l;
	struct MHD_Connection *conn;
	uint64_t start_ns;
	size_t route_idx; /* nroutes when no route matched */
	size_t body_limit;
	struct buf body;
	bool refused;     /* res.err set before the handler could run */
	bool close;       /* answer at once and close: the framing is bad */
	uint64_t declared; /* Content-Length, or the route's limit without */
	bool deferred;    /* suspended, waiting for http_resume */
	struct http_deferred handle; /* handed to the continuation */
	_Atomic bool resumed;
	int status;       /* what was queued; 0 when nothing was */
	bool via_proxy;   /* from a listed proxy: req.peer is the real client */
	bool counted;     /* in http_server.inflight */
	struct http_client_cert forwarded;
	char *scratch; /* copy of the path that params point into */
	/* No route: one of the portal's files, on the public listener. */
	const struct static_file *file;
};

/* ---- request.c: libmicrohttpd's callbacks for every listener */

/* The access handler: cls is the listener. Makes the request on its first
 * call (freed by request_completed). */
enum MHD_Result request_handle(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls);
/* libmicrohttpd's URL decoding (MHD_OPTION_UNESCAPE_CALLBACK), which
 * notes a decoded NUL in the connection's state. Returns the new length. */
size_t request_unescape(void *cls, struct MHD_Connection *c, char *s);
/* libmicrohttpd's first sight of a request's URI
 * (MHD_OPTION_URI_LOG_CALLBACK), kept in the connection's state to find a
 * raw NUL in it. Returns NULL: the request is made on the first call. */
void *request_uri_seen(void *cls, const char *uri, struct MHD_Connection *c);
/* Log and count the request, then free it. */
void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		       enum MHD_RequestTerminationCode toe);

/* ---- gate.c: the checks before a handler runs */

/* Record a refusal before the handler. status 0 derives it from kind. */
void gate_refuse(struct request *rq, int status, enum err_kind kind,
		 const char *code, const char *detail);
/* On the first call of a request with a route, from its headers alone:
 * the anonymous rate limit (429), the client certificate, then the
 * institution or the session, level and role the route requires. Returns
 * 0, or -1 with the refusal recorded. */
int gate_check(struct request *rq);

/* ---- body.c */

/* Refuse by the declared Content-Length, before reading any of it. */
bool body_declared_too_large(struct request *rq);
/* Refuse a body whose length is ambiguous (RFC 9112 section 6.3): more
 * than one Content-Length, Content-Length with Transfer-Encoding, or a
 * Transfer-Encoding other than chunked. The answer closes the connection:
 * whatever follows on it cannot be told apart from the body. */
bool body_framing_invalid(struct request *rq);
/* Does a body follow the head (a Content-Length above 0, or chunked)? */
bool body_follows(struct request *rq);
/* Keep the next piece of the body, up to the route's limit (413). */
void body_append(struct request *rq, const char *data, size_t n);
/* Hand the body to the handler as the route wants it: raw, or one JSON
 * object (415 / 400). Returns 0, or -1 with the refusal recorded. */
int body_prepare(struct request *rq, const struct http_route *r);

/* ---- render.c */

/* Queue rq->res (a problem when it carries an error) with the common
 * headers, and remember the status for the access log. */
enum MHD_Result render_send(struct request *rq);

/* The headers every answer has. csp is the page policy for the portal's
 * files, the API's "load nothing" otherwise; cache is the Cache-Control
 * (an error is never cached, whatever it says). */
void render_headers(struct request *rq, struct MHD_Response *r,
		    const char *content_type, const char *csp,
		    const char *cache);

/* The policy of the portal's pages: their own scripts and styles only,
 * no inline script, no eval, no plug-in, no frame, no form elsewhere. */
#define RENDER_PAGE_CSP                                                      \
	"default-src 'self'; script-src 'self'; style-src 'self'; "          \
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; "      \
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

/* ---- static.c: the portal's files */

/* Load every file under dir (absolute; "" or a missing directory: none)
 * into memory. Refuses (-1 with e) a tree past the LIMIT_STATIC_*
 * limits or a file it cannot read; skips, with a warning, what it would
 * never serve (dotfiles, symbolic links, names outside
 * http_static_path_ok, unknown extensions). *out is freed by
 * static_free. */
int static_load(const char *dir, struct static_files **out, struct error *e);
void static_free(struct static_files *s);
/* The file a request path names ("/" and ".../" are their index.html),
 * or NULL. Exact match in the loaded set only. */
const struct static_file *static_find(const struct static_files *s,
				      const char *path);
/* Answer rq with its file (or 304 when If-None-Match names its ETag). */
enum MHD_Result static_send(struct request *rq);

/* ---- address.c */

/* The address of sa as text ("" when unknown). */
void peer_text(const struct sockaddr *sa, char *out, size_t n);
/* Is sa one of the listener's trusted proxies? */
bool peer_is_proxy(const struct listener *l, const struct sockaddr *sa);
bool address_is_loopback(const char *address);
/* Parse the listener's proxy_addresses. Returns 0, or -1 with e set. */
int listener_proxies(struct listener *l, struct error *e);
/* A socket listening on the listener's address and port, for
 * libmicrohttpd to take over (it closes it); *v6 says which family.
 * Returns 0 and *fd, or -1 with e set: code "listen_failed", the detail
 * naming the address, the port and the system's reason. */
int listener_listen(const struct listener *l, int *fd, bool *v6,
		    struct error *e);
/* The port the socket fd is bound to (the kernel's choice for port 0),
 * or 0. */
int listener_port(int fd);

/* The real client of a request from a listed proxy: the rightmost
 * X-Forwarded-For address that is not a listed proxy, into rq->req.peer
 * (left as the proxy's when there is none). */
void peer_forwarded(struct request *rq);

/* ---- inflight.c: counts per client address, behind a proxy */

struct addr_counts *addr_counts_new(size_t cap);
void addr_counts_free(struct addr_counts *t);
/* Count one more for addr unless it has max already: true when counted. */
bool addr_counts_take(struct addr_counts *t, const char *addr, int max);
void addr_counts_give(struct addr_counts *t, const char *addr);

/* ---- files.c */

/* Read the listener's certificate and key (freed by listener_stop, the key
 * wiped first). Returns 0, or -1 with e set. */
int listener_tls(struct listener *l, const char *data_dir,
		 struct error *e);
/* Load the trust anchors for client certificates, and the CA PEM that
 * makes libmicrohttpd ask for one (both freed by listener_stop). Returns
 * 0, or -1 with e set. */
int listener_trust(struct listener *l, const char *data_dir,
		   struct error *e);

/* ---- deadline.c: slow clients */

/* Start and stop the thread that closes connections past their deadline.
 * deadline_start returns 0, or -1 with e set. */
int deadline_start(struct http_server *srv, struct error *e);
void deadline_stop(struct http_server *srv);
/* A connection opened (its head deadline starts) or closed. */
void deadline_add(struct http_server *srv, struct conn_state *cs);
void deadline_remove(struct http_server *srv, struct conn_state *cs);
/* The next deadline: a request head from now, a body of bytes from now,
 * or none while the request is ours. */
void deadline_head(struct http_server *srv, struct conn_state *cs);
void deadline_body(struct http_server *srv, struct conn_state *cs,
		   uint64_t bytes);
void deadline_none(struct conn_state *cs);

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
