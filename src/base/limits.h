/*
 * The limits several modules share, each in one place with its reason. A
 * limit that only one module enforces lives in that module's header, named
 * once beside its reason (src/http/http.h: connections, path, certificate;
 * src/audit/audit.h: audit fields and queries; src/api/api.h: the body of
 * pre-auth and batch routes; src/hub/hub_internal.h; src/auth/auth.h;
 * src/store/store.h). docs/LIMITS.md lists them all for operators. A
 * limit exists so that a stranger cannot make the daemon spend unbounded
 * memory, CPU or disk.
 */
#ifndef KP_BASE_LIMITS_H
#define KP_BASE_LIMITS_H

/* Identifiers as typed by people may carry separators ("85.07.30-033.28");
 * anything longer than this is not an identifier. */
#define LIMIT_ID_INPUT          32

/* The body of an authenticated request (src/http's default for a route
 * that names none), and one line of a batch (src/hub): a line is one
 * exchange request, which never needs more than a request body. */
#define LIMIT_BODY_DEFAULT      (64 * 1024)

/* JSON nesting. Our documents are at most a few levels deep; deep nesting is
 * only ever an attack on a recursive parser. */
#define LIMIT_JSON_DEPTH        16

/* A request path and its query string (src/http refuses it, src/api
 * builds links within it). */
#define LIMIT_URL               2048

/* One structured log line; longer values are cut, never the line split. */
#define LIMIT_LOG_LINE          4096
/* A single value inside a log line: hostile bytes never reach the log raw
 * and never at length. */
#define LIMIT_LOG_VALUE         256

/* Free text in a problem detail. */
#define LIMIT_ERROR_DETAIL      256

/* A config file; more than this is not a config file. */
#define LIMIT_CONFIG_FILE       (64 * 1024)
/* A path we build from the data directory. */
#define LIMIT_PATH              1024

#endif
