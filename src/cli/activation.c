/*
 * `kruispunt activation issue --data DIR --insz INSZ --email ADDR ...`: an
 * operator issues an activation as a registration office does (an office
 * working offline, or a test before the office's API exists). The code is
 * printed once, as JSON, for the letter; the link goes to the e-mail
 * address through the outbox, which a running daemon delivers. Recorded
 * with the operator as actor.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "cli/cli.h"

struct activation_args {
	const char *data;
	struct auth_activation_request req;
};

static int parse(int argc, char **argv, struct activation_args *a)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"insz", required_argument, NULL, 'i'},
		{"email", required_argument, NULL, 'e'},
		{"phone", required_argument, NULL, 'p'},
		{"language", required_argument, NULL, 'l'},
		{"office", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	a->req.language = "nl";
	a->req.office = "";
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->data = optarg; break;
		case 'i': a->req.insz = optarg; break;
		case 'e': a->req.email = optarg; break;
		case 'p': a->req.phone = optarg; break;
		case 'l': a->req.language = optarg; break;
		case 'o': a->req.office = optarg; break;
		default: return -1;
		}
	}
	return optind == argc - 1 && a->data && a->req.insz && a->req.email
		       ? 0 : -1;
}

static void print_issued(const struct auth_activation_issued *out)
{
	char expires[RFC3339_LEN];
	time_format_rfc3339(out->expires_at, expires);
	json_t *keys = json_array();
	for (int i = 0; i < out->nkeys; i++)
		json_array_append_new(
			keys, json_pack("{s:I,s:s,s:s}", "id",
					(json_int_t)out->keys_to_deactivate[i].id,
					"type", out->keys_to_deactivate[i].type,
					"status",
					out->keys_to_deactivate[i].status));
	json_t *j = json_pack("{s:I,s:s,s:s,s:o,s:i}", "id",
			      (json_int_t)out->id, "activation_code", out->code,
			      "expires_at", expires, "keys_to_deactivate",
			      keys, "other_persons_keys", out->others);
	char *text = jsonx_dump(j);
	printf("%s\n", text);
	free(text);
	json_decref(j);
}

/* Open authentication and the outbox on log, issue, close. */
static int issue(const struct cli_config *cfg, struct audit *log,
		 const struct auth_activation_request *req, struct error *e)
{
	struct auth_options ao;
	struct notify_options no;
	struct auth *a = NULL;
	struct notify *n = NULL;
	cli_auth_options(cfg, &ao);
	cli_notify_options(cfg, &no);
	int rc = cli_read_key(cfg, "keys/master.key", ao.master_key,
			      sizeof(ao.master_key), e);
	memcpy(no.master_key, ao.master_key, sizeof(no.master_key));
	if (rc == 0)
		rc = auth_open(log, &ao, &a, e);
	if (rc == 0)
		rc = notify_open(audit_store(log), &no, &n, e);
	secret_wipe(ao.master_key, sizeof(ao.master_key));
	secret_wipe(no.master_key, sizeof(no.master_key));
	struct auth_activation_issued out;
	if (rc == 0) {
		auth_set_notify(a, n);
		rc = auth_activation_issue(a, &cli_operator, req, &out, e);
	}
	if (rc == 0) {
		print_issued(&out);
		secret_wipe(out.code, sizeof(out.code));
		free(out.keys_to_deactivate);
	}
	notify_close(n);
	auth_close(a);
	return rc;
}

int cmd_activation(int argc, char **argv)
{
	struct activation_args a;
	memset(&a, 0, sizeof(a));
	if (argc < 2 || strcmp(argv[1], "issue") != 0 ||
	    parse(argc, argv, &a) != 0)
		return cli_usage("activation");
	struct cli_config cfg;
	struct store *s;
	struct error e;
	if (cli_open_data(a.data, &cfg, &s, &e) != 0) {
		fprintf(stderr, "kruispunt activation: %s\n", e.detail);
		return 1;
	}
	struct audit *log = NULL;
	int rc = cli_open_log(&cfg, s, &log, &e);
	if (rc == 0)
		rc = issue(&cfg, log, &a.req, &e);
	audit_close(log);
	if (rc != 0)
		fprintf(stderr, "kruispunt activation: %s (%s)\n", e.detail,
			e.code ? e.code : "error");
	store_close(s);
	return rc == 0 ? 0 : 1;
}
