/*
 * The demo PKI, made with the openssl command line (a tool every operator
 * knows, so the certificates can be inspected and re-made by hand):
 *
 *   pki/ca.pem            network CA: signs the server certificate and the
 *                         institutions' client certificates
 *   pki/server.{crt,key}  TLS server certificate for localhost / 127.0.0.1
 *   pki/institutions/     one client certificate per demo institution
 *   pki/citizen-ca.pem    eID-style citizen CA (an `openssl ca` database,
 *                         so it can revoke and publish a CRL)
 *   pki/citizen-ca.crl    its CRL, revoking one citizen certificate
 *   pki/eid/<insz>.*      citizen certificates: subject serialNumber = the
 *                         national register number
 *   pki/foreign-ca/       a CA nobody trusts, for the refusal tests
 *
 * openssl runs without a shell (posix_spawnp, argument vectors); its output
 * goes to pki/openssl.log.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo/demo_internal.h"

extern char **environ;

#define EC_KEY "ec", "-pkeyopt", "ec_paramgen_curve:P-256"

void demo_path(char *out, size_t n, const char *dir, const char *rel)
{
	int w = snprintf(out, n, "%s/%s", dir, rel);
	if (w < 0 || (size_t)w >= n)
		abort();
}

const struct demo_org *demo_org_by_kbo(const char *kbo)
{
	for (size_t i = 0; i < demo_norgs; i++)
		if (strcmp(demo_orgs[i].kbo, kbo) == 0)
			return &demo_orgs[i];
	abort(); /* the demo tables contradict each other */
}

static int run(const char *dir, const char *const *argv, struct error *e)
{
	char log[LIMIT_PATH];
	demo_path(log, sizeof(log), dir, "pki/openssl.log");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log,
					 O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	/* The caller blocks SIGINT and SIGTERM; openssl must not inherit it. */
	posix_spawnattr_t at;
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	pid_t pid;
	int rc = posix_spawnp(&pid, "openssl", &fa, &at,
			      (char *const *)(uintptr_t)argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return err_set(e, ERR_INTERNAL, "pki_failed",
			       "cannot run openssl: %s", strerror(rc));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set(e, ERR_INTERNAL, "pki_failed", "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(e, ERR_INTERNAL, "pki_failed",
			       "openssl %s failed: see %s", argv[1], log);
	return 0;
}

static int write_text(const char *path, const char *text, struct error *e)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return err_set(e, ERR_INTERNAL, "pki_failed",
			       "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	return fclose(f) == 0 ? 0
			      : err_set(e, ERR_INTERNAL, "pki_failed",
					"cannot write %s", path);
}

/* Extensions for every kind of certificate, and the citizen CA's
 * `openssl ca` settings. */
static int write_configs(const char *dir, struct error *e)
{
	char path[LIMIT_PATH], abs[LIMIT_PATH];
	demo_path(path, sizeof(path), dir, "pki/citizen-ca");
	if (!realpath(path, abs))
		return err_set(e, ERR_INTERNAL, "pki_failed", "realpath");
	char *text = xasprintf(
		"[req]\ndistinguished_name = dn\n[dn]\n\n"
		"[ca]\ndefault_ca = citizen\n\n"
		"[citizen]\ndir = %s\ndatabase = $dir/index.txt\n"
		"new_certs_dir = $dir/newcerts\nserial = $dir/serial\n"
		"certificate = $dir/../citizen-ca.pem\n"
		"private_key = $dir/ca.key\ndefault_md = sha256\n"
		"default_days = 1825\ndefault_crl_days = 3650\n"
		"policy = any\nunique_subject = no\n\n"
		"[any]\ncommonName = supplied\n\n"
		"[ca_ext]\nbasicConstraints = critical,CA:TRUE\n"
		"keyUsage = critical,keyCertSign,cRLSign\n"
		"subjectKeyIdentifier = hash\n\n"
		"[server_ext]\nbasicConstraints = critical,CA:FALSE\n"
		"keyUsage = critical,digitalSignature\n"
		"extendedKeyUsage = serverAuth\n"
		"subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1\n\n"
		"[client_ext]\nbasicConstraints = critical,CA:FALSE\n"
		"keyUsage = critical,digitalSignature\n"
		"extendedKeyUsage = clientAuth\n\n"
		"[eid_ext]\nbasicConstraints = critical,CA:FALSE\n"
		"keyUsage = critical,digitalSignature\n"
		"extendedKeyUsage = clientAuth\n",
		abs);
	demo_path(path, sizeof(path), dir, "pki/openssl.cnf");
	int rc = write_text(path, text, e);
	demo_path(path, sizeof(path), dir, "pki/citizen-ca/ca.cnf");
	if (rc == 0)
		rc = write_text(path, text, e);
	free(text);
	if (rc != 0)
		return -1;
	demo_path(path, sizeof(path), dir, "pki/citizen-ca/index.txt");
	if (write_text(path, "", e) != 0)
		return -1;
	demo_path(path, sizeof(path), dir, "pki/citizen-ca/serial");
	return write_text(path, "1000\n", e);
}

/* A self-signed CA certificate. */
static int make_ca(const char *dir, const char *key, const char *cert,
		   const char *subject, struct error *e)
{
	char k[LIMIT_PATH], c[LIMIT_PATH], cnf[LIMIT_PATH];
	demo_path(k, sizeof(k), dir, key);
	demo_path(c, sizeof(c), dir, cert);
	demo_path(cnf, sizeof(cnf), dir, "pki/openssl.cnf");
	const char *argv[] = {"openssl", "req", "-x509", "-newkey", EC_KEY,
			      "-nodes", "-keyout", k, "-out", c, "-days", "3650",
			      "-subj", subject, "-config", cnf,
			      "-extensions", "ca_ext", NULL};
	return run(dir, argv, e);
}

/* A key and a certificate request; the caller signs and removes it. */
static int make_request(const char *dir, const char *key, const char *csr,
			const char *subject, struct error *e)
{
	const char *argv[] = {"openssl", "req", "-new", "-newkey", EC_KEY,
			      "-nodes", "-keyout", key, "-out", csr,
			      "-subj", subject, NULL};
	return run(dir, argv, e);
}

/* Sign a request with a plain CA (network CA or the foreign CA). */
static int sign_plain(const char *dir, const char *ca_cert, const char *ca_key,
		      const char *csr, const char *cert, const char *ext,
		      struct error *e)
{
	char cc[LIMIT_PATH], ck[LIMIT_PATH], cnf[LIMIT_PATH];
	demo_path(cc, sizeof(cc), dir, ca_cert);
	demo_path(ck, sizeof(ck), dir, ca_key);
	demo_path(cnf, sizeof(cnf), dir, "pki/openssl.cnf");
	const char *argv[] = {"openssl", "x509", "-req", "-in", csr,
			      "-CA", cc, "-CAkey", ck, "-set_serial",
			      NULL /* below */, "-days", "825", "-sha256",
			      "-extfile", cnf, "-extensions", ext,
			      "-out", cert, NULL};
	char serial[32];
	snprintf(serial, sizeof(serial), "%u", rand_uniform(2000000000u) + 1);
	argv[10] = serial;
	return run(dir, argv, e);
}

/* A key + certificate signed by a plain CA, at rel_base.{key,crt}. */
static int issue_plain(const char *dir, const char *ca, const char *rel_base,
		       const char *subject, const char *ext, struct error *e)
{
	char key[LIMIT_PATH], csr[LIMIT_PATH], crt[LIMIT_PATH];
	char ca_cert[LIMIT_PATH], ca_key[LIMIT_PATH], rel[LIMIT_PATH];
	snprintf(rel, sizeof(rel), "%s.key", rel_base);
	demo_path(key, sizeof(key), dir, rel);
	snprintf(rel, sizeof(rel), "%s.csr", rel_base);
	demo_path(csr, sizeof(csr), dir, rel);
	snprintf(rel, sizeof(rel), "%s.crt", rel_base);
	demo_path(crt, sizeof(crt), dir, rel);
	snprintf(ca_cert, sizeof(ca_cert), "%s.pem", ca);
	snprintf(ca_key, sizeof(ca_key), "%s.key", ca);
	int rc = make_request(dir, key, csr, subject, e);
	if (rc == 0)
		rc = sign_plain(dir, ca_cert, ca_key, csr, crt, ext, e);
	unlink(csr);
	return rc;
}

/* A citizen certificate from the citizen CA; expired ones get a validity
 * that ended in 2021, revoked ones go on the CRL. */
static int issue_citizen(const char *dir, const struct demo_person *p,
			 struct error *e)
{
	char key[LIMIT_PATH], csr[LIMIT_PATH], crt[LIMIT_PATH], rel[96];
	char cnf[LIMIT_PATH], subject[256];
	snprintf(rel, sizeof(rel), "pki/eid/%s.key", p->insz);
	demo_path(key, sizeof(key), dir, rel);
	snprintf(rel, sizeof(rel), "pki/eid/%s.csr", p->insz);
	demo_path(csr, sizeof(csr), dir, rel);
	snprintf(rel, sizeof(rel), "pki/eid/%s.crt", p->insz);
	demo_path(crt, sizeof(crt), dir, rel);
	demo_path(cnf, sizeof(cnf), dir, "pki/citizen-ca/ca.cnf");
	snprintf(subject, sizeof(subject),
		 "/C=BE/CN=%s %s (Authentication)/SN=%s/GN=%s/serialNumber=%s",
		 p->first_name, p->last_name, p->last_name, p->first_name,
		 p->insz);
	if (make_request(dir, key, csr, subject, e) != 0)
		return -1;
	int rc;
	if (p->eid == DEMO_EID_FOREIGN) {
		rc = sign_plain(dir, "pki/foreign-ca/ca.pem",
				"pki/foreign-ca/ca.key", csr, crt, "eid_ext", e);
	} else {
		/* For a valid certificate the vector ends at the NULL before
		 * -startdate and the CA's default_days apply. */
		bool expired = p->eid == DEMO_EID_EXPIRED;
		const char *argv[] = {
			"openssl", "ca", "-batch", "-config", cnf, "-preserveDN",
			"-extfile", NULL, "-extensions", "eid_ext", "-in", csr,
			"-out", crt,
			expired ? "-startdate" : NULL, "20200101000000Z",
			"-enddate", "20210101000000Z", NULL};
		char ext[LIMIT_PATH];
		demo_path(ext, sizeof(ext), dir, "pki/openssl.cnf");
		argv[7] = ext;
		rc = run(dir, argv, e);
	}
	unlink(csr);
	if (rc == 0 && p->eid == DEMO_EID_REVOKED) {
		const char *argv[] = {"openssl", "ca", "-config", cnf,
				      "-revoke", crt, "-crl_reason",
				      "keyCompromise", NULL};
		rc = run(dir, argv, e);
	}
	return rc;
}

static int make_dirs(const char *dir, struct error *e)
{
	static const char *subdirs[] = {"pki", "pki/institutions",
					"pki/organisations", "pki/eid",
					"pki/citizen-ca",
					"pki/citizen-ca/newcerts",
					"pki/foreign-ca"};
	char path[LIMIT_PATH];
	for (size_t i = 0; i < KP_NELEM(subdirs); i++) {
		demo_path(path, sizeof(path), dir, subdirs[i]);
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return err_set(e, ERR_INTERNAL, "pki_failed",
				       "cannot create %s: %s", path,
				       strerror(errno));
	}
	return 0;
}

/* A network client certificate for the organisation kbo in DIR/sub,
 * unless it has one. */
static int make_client(const char *dir, const char *sub, const char *kbo,
		       struct error *e)
{
	char base[96], subject[256], crt[LIMIT_PATH];
	const struct demo_org *o = demo_org_by_kbo(kbo);
	snprintf(base, sizeof(base), "%s/%s.crt", sub, kbo);
	demo_path(crt, sizeof(crt), dir, base);
	if (access(crt, F_OK) == 0)
		return 0;
	snprintf(base, sizeof(base), "%s/%s", sub, kbo);
	snprintf(subject, sizeof(subject),
		 "/C=BE/O=%s/OU=KBO %s/CN=%s network client", o->name, kbo,
		 o->name);
	return issue_plain(dir, "pki/ca", base, subject, "client_ext", e);
}

/* Client certificates for the institutions and network organisations
 * that have none yet: a demo directory made by an older version gains
 * those added since. */
static int make_institutions(const char *dir, struct error *e)
{
	for (size_t i = 0; i < demo_ninstitutions; i++)
		if (make_client(dir, "pki/institutions",
				demo_institutions[i].kbo, e) != 0)
			return -1;
	for (size_t i = 0; i < demo_nnetwork_orgs; i++)
		if (make_client(dir, "pki/organisations", demo_network_orgs[i],
				e) != 0)
			return -1;
	return 0;
}

int demo_pki(const char *dir, struct error *e)
{
	char done[LIMIT_PATH], cnf[LIMIT_PATH], crl[LIMIT_PATH];
	demo_path(done, sizeof(done), dir, "pki/.complete");
	if (access(done, F_OK) == 0)
		return make_dirs(dir, e) || make_institutions(dir, e) ? -1 : 0;
	log_info("creating the demo PKI with openssl in %s/pki", dir);
	if (make_dirs(dir, e) != 0 || write_configs(dir, e) != 0)
		return -1;
	if (make_ca(dir, "pki/ca.key", "pki/ca.pem",
		    "/C=BE/O=kruispunt demo/CN=kruispunt demo network CA", e) ||
	    issue_plain(dir, "pki/ca", "pki/server", "/C=BE/O=kruispunt demo/CN=localhost",
			"server_ext", e) ||
	    make_institutions(dir, e) ||
	    make_ca(dir, "pki/citizen-ca/ca.key", "pki/citizen-ca.pem",
		    "/C=BE/O=kruispunt demo/CN=kruispunt demo Citizen CA", e) ||
	    make_ca(dir, "pki/foreign-ca/ca.key", "pki/foreign-ca/ca.pem",
		    "/C=XX/O=Elsewhere/CN=Untrusted Citizen CA", e))
		return -1;
	for (size_t i = 0; i < demo_npersons; i++)
		if (demo_persons[i].eid != DEMO_EID_NONE &&
		    issue_citizen(dir, &demo_persons[i], e) != 0)
			return -1;
	demo_path(cnf, sizeof(cnf), dir, "pki/citizen-ca/ca.cnf");
	demo_path(crl, sizeof(crl), dir, "pki/citizen-ca.crl");
	const char *argv[] = {"openssl", "ca", "-config", cnf, "-gencrl",
			      "-out", crl, NULL};
	if (run(dir, argv, e) != 0)
		return -1;
	return write_text(done, "", e);
}
