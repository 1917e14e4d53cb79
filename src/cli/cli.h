/* The subcommands of the kruispunt binary (src/cli only). */
#ifndef KP_CLI_H
#define KP_CLI_H

#include "audit/audit.h"
#include "base/base.h"
#include "cli/modules.h"
#include "http/http.h"
#include "store/store.h"

/* Who an operator's command acts as, in the events it records. */
extern const struct audit_actor cli_operator;

/* Called once every listener accepts connections. */
typedef int (*cli_ready_fn)(void *ctx, struct http_server *srv,
			    const char *public_url, const char *network_url);

/* Create the data directory, its keys, the database and (when absent) a
 * kruispunt.ini describing cfg. Existing keys are never replaced.
 * Returns 0, or -1 with e set. */
int cli_init_dir(const struct cli_config *cfg, struct error *e);

/* mkdir -p with mode 0700. Returns 0, or -1 with e set. */
int cli_mkdir_p(const char *path, struct error *e);

/* Read a key file of exactly len bytes (relative to the data directory).
 * Returns 0, or -1 with e set. The caller wipes out when done. */
int cli_read_key(const struct cli_config *cfg, const char *rel, uint8_t *out,
		 size_t len, struct error *e);

/* The configuration of a data directory (its kruispunt.ini when there is
 * one, with data_dir = data) and, when s is not NULL, its store. */
int cli_open_data(const char *data, struct cli_config *cfg, struct store **s,
		  struct error *e);

/* cli_init_dir for a data directory given on the command line (made
 * absolute); cfg receives its defaults. */
int cli_init_dir_at(const char *data, struct cli_config *cfg, struct error *e);

/* Open the audit log of cfg's data directory on s (its signing key, its
 * retention): what an operator's command records its changes in. Returns
 * 0 and *out (audit_close), or -1 with e set. */
int cli_open_log(const struct cli_config *cfg, struct store *s,
		 struct audit **out, struct error *e);

/* Open the store of cfg. Returns 0 and *out, or -1 with e set. */
int cli_open_store(const struct cli_config *cfg, struct store **out,
		   struct error *e);

/* Serve until SIGINT or SIGTERM, then shut down cleanly. Takes ownership
 * of store. Returns the process exit code. */
int cli_serve(const struct cli_config *cfg, struct store *store,
	      cli_ready_fn ready, void *ctx);

/* A whole decimal number in [min, max]: 0 and *out, or -1 for anything
 * else (trailing characters, empty, out of range). */
int cli_number(const char *s, long long min, long long max, long long *out);

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_authz(int argc, char **argv);
int cmd_org(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_directory(int argc, char **argv);

#endif
