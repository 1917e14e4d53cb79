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

/* Where the listeners answer ("" for one that is off). */
struct cli_urls {
	char public_url[128];
	char network_url[128];
	char eid_url[128];
};

/* Called once every listener accepts connections. */
typedef int (*cli_ready_fn)(void *ctx, struct http_server *srv,
			    const struct cli_urls *urls);

/* Create the data directory, its keys, the database and (when absent) a
 * kruispunt.ini describing cfg. Existing keys are never replaced.
 * Returns 0, or -1 with e set. */
int cli_init_dir(const struct cli_config *cfg, struct error *e);

/* Write cfg, every key described, to path (replacing it), below header
 * (comment lines, each "; ...\n"). Returns 0, or -1 with e set. */
int cli_write_config(const struct cli_config *cfg, const char *path,
		     const char *header, struct error *e);

/* Write a new file with mode 0600 (a key); an existing one is left
 * alone. Returns 0, or -1 with e set. */
int cli_write_new(const char *path, const void *data, size_t n,
		  struct error *e);
/* Write a new file with mode 0600, fsynced. Returns 0; 1 with e when path
 * exists already (left alone); -1 with e otherwise. */
int cli_write_excl(const char *path, const void *data, size_t n,
		   struct error *e);
/* fsync the directory dir, so that what was created or renamed in it
 * lasts a crash. Returns 0, or -1 (errno). */
int cli_fsync_dir(const char *dir);

/* store.password_file's first line (resolved against the data directory)
 * into out, n bytes at most with its NUL; the caller wipes it. Returns 0,
 * or -1 with e set (a file others may read is refused). */
int cli_store_password(const struct cli_config *cfg, char *out, size_t n,
		       struct error *e);

/* mkdir -p with mode 0700. Returns 0, or -1 with e set. */
int cli_mkdir_p(const char *path, struct error *e);

/* Read a key file of exactly len bytes (relative to the data directory).
 * Returns 0, or -1 with e set. The caller wipes out when done. */
int cli_read_key(const struct cli_config *cfg, const char *rel, uint8_t *out,
		 size_t len, struct error *e);
/* Read a key file of exactly len bytes at path, as given: relative to the
 * working directory, like every path an operator types. Returns 0, or -1
 * with e set. The caller wipes out when done. */
int cli_read_key_file(const char *path, uint8_t *out, size_t len,
		      struct error *e);
/* The Ed25519 secret key at path, made (mode 0600) when there is none:
 * a witness's. Returns 0 with sk (the caller wipes it), or -1 with e. */
int cli_ed25519_key(const char *path, uint8_t sk[ED25519_SK_LEN],
		    struct error *e);

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
/* The log's origin (audit.origin, or the one derived from auth.public_url)
 * into out (AUDIT_ORIGIN_MAX + 1 bytes). */
void cli_log_origin(const struct cli_config *cfg, char *out);

/* Open the store of cfg: SQLite brings its schema up to date, PostgreSQL
 * refuses a schema behind the binary (kruispunt migrate). Returns 0 and
 * *out, or -1 with e set. */
int cli_open_store(const struct cli_config *cfg, struct store **out,
		   struct error *e);
/* The same with the schema's handling given. */
int cli_open_store_mode(const struct cli_config *cfg,
			enum store_migrate_mode mode, struct store **out,
			struct error *e);

/* Serve until SIGINT or SIGTERM, then shut down cleanly. Takes ownership
 * of store. Returns the process exit code (0, or 1 when ready failed), or
 * -1 with e set when a subsystem or a listener could not start
 * (cli_start_failed says so). */
int cli_serve(const struct cli_config *cfg, struct store *store,
	      cli_ready_fn ready, void *ctx, struct error *e);

/* Wait for SIGINT or SIGTERM (blocked by main), flushing the buffered
 * log meanwhile. Returns the signal. */
int cli_wait_for_signal(void);

/* One line on stderr for cli_serve's e, "kruispunt CMD: ...", and for a
 * port that cannot be listened on, what to do about it (--port). */
void cli_start_failed(const char *cmd, const struct error *e);

/* --port N of serve and demo: the public listener on N, the network
 * listener on N+1 (0: the kernel picks both). */
void cli_set_ports(struct cli_config *cfg, int port);
/* The portal's files: portal.web_dir (relative to data_dir), or when it
 * is empty share/kruispunt/web beside the binary (an installed daemon),
 * or else the source tree's web/ (a build tree). Returns 0, or -1 when
 * the path is too long. */
int cli_web_dir(const struct cli_config *cfg, char *out, size_t n);

/* A whole decimal number in [min, max]: 0 and *out, or -1 for anything
 * else (trailing characters, empty, out of range). */
int cli_number(const char *s, long long min, long long max, long long *out);

/* The arguments of a command that takes one option, --name VALUE: 0 and
 * *value (NULL when absent), or -1 for anything else (another option, a
 * stray argument). */
int cli_one_option(int argc, char **argv, const char *name,
		   const char **value);

/* A command of the binary (commands.c): main() runs run(argc - 1,
 * argv + 1), so argv[0] is the command's name. */
struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis; /* its line in `kruispunt --help` */
	const char *summary;  /* what it does, a few words */
	const char *usage;    /* "usage: kruispunt NAME ...", every option */
};
extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/* The command called name, or NULL. */
const struct cli_command *cli_command_find(const char *name);
/* Every command's synopsis and summary (`kruispunt --help`). */
void cli_help_overview(FILE *out);
/* Command name's usage to out. Returns 0, or -1 for no such command. */
int cli_help(const char *name, FILE *out);
/* Command name's usage to stderr. Returns 2, a usage error's exit code. */
int cli_usage(const char *name);

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_authz(int argc, char **argv);
int cmd_oidc(int argc, char **argv);
/* The demo's OpenID Connect client (demo-app, for applications on the
 * loopback at port 8080), registered once; its id and secret are kept in
 * DATA/CLI_OIDC_DEMO_CLIENT (0600) for the manifest. Returns 0, or -1 with
 * e. */
#define CLI_OIDC_DEMO_CLIENT "oidc-demo-client.json"
/* `kruispunt oidc provider add|list|remove` (federation.c). */
int cli_oidc_provider(int argc, char **argv);
struct federation_provider_spec;
/* Register an external provider, by the operator (replace: the one of
 * that id removed first, as the demo does at each start). Returns 0, or
 * -1 with e. */
int cli_federation_add(const struct cli_config *cfg, struct audit *log,
		       const struct federation_provider_spec *spec,
		       bool replace, struct error *e);
int cli_oidc_demo_client(const struct cli_config *cfg, struct audit *log,
			 struct error *e);
int cmd_org(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_directory(int argc, char **argv);
int cmd_activation(int argc, char **argv);
int cmd_witness(int argc, char **argv);

/* The options cfg's [auth] and [notify] give (without the master key,
 * which the caller reads and wipes). */
void cli_auth_options(const struct cli_config *cfg, struct auth_options *o);
/* Authentication for an operator's command on log, with the master key of
 * cfg's data directory (wiped after). Returns 0 with *out (auth_close),
 * or -1 with e. */
int cli_auth_open(const struct cli_config *cfg, struct audit *log,
		  struct auth **out, struct error *e);
void cli_notify_options(const struct cli_config *cfg,
			struct notify_options *o);
int cmd_import(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);

/* `kruispunt audit verify` of data's log, its lines printed, errors named
 * "kruispunt CMD: ...": with the public key at key_file, or the data
 * directory's when NULL; when newest is not NULL (a verifier key or a
 * public key file), the chain must end at that key. Returns the exit
 * code: 0 intact, 1 not, 3 when the log cannot be read. */
int cli_audit_verify(const char *cmd, const char *data, const char *key_file,
		     const char *newest);
/* `kruispunt audit key rotate --data DIR` (audit_rotate.c). Returns the
 * exit status. */
int cli_audit_rotate(const char *data);

#endif
