/*
 * http: the HTTP server. libmicrohttpd does the protocol and GnuTLS the TLS;
 * this module adds what every request needs before a handler may see it:
 *
 *   1. routing by one table of routes (data, not code), deny by default: a
 *      route answers only on the listeners it names;
 *   2. the body limit of the route (413), JSON parsing (400);
 *   3. authentication the route requires (client certificate of a known
 *      institution, or a user session) and its minimum level and role;
 *   4. mapping a module's struct error to a status and an RFC 9457 problem
 *      (the only place that does so), request id, access log, metrics.
 *
 * The route table itself lives in src/api; src/http knows no handler.
 */
#ifndef KP_HTTP_H
#define KP_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/base.h"

/* ------------------------------------------------------------- limits */

/* The limits src/http alone enforces (docs/LIMITS.md). */

/* Path parameters a route may capture ("/orgs/{kbo}/roles/{id}"). */
#define LIMIT_PATH_PARAMS       4
/* Path segments a request may have before routing refuses it. */
#define LIMIT_PATH_SEGMENTS     16
/* A client certificate, PEM-encoded, as forwarded by a TLS proxy. */
#define LIMIT_CERT_PEM          8192
/* Concurrent connections per listener, and by default per client address
 * ([server] connections_per_address): 4,096 connections held open from 17
 * addresses once made the public listener unreachable; at 64 an attacker
 * needs 64 addresses to fill it, while a browser opens about 6. Behind a
 * proxy the same number caps each real client's requests in flight
 * instead (inflight.c): every connection comes from the proxy. */
#define LIMIT_CONNECTIONS       4096
#define LIMIT_CONNECTIONS_PER_IP 64
/* Seconds a client has for a complete request head, by default ([server]
 * request_head_timeout), and the slowest body it may send, in bytes per
 * second, beyond that: libmicrohttpd's idle timeout alone lets a client
 * that trickles keep its connection for ever (deadline.c). */
#define LIMIT_REQUEST_HEAD_S    10
#define LIMIT_BODY_MIN_RATE     (64 * 1024)
/* Seconds a connection may stay idle before libmicrohttpd closes it. */
#define LIMIT_CONNECTION_IDLE_S 60
/* Trusted proxy addresses a listener may list. */
#define LIMIT_PROXY_ADDRESSES   16
/* The portal's static files (static.c), all held in memory from the
 * start: a file, all of them together, how many, how deep. The portal is
 * a few pages, scripts and fonts; a tree past these is a wrong web_dir
 * (a home directory, a source tree), refused rather than served. */
#define LIMIT_STATIC_FILE       (2 * 1024 * 1024)
#define LIMIT_STATIC_TOTAL      (32 * 1024 * 1024)
#define LIMIT_STATIC_FILES      1024
#define LIMIT_STATIC_DEPTH      8
/* A static file's path, and a return path after an eID login. */
#define LIMIT_STATIC_PATH       256
#define LIMIT_RETURN_PATH       512

/* Set-Cookie of the session cookie: name, 64 hex digits, attributes;
 * and how many one answer sets (the session's and the eID login's). */
#define HTTP_SET_COOKIE_MAX     192
#define HTTP_SET_COOKIES        2

/* ------------------------------------------------------------- config */

enum client_cert_mode { CLIENT_CERT_NONE = 0, CLIENT_CERT_OPTIONAL,
			CLIENT_CERT_REQUIRED };

/* One HTTP listener ([public], [network]). Paths are relative to the data
 * directory unless they start with '/'. */
struct listener_config {
	bool enabled;
	char address[64];
	int port;
	bool tls;
	char tls_cert[LIMIT_PATH];
	char tls_key[LIMIT_PATH];
	char client_ca[LIMIT_PATH];
	char crl[LIMIT_PATH];
	enum client_cert_mode client_cert;
	/* Behind a TLS-terminating proxy: the client certificate arrives in
	 * proxy_cert_header, believed only from proxy_addresses. */
	bool behind_proxy;
	char proxy_addresses[512];
	char proxy_cert_header[64];
	/* Serve the routes marked LISTENER_OPERATIONS (/metrics) here. */
	bool metrics;
};

/* The server's keys (http_config.c): server.threads,
 * server.anonymous_posts_per_second and the two listeners. */
struct http_config {
	int threads; /* 0: one per core */
	int public_posts_per_second;
	int connections_per_address; /* 0: LIMIT_CONNECTIONS_PER_IP */
	int request_head_timeout;    /* seconds; 0: LIMIT_REQUEST_HEAD_S */
	struct listener_config public_listener;
	struct listener_config network_listener;
	/* The eID login's own listener: it demands a citizen's certificate,
	 * so the public listener never has to ask a browser for one. */
	struct listener_config eid_listener;
	/* [portal] web_dir: the portal's static files ("": found beside the
	 * binary, see src/cli). */
	char web_dir[LIMIT_PATH];
};
extern const struct config_key http_config_keys[];
extern const size_t http_config_nkeys;

enum http_listener {
	LISTENER_PUBLIC = 1 << 0,  /* portal + user API */
	LISTENER_NETWORK = 1 << 1, /* institution API, client certificates */
	/* Any listener whose `metrics` key is on (off on the public listener
	 * by default): operations data is not for strangers. */
	LISTENER_OPERATIONS = 1 << 2,
	/* The eID login: a citizen's certificate on every connection. */
	LISTENER_EID = 1 << 3,
};

enum http_method {
	METHOD_GET = 1 << 0,
	METHOD_POST = 1 << 1,
	METHOD_PUT = 1 << 2,
	METHOD_DELETE = 1 << 3,
	METHOD_HEAD = 1 << 4,
};

/* Who must be calling. Checked before the handler runs. */
enum http_auth {
	AUTH_NONE = 0,        /* anyone */
	AUTH_SESSION,         /* a user with a valid session (Bearer token) */
	AUTH_INSTITUTION,     /* a client certificate mapped to an institution */
	AUTH_ORGANISATION,    /* one mapped to any organisation of the network:
				 an institution, or a mandate holder */
	AUTH_ANON_LIMITED,    /* anyone, rate limited per address as an
				 anonymous POST is: a GET that writes for
				 strangers (OpenID Connect's requests) */
};

enum http_body {
	BODY_NONE = 0, /* any body is refused (413) */
	BODY_JSON,     /* parsed into req->json; malformed -> 400 */
	BODY_RAW,      /* handed over as bytes (NDJSON batches) */
	BODY_FORM,     /* application/x-www-form-urlencoded (OAuth 2.0's
			  endpoints), decoded by libmicrohttpd into
			  req->json as an object of strings; a parameter
			  given twice, or malformed, -> 400 */
};

/* The authenticated caller. */
struct http_principal {
	enum http_auth kind; /* AUTH_NONE: anonymous */
	/* AUTH_INSTITUTION, AUTH_ORGANISATION (institution_id 0: an
	 * organisation that is no institution) */
	int64_t institution_id;
	char kbo[11];
	char name[128];
	char actor_type[64];
	char branch[64];
	/* The natural person on whose behalf the organisation's system asks
	 * (header Kruispunt-On-Behalf-Of, an INSZ as digits), or "": the
	 * organisation answers for that assertion and every event of the
	 * request records the person. */
	char on_behalf_of[INSZ_BUF];
	/* AUTH_SESSION (filled by the session resolver) */
	char insz[INSZ_BUF];
	int level;
	char profile[32];
	int64_t expires_at;
	char token[TOKEN_HEX_LEN]; /* the session token, for logout */
	/* The token came in the portal's cookie, not in Authorization: the
	 * request passed the CSRF check (or is a GET or HEAD). */
	bool cookie;
};

/* A client certificate as verified by this server (TLS) or by a trusted
 * proxy (header). */
struct http_client_cert {
	bool present;  /* the client offered one */
	bool verified; /* chain, validity and revocation checked */
	const char *reason; /* why not verified (static text) */
	uint8_t fingerprint[SHA256_LEN]; /* SHA-256 of the DER encoding */
	char subject[256];
	char serial_number[64]; /* subject serialNumber (2.5.4.5) */
	int64_t not_before, not_after;
};

struct http_request {
	enum http_listener listener;
	enum http_method method;
	const char *path;
	const struct http_route *route;
	/* Path parameters, in the order of {name} in the route's pattern. */
	const char *params[LIMIT_PATH_PARAMS];
	int nparams;
	json_t *json;        /* BODY_JSON: the parsed body (borrowed) */
	const char *body;    /* BODY_RAW: the bytes (borrowed) */
	size_t body_len;
	struct http_principal who;
	const struct http_client_cert *cert; /* NULL when none */
	char request_id[UUID_LEN];
	char peer[64];       /* client address as text */
	void *internal;      /* src/http private */
};

/* A request whose answer comes later: its connection is suspended while
 * another thread works on it. Owned by src/http, valid until
 * http_resume. */
struct http_deferred;

/* What a handler produces: either a JSON body with a status, or an error
 * (which src/http renders as a problem). */
struct http_response {
	int status;          /* 0: derived from err, or 200 */
	json_t *json;        /* owned; freed by src/http */
	char *text;          /* owned, alternative to json (metrics, NDJSON) */
	size_t text_len;
	const char *content_type; /* static; default application/json */
	/* static; default "no-store" (answers carry personal data). Only for
	 * public, unchanging answers (the log's tiles). Never on errors. */
	const char *cache_control;
	struct error err;
	json_t *problem_extra; /* owned; extra members of a problem */
	char ticket[UUID_LEN]; /* sent as X-Kruispunt-Ticket when set */
	/* Sent as Set-Cookie headers when set (http_session_cookie,
	 * http_cookie_set); wiped once sent. */
	char set_cookie[HTTP_SET_COOKIES][HTTP_SET_COOKIE_MAX];
	/* Sent as Location when set (a 303); owned, freed by src/http. */
	char *location;
	/* Sent as WWW-Authenticate when set (static: OAuth 2.0's 401s). */
	const char *www_authenticate;
	/* A handler whose answer must wait (for a durable audit event)
	 * returns 0 with a continuation in defer: src/http suspends the
	 * connection, so no thread blocks, then calls defer(req, d,
	 * defer_ctx) on the same thread. Whoever completes the answer fills
	 * http_deferred_response(d) and calls http_resume(d), exactly once,
	 * from any thread; the answer is sent from the request's last call,
	 * as every other. */
	void (*defer)(struct http_request *req, struct http_deferred *d,
		      void *ctx);
	void *defer_ctx;
};

/* A handler translates between HTTP and module calls, nothing more. It
 * returns 0 with res filled, or -1 with res->err set. */
typedef int (*http_handler)(struct http_request *req, struct http_response *res,
			    void *app);

struct http_route {
	unsigned methods;      /* enum http_method bits */
	const char *pattern;   /* "/api/v1/orgs/{kbo}/roles" */
	unsigned listeners;    /* enum http_listener bits; 0 = nowhere */
	enum http_auth auth;
	int min_level;         /* AUTH_SESSION: minimum FAS level */
	const char *role;      /* AUTH_SESSION: required role, or NULL */
	enum http_body body;
	size_t body_limit;     /* bytes; 0 = LIMIT_BODY_DEFAULT */
	http_handler handler;
};

/* Resolves a verified certificate fingerprint to the organisation it was
 * registered for. Returns 0 and fills who (institution_id 0 when the
 * organisation is no institution); 1 when the certificate belongs to no
 * organisation; -1 on failure, with e set: the request is refused with
 * it. */
typedef int (*http_institution_resolver)(void *app,
					 const uint8_t fp[SHA256_LEN],
					 struct http_principal *who,
					 struct error *e);

/* Resolves a session token to its person and level. Returns 0 and fills
 * who; 1 when the token is no (longer a) valid session; -1 on failure,
 * with e set: the request is refused with it. */
typedef int (*http_session_resolver)(void *app, const char *token,
				     struct http_principal *who,
				     struct error *e);
/* Does the session's person hold role for this request (the organisation
 * is the route's {kbo}, or the session's profile)? NULL when held;
 * otherwise why not, a static word ("missing", "expired", "revoked") that
 * the 403 role_required problem carries as its reason. */
typedef const char *(*http_role_check)(void *app, struct http_request *req,
				       const char *role);

/* The CSRF value of a session token (HTTP_CSRF_HEX - 1 hex digits and a
 * NUL into out): a MAC under a key only the server holds, so a page that
 * cannot read the cookie cannot make it. */
typedef void (*http_csrf_fn)(void *app, const char *token, char *out);
/* Where citizens reach the public listener (auth.public_url): a
 * state-changing request's Origin must be its origin. Borrowed, stable
 * until the server stops. */
typedef const char *(*http_public_url_fn)(void *app);

struct http_server;

struct http_server_options {
	const struct http_config *cfg;
	const char *data_dir; /* what relative paths of cfg start from */
	const struct http_route *routes;
	size_t nroutes;
	void *app; /* passed to handlers and resolvers */
	http_institution_resolver resolve_institution;
	http_session_resolver resolve_session;
	http_role_check has_role;
	/* The portal's cookie sessions: without both, a cookie is never a
	 * session. */
	http_csrf_fn csrf;
	http_public_url_fn public_url;
	/* The portal's static files (absolute; "" or NULL: none). */
	const char *web_dir;
};

/* Start every enabled listener. Returns 0 and *out (stop with
 * http_server_stop), or -1 with e set. */
int http_server_start(const struct http_server_options *opt,
		      struct http_server **out, struct error *e);
/* Stop accepting, finish requests in flight, free everything. */
void http_server_stop(struct http_server *srv);
/* The port a listener is bound to (useful with port 0), or 0. */
int http_server_port(const struct http_server *srv, enum http_listener l);

/* A query-string argument of the request, or NULL. Borrowed. */
const char *http_query(struct http_request *req, const char *key);
/* Every query parameter as a JSON object of strings (the caller frees),
 * or NULL when one is given twice (OAuth 2.0 requests refuse that, RFC
 * 6749 section 3.1) or is not valid UTF-8. */
json_t *http_query_object(struct http_request *req);
/* The response of a deferred request, for its completion to fill (a body,
 * or err). Borrowed: valid until http_resume. */
struct http_response *http_deferred_response(struct http_deferred *d);
/* A deferred response is complete: send it. Callable from any thread,
 * once; see http_response.defer. */
void http_resume(struct http_deferred *d);

/* The header an organisation's system names the natural person with, on
 * whose behalf it asks (struct http_principal's on_behalf_of). */
#define HTTP_ON_BEHALF_OF "Kruispunt-On-Behalf-Of"

/* The portal's session cookie. __Host-: only this host, only over TLS,
 * Path=/, no Domain (a sibling host cannot set or read it). */
#define HTTP_SESSION_COOKIE "__Host-kp_session"
/* A login that asks for the cookie instead of a token in the body
 * (value "cookie"), and the header a cookie session's state-changing
 * request carries its CSRF value in. */
#define HTTP_SESSION_MODE "Kruispunt-Session"
#define HTTP_CSRF_HEADER "Kruispunt-CSRF"
/* 64 hex digits and a NUL. */
#define HTTP_CSRF_HEX 65

/* Set the session cookie on res for token, living max_age_s more seconds
 * (HttpOnly, Secure, SameSite=Strict); max_age_s <= 0 or token NULL
 * clears it. */
void http_session_cookie(struct http_response *res, const char *token,
			 int64_t max_age_s);
/* The browser's state of an eID login in progress (an HttpOnly cookie
 * of the portal's host, SameSite=Strict, a few minutes). */
#define HTTP_EID_STATE_COOKIE "__Host-kp_eid_state"
/* Set cookie name (a "__Host-" name of ours) to value (64 hex digits;
 * NULL clears it) for max_age_s seconds, HttpOnly, Secure,
 * SameSite=Strict, Path=/, beside any other this answer sets. */
void http_cookie_set(struct http_response *res, const char *name,
		     const char *value, int64_t max_age_s);
/* The same with SameSite=Lax, for the one cookie that must come back on
 * another site's top-level navigation to us: an external provider's
 * redirect back after a login (src/federation). A Strict cookie is not
 * sent on that navigation, since it starts on the provider's site; Lax
 * sends it there (a GET, top level) and still never on another site's
 * subrequests or POSTs. It holds only a one-time binding, never a
 * session. */
void http_cookie_set_lax(struct http_response *res, const char *name,
			 const char *value, int64_t max_age_s);
/* Redirect (303 See Other) to url; res owns a copy. Returns 0. */
int http_redirect(struct http_response *res, const char *url);
/* Was the request sent by a page of another site (Sec-Fetch-Site:
 * cross-site)? Browsers set it and pages cannot. */
bool http_cross_site(struct http_request *req);

/* A path the portal's static files may have: "/" and then segments of
 * [A-Za-z0-9_-.], none empty or starting with '.', at most
 * LIMIT_STATIC_PATH bytes. Anything else (.., dotfiles, NUL, backslash,
 * //, control bytes, %) is no file of ours. */
bool http_static_path_ok(const char *path);
/* A return path after a login that stays on this site: one '/', then
 * printable ASCII without backslash, space, quotes or angle brackets, and
 * not "//" (another host) at its start; at most LIMIT_RETURN_PATH bytes.
 * http_return_path gives path when it is one, "/" otherwise. */
bool http_return_path_ok(const char *path);
const char *http_return_path(const char *path);
/* s percent-encoded for a query string: everything but RFC 3986's
 * unreserved characters and '/'. The caller frees the result. */
char *http_query_escape(const char *s);
/* The origin of url ("https://host:port", no path) into out. Returns 0,
 * or -1 when url has no scheme and host or out is too small. */
int http_origin_of(const char *url, char *out, size_t n);

/* A request header, or NULL. Borrowed. */
const char *http_header(struct http_request *req, const char *name);
/* The cookie of exactly this name (case-sensitive: "__Host-" means what it
 * says only so), or NULL when absent or sent more than once (a sibling
 * host may plant a second cookie of a name to have it read first). */
const char *http_cookie(struct http_request *req, const char *name);

/* Prometheus text of the server's request metrics; the caller frees it. */
char *http_metrics_render(struct http_server *srv, size_t *len);
/* The server a request belongs to (for handlers that report on it). */
struct http_server *http_request_server(struct http_request *req);

/* Read a PEM certificate file: fingerprint, subject, validity (out's
 * verified stays false: nothing was checked). Returns 0, or -1 with e. */
int http_cert_file(const char *path, struct http_client_cert *out,
		   struct error *e);

/* Status for an error kind: the one mapping from module errors to HTTP. */
int http_status_for(enum err_kind kind);
const char *http_status_title(int status);

/* Convenience for handlers: set res to a JSON body and status. Takes
 * ownership of json. Returns 0. */
int http_reply_json(struct http_response *res, int status, json_t *json);

#endif
