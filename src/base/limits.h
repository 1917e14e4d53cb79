/*
 * Every limit kruispunt enforces, in one place. A limit exists so that a
 * stranger cannot make the daemon spend unbounded memory, CPU or disk; each
 * says why it has its value. docs/LIMITS.md explains them to operators.
 */
#ifndef KP_BASE_LIMITS_H
#define KP_BASE_LIMITS_H

/* Identifiers as typed by people may carry separators ("85.07.30-033.28");
 * anything longer than this is not an identifier. */
#define LIMIT_ID_INPUT          32

/* Request bodies. Routes reachable without authentication get the small
 * limit: a stranger has no reason to send more than a login form. */
#define LIMIT_BODY_PREAUTH      (4 * 1024)
#define LIMIT_BODY_DEFAULT      (64 * 1024)
/* Batch uploads (NDJSON, one exchange per line). */
#define LIMIT_BODY_BATCH        (256 * 1024 * 1024)

/* JSON nesting. Our documents are at most a few levels deep; deep nesting is
 * only ever an attack on a recursive parser. */
#define LIMIT_JSON_DEPTH        16

/* A request path and its query string. */
#define LIMIT_URL               2048
/* Path parameters a route may capture ("/orgs/{kbo}/roles/{id}"). */
#define LIMIT_PATH_PARAMS       4
/* Path segments a request may have before routing refuses it. */
#define LIMIT_PATH_SEGMENTS     16

/* A header value we copy (proxy certificate header, request id). */
#define LIMIT_HEADER_VALUE      8192

/* A client certificate, PEM-encoded, as forwarded by a TLS proxy. */
#define LIMIT_CERT_PEM          8192

/* One structured log line; longer values are cut, never the line split. */
#define LIMIT_LOG_LINE          4096
/* A single value inside a log line: hostile bytes never reach the log raw
 * and never at length. */
#define LIMIT_LOG_VALUE         256

/* Free text in a problem detail. */
#define LIMIT_ERROR_DETAIL      256

/* Concurrent connections per listener and per client address. */
#define LIMIT_CONNECTIONS       4096
#define LIMIT_CONNECTIONS_PER_IP 256
/* Seconds a connection may stay idle before libmicrohttpd closes it. */
#define LIMIT_CONNECTION_IDLE_S 60

/* Trusted proxy addresses a listener may list. */
#define LIMIT_PROXY_ADDRESSES   16

/* A config file; more than this is not a config file. */
#define LIMIT_CONFIG_FILE       (64 * 1024)
/* A path we build from the data directory. */
#define LIMIT_PATH              1024

/* One text field of an audit event (purpose, legal basis, ...). */
#define LIMIT_AUDIT_FIELD       256
/* Events one audit query returns, and events it may read to find them:
 * a filter that matches rarely cannot make one request scan ten years. */
#define LIMIT_AUDIT_PAGE        1000
#define LIMIT_AUDIT_SCAN        200000

/* Prepared statements cached per store connection. */
/* Validated sessions kept in memory (src/auth/session_cache.c): slots,
 * about 100 bytes each. */
#define LIMIT_SESSION_CACHE     8192

#define LIMIT_STMT_CACHE        64

#endif
