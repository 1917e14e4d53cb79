/*
 * The commands of the kruispunt binary, in one table: the name main()
 * dispatches on, the line `kruispunt --help` shows, and the usage that
 * `kruispunt help COMMAND`, `kruispunt COMMAND --help` and the command's
 * own usage errors print. One table, so that the overview, the help of a
 * command and what the command accepts cannot drift apart (the README's
 * command list is checked against the overview by tests/e2e).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int cmd_version(int argc, char **argv)
{
	KP_UNUSED(argv);
	if (argc > 1)
		return cli_usage("version");
	printf("kruispunt %s (database schema %d)\n", KP_VERSION,
	       cli_schema_latest());
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		cli_help_overview(stdout);
		return 0;
	}
	if (cli_help(argv[1], stdout) == 0)
		return 0;
	fprintf(stderr, "kruispunt: unknown command '%s'\n", argv[1]);
	cli_help_overview(stderr);
	return 2;
}

const struct cli_command cli_commands[] = {
	{"init", cmd_init, "init --data DIR",
	 "create database, keys and DIR/kruispunt.ini",
	 "usage: kruispunt init --data DIR\n"
	 "  Creates DIR (mode 0700), keys/master.key, keys/audit-signing.key\n"
	 "  and .pub, the database and DIR/kruispunt.ini (every key with its\n"
	 "  default). Existing keys and an existing kruispunt.ini are kept.\n"},
	{"serve", cmd_serve, "serve --config FILE [--port N]", "run the daemon",
	 "usage: kruispunt serve --config FILE [--port N]\n"
	 "  --config FILE  the configuration (required); `kruispunt init\n"
	 "                 --data DIR` writes one at DIR/kruispunt.ini\n"
	 "  --port N       public listener on N, network on N+1, instead of\n"
	 "                 public.port and network.port (0: any free ports)\n"},
	{"demo", cmd_demo, "demo --data DIR [--port N]",
	 "init + demo data + dev PKI + serve",
	 "usage: kruispunt demo --data DIR [--port N]\n"
	 "  --port N   public listener on N, network on N+1 (default 8443;\n"
	 "             0: any free ports)\n"
	 "  DIR/kruispunt.ini is rewritten on each start with what the demo\n"
	 "  runs with: `kruispunt config --config DIR/kruispunt.ini`.\n"},
	{"audit", cmd_audit, "audit verify|purge|vkey|key rotate --data DIR ...",
	 "check the audit log; remove expired entries; print its verifier "
	 "key; rotate its signing key",
	 "usage: kruispunt audit verify --data DIR [--public-key FILE]\n"
	 "                     [--newest-key VKEY_OR_FILE]\n"
	 "  --public-key FILE  the audit signing public key (32 raw bytes) to\n"
	 "                     trust, relative to the working directory; by\n"
	 "                     default DIR/keys/audit-signing.pub\n"
	 "  --newest-key K     the newest signing key you obtained on your\n"
	 "                     own (a verifier key, or a file of 32 bytes):\n"
	 "                     the chain of keys must end at it\n"
	 "  Lists the chain's signing keys, each with its term.\n"
	 "  Exit 0: intact; 1: not intact; 2: usage; 3: the log cannot be read.\n"
	 "       kruispunt audit purge --data DIR [--apply]\n"
	 "  Removes the entries (the personal data) of the events older than\n"
	 "  audit.retention_days (at least ten years), keeping their leaf\n"
	 "  hashes: every checkpoint and proof still verifies. Without --apply\n"
	 "  it only says what it would remove. Recorded as the operator's.\n"
	 "       kruispunt audit vkey --data DIR [--chain]\n"
	 "  Prints the C2SP signed-note verifier key of /log/checkpoint\n"
	 "  (docs/AUDIT.md); publish it where users can find it. --chain\n"
	 "  also lists every key the database's hand-overs name.\n"
	 "       kruispunt audit key rotate --data DIR\n"
	 "  A new signing key takes over: a hand-over signed by the old and\n"
	 "  the new key is recorded, keys/audit-signing.key replaced (the old\n"
	 "  public key kept as keys/audit-signing-<n>.pub). Publish the new\n"
	 "  verifier key; tell the witnesses (docs/AUDIT.md). A run that\n"
	 "  finds keys/audit-signing.key.new finishes the rotation that left\n"
	 "  it when the log recorded it, and otherwise names both keys.\n"},
	{"migrate", cmd_migrate, "migrate --data DIR [--check]",
	 "bring the database's schema to this binary's",
	 "usage: kruispunt migrate --data DIR [--check]\n"
	 "  Applies the migrations the database lacks, each in its own\n"
	 "  transaction, under a lock that a second node waits for. On\n"
	 "  PostgreSQL the daemon refuses a schema behind its binary and waits\n"
	 "  for this command; on SQLite it migrates at start itself.\n"
	 "  --check  only say where the schema stands\n"
	 "  Exit 0: up to date (or migrated); 1: behind (--check); 3: the\n"
	 "  database cannot be opened, or is newer than this binary.\n"},
	{"export", cmd_export,
	 "export --data DIR --to postgresql URL [--password-file F]",
	 "move a SQLite installation's database into PostgreSQL",
	 "usage: kruispunt export --data DIR --to postgresql URL "
	 "[--password-file FILE]\n"
	 "  Copies every table of DIR's SQLite database, the audit log with\n"
	 "  its checkpoints included, into the PostgreSQL database at URL\n"
	 "  (postgresql://user@host:port/db, no password in it: FILE's first\n"
	 "  line, or PGPASSWORD), in one transaction, after migrating it to\n"
	 "  this binary's schema; then verifies the copied audit log with\n"
	 "  DIR/keys/audit-signing.pub. The target's audit log must be empty.\n"
	 "  The source is read in one snapshot and never changed: stop the\n"
	 "  daemon first, or what it records after the snapshot stays behind.\n"
	 "  Exit 0: copied and intact; 1: refused or failed (nothing copied).\n"},
	{"backup", cmd_backup,
	 "backup --data DIR --to FILE [--passphrase-file F|--key-file F]",
	 "an encrypted backup of the data directory, taken while it runs",
	 "usage: kruispunt backup --data DIR --to FILE "
	 "[--passphrase-file FILE | --key-file FILE]\n"
	 "       kruispunt backup key --to FILE\n"
	 "  Writes one encrypted archive (docs/BACKUP.md) of DIR's database\n"
	 "  (a consistent copy, taken while the daemon writes; PostgreSQL:\n"
	 "  pg_dump of one snapshot, from postgresql-client), every file of\n"
	 "  DIR/keys, DIR/*.ini and the newest signed audit checkpoint, with a\n"
	 "  manifest of sizes and SHA-256 digests. FILE is made mode 0600.\n"
	 "  --passphrase-file FILE  the passphrase (Argon2id), its first line\n"
	 "  --key-file FILE         a key of 32 bytes, raw or as 64 hex digits\n"
	 "  Without either, the passphrase is KRUISPUNT_BACKUP_PASSPHRASE's\n"
	 "  (for automation); never on the command line.\n"
	 "  backup key writes a new random key to FILE (mode 0600, never\n"
	 "  over an existing file): keep it apart from the backups.\n"},
	{"restore", cmd_restore,
	 "restore --from FILE --data DIR [--passphrase-file F|--key-file F] "
	 "[--to postgresql URL [--password-file F] [--allow-superuser]]",
	 "restore a backup into a new data directory and verify its log",
	 "usage: kruispunt restore --from FILE --data DIR "
	 "[--passphrase-file FILE | --key-file FILE]\n"
	 "       [--to postgresql URL [--password-file FILE] "
	 "[--allow-superuser]]\n"
	 "  DIR must not exist or be empty. Every file is checked against the\n"
	 "  backup's manifest before anything is put in place; keys are\n"
	 "  written 0600. A PostgreSQL installation's backup needs --to: a new\n"
	 "  database without tables (no password in URL; FILE's first line),\n"
	 "  filled by pg_restore in one transaction that commits only once the\n"
	 "  whole backup verified; DIR/kruispunt.ini then names it. pg_restore\n"
	 "  runs the backup's SQL as URL's role: make it a plain role owning\n"
	 "  the new database; a superuser (or CREATEROLE, BYPASSRLS) is refused\n"
	 "  unless --allow-superuser accepts that risk. A SQLite\n"
	 "  backup with --to is refused. Then the restored audit log is\n"
	 "  verified as by\n"
	 "  `kruispunt audit verify`. Exit 0: restored and intact; 1: refused\n"
	 "  or not intact (one line says why); 2: usage.\n"},
	{"witness", cmd_witness,
	 "witness init|add-log|serve --data DIR ...",
	 "run a transparency-log witness that cosigns logs' checkpoints",
	 "usage: kruispunt witness init --data DIR --name NAME\n"
	 "       kruispunt witness add-log --data DIR --vkey VKEY\n"
	 "       kruispunt witness serve --data DIR --listen HOST:PORT "
	 "--cert FILE --key FILE\n"
	 "  init creates DIR, the witness's key (DIR/witness.key) and its\n"
	 "  database, and prints its verifier key: give it to the logs it\n"
	 "  witnesses (kruispunt: audit.witnesses). add-log follows the log\n"
	 "  whose signed-note verifier key is VKEY (`kruispunt audit vkey`).\n"
	 "  serve answers POST /add-checkpoint (c2sp.org/tlog-witness) over\n"
	 "  HTTPS with the certificate and key given (PEM).\n"},
	{"oidc", cmd_oidc,
	 "oidc client add|list|rotate-secret|remove, key list|rotate|retire, "
	 "provider add|list|remove",
	 "OpenID Connect: relying applications, signing keys, external "
	 "providers",
	 "usage: kruispunt oidc client add --data DIR --id ID --name NAME "
	 "--kbo KBO\n"
	 "         --redirect-uri URI [--redirect-uri URI]... [--app APP]\n"
	 "         [--auth-method client_secret_basic|client_secret_post|"
	 "private_key_jwt]\n"
	 "         [--jwks FILE] [--scopes \"openid profile email egovnrn\"]\n"
	 "         [--min-level N] [--id-token-alg ES256|RS256]\n"
	 "         [--subject-type pairwise|public] [--post-logout-uri URI]...\n"
	 "       kruispunt oidc client list --data DIR\n"
	 "       kruispunt oidc client rotate-secret --data DIR --id ID\n"
	 "       kruispunt oidc client remove --data DIR --id ID\n"
	 "       kruispunt oidc key list --data DIR\n"
	 "       kruispunt oidc key rotate --data DIR [--alg ES256|RS256]\n"
	 "       kruispunt oidc key retire --data DIR --kid KID\n"
	 "       kruispunt oidc provider add --data DIR --id ID --name NAME\n"
	 "         --issuer URL --client-id ID --client-secret-file FILE\n"
	 "         --key-type TYPE --nrn-claim CLAIM [--ca FILE]\n"
	 "         [--acr \"VALUE ...\"] (the provider's acr values for the\n"
	 "         key type's level, required in its ID tokens)\n"
	 "       kruispunt oidc provider list --data DIR\n"
	 "       kruispunt oidc provider remove --data DIR --id ID\n"
	 "  add and rotate-secret print the client secret once (JSON); only\n"
	 "  its hash is kept. --app ties the client to a catalogue entry,\n"
	 "  whose minimum level then holds whatever the client asks.\n"
	 "  rotate makes a new signing key (it signs from the daemon's next\n"
	 "  start); both stay published until the old one is retired.\n"
	 "  provider: an external OpenID Provider whose logins open sessions\n"
	 "  at the level of --key-type; the secret is kept sealed.\n"},
	{"org", cmd_org,
	 "org add|institution|cert|endpoint|grant|revoke|roles --data DIR ...",
	 "organisations, institutions, roles",
	 "usage: kruispunt org add --data DIR --kbo KBO --name NAME "
	 "[--category C]...\n"
	 "       kruispunt org institution --data DIR --kbo KBO "
	 "--actor-type T --branch B [--endpoint URL]\n"
	 "       kruispunt org cert --data DIR --kbo KBO --cert FILE.pem\n"
	 "         (an institution's, or any organisation's own system: that\n"
	 "         one reaches only the mandate consultation)\n"
	 "       kruispunt org endpoint --data DIR --kbo KBO [--endpoint URL] "
	 "[--timeout-ms N]\n"
	 "         (--endpoint \"\" clears it; --timeout-ms 0: the hub's "
	 "default)\n"
	 "       kruispunt org grant --data DIR --kbo KBO --insz INSZ "
	 "--role ROLE --until YYYY-MM-DD [--from YYYY-MM-DD]\n"
	 "       kruispunt org revoke --data DIR --kbo KBO --id N\n"
	 "       kruispunt org roles --data DIR --kbo KBO\n"},
	{"activation", cmd_activation,
	 "activation issue --data DIR --insz INSZ --email ADDR ...",
	 "issue an activation as a registration office does",
	 "usage: kruispunt activation issue --data DIR --insz INSZ --email ADDR\n"
	 "         [--phone +CCNUMBER] [--language nl|fr|de|en] [--office KBO]\n"
	 "  Prints {id, activation_code, expires_at, keys_to_deactivate} as\n"
	 "  JSON: the code goes on paper to the person; the link goes to ADDR\n"
	 "  through the outbox (a running daemon delivers it). Recorded with\n"
	 "  the operator as actor.\n"},
	{"directory", cmd_directory,
	 "directory capacity|data-type|availability --data DIR ...",
	 "reference data",
	 "usage: kruispunt directory capacity --data DIR --branch B "
	 "--code NNN --label TEXT\n"
	 "       kruispunt directory data-type --data DIR --code CODE "
	 "--source ACTOR_TYPE --label TEXT\n"
	 "       kruispunt directory availability --data DIR "
	 "--actor-type T --capacity NNN --data-type CODE\n"},
	{"authz", cmd_authz, "authz list|add --data DIR ...",
	 "list or publish authorizations",
	 "usage: kruispunt authz list --data DIR\n"
	 "       kruispunt authz add --data DIR --reference REF\n"
	 "            --actor-type TYPE --capacity NNN --data-type CODE\n"
	 "            --purpose CODE --from YYYY-MM-DD [--until YYYY-MM-DD]\n"
	 "            [--min-phase N]\n"},
	{"import", cmd_import,
	 "import registry|orgs --data DIR --from FILE [--initial]",
	 "load persons or organisations from NDJSON",
	 "usage: kruispunt import registry --data DIR --from FILE [--initial]\n"
	 "       kruispunt import orgs --data DIR --from FILE [--initial]\n"
	 "  FILE holds one JSON object per line (docs/IMPORT.md).\n"
	 "  registry --initial: a first load; persons already registered with\n"
	 "             the same data are left alone, nothing is forwarded.\n"
	 "  registry:  daily changes, as the register's authority sends them:\n"
	 "             new persons added, changed ones as address, name or\n"
	 "             death mutations the daemon forwards to the mailboxes.\n"
	 "  orgs:      organisations, categories, institutions, certificates\n"
	 "             (--initial changes nothing for organisations).\n"
	 "  A bad line is reported on stderr as FILE:LINE: CODE: reason and\n"
	 "  skipped; a summary ends the output.\n"
	 "  Exit 0: every line applied; 1: some skipped; 2: usage, a file that\n"
	 "  cannot be read, or the store failed.\n"},
	{"gen", cmd_gen, "gen --data DIR --persons N ...",
	 "synthetic data for benchmarks",
	 "usage: kruispunt gen --data DIR --persons N "
	 "[--dossiers-per-person M] [--seed S]\n"
	 "       kruispunt gen --ndjson FILE --persons N [--seed S]\n"
	 "  --ndjson FILE  write the persons to FILE as a register file for\n"
	 "                 `kruispunt import registry` instead of loading them\n"},
	{"config", cmd_config, "config [--config FILE]",
	 "print the effective configuration",
	 "usage: kruispunt config [--config FILE]\n"
	 "  Every key with the value `kruispunt serve --config FILE` runs with:\n"
	 "  the defaults, then FILE, then KRUISPUNT_<SECTION>_<KEY> from the\n"
	 "  environment. Without FILE: the defaults and the environment.\n"},
	{"version", cmd_version, "version", "print the version",
	 "usage: kruispunt version\n"},
	{"help", cmd_help, "help [COMMAND]", "this text, or COMMAND's options",
	 "usage: kruispunt help [COMMAND]\n"
	 "       kruispunt COMMAND --help\n"},
};
const size_t cli_ncommands = KP_NELEM(cli_commands);

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}

void cli_help_overview(FILE *out)
{
	fputs("usage: kruispunt COMMAND [OPTIONS]\n"
	      "       kruispunt help COMMAND   (or COMMAND --help): its "
	      "options\n\n",
	      out);
	for (size_t i = 0; i < cli_ncommands; i++) {
		const struct cli_command *c = &cli_commands[i];
		/* The summary beside a short synopsis, below a long one. */
		if (strlen(c->synopsis) <= 30)
			fprintf(out, "  %-30s  %s\n", c->synopsis, c->summary);
		else
			fprintf(out, "  %s\n  %-30s  %s\n", c->synopsis, "",
				c->summary);
	}
}

int cli_help(const char *name, FILE *out)
{
	const struct cli_command *c = cli_command_find(name);
	if (!c)
		return -1;
	fputs(c->usage, out);
	return 0;
}

int cli_usage(const char *name)
{
	if (cli_help(name, stderr) != 0)
		cli_help_overview(stderr);
	return 2;
}
