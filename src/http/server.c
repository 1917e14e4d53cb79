/*
 * The HTTP server: one libmicrohttpd daemon with an epoll thread pool per
 * listener, started from the configuration and stopped in order (no new
 * connections, deferred answers finished, then the daemons). What happens
 * to each request is in request.c.
 */
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/http_internal.h"

/* GnuTLS priorities. TLS 1.3 as GnuTLS offers it; TLS 1.2 only with
 * forward secrecy (ECDHE) and AEAD ciphers: CBC suites with their MAC (and
 * the padding oracles that came with them) and SHA-1 MACs are gone. No
 * SHA-1 signature either, so a CertificateRequest never lists one and a
 * client certificate cannot be proven with it. */
#define TLS_PRIORITIES                                                        \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"                        \
	"-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:"          \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"                    \
	"-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1:"                    \
	"-SIGN-RSA-SHA224:-SIGN-ECDSA-SHA224:-SIGN-DSA-SHA224"

/* Behind a proxy libmicrohttpd's per-address cap is off (the proxy is one
 * address for all its clients): an address that is no proxy gets it from
 * here, its connection beyond the cap shut down before it is read. */
static void direct_connection(struct listener *l, struct conn_state *cs)
{
	struct http_server *srv = l->srv;
	if (addr_counts_take(srv->direct, cs->peer, srv->per_address)) {
		cs->counted = true;
		return;
	}
	if (cs->fd >= 0)
		shutdown(cs->fd, SHUT_RDWR);
	struct log_line line;
	log_begin(&line, LV_WARN, __func__,
		  "security: connections per address exceeded");
	log_str(&line, "listener", l->name);
	log_str(&line, "peer", cs->peer);
	log_end(&line);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;
	struct conn_state *cs = *socket_ctx;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		cs = xcalloc(1, sizeof(*cs));
		cs->l = l;
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			c, MHD_CONNECTION_INFO_CONNECTION_FD);
		cs->fd = ci ? ci->connect_fd : -1;
		ci = MHD_get_connection_info(c,
					     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci)
			peer_text(ci->client_addr, cs->peer, sizeof(cs->peer));
		if (ci && l->cfg->behind_proxy &&
		    !peer_is_proxy(l, ci->client_addr))
			direct_connection(l, cs);
		deadline_add(l->srv, cs);
		*socket_ctx = cs;
	} else if (cs) {
		if (cs->counted)
			addr_counts_give(l->srv->direct, cs->peer);
		/* Before libmicrohttpd closes the descriptor (deadline.c). */
		deadline_remove(l->srv, cs);
		free(cs);
		*socket_ctx = NULL;
	}
}

KP_PRINTF(2, 0)
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct listener *l = cls;
	char msg[LIMIT_LOG_VALUE];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	struct log_line line;
	log_begin(&line, LV_WARN, "libmicrohttpd", msg);
	log_str(&line, "listener", l->name);
	log_end(&line);
}

static int listener_start(struct listener *l, const char *data_dir,
			  unsigned threads, struct error *e)
{
	const struct listener_config *lc = l->cfg;
	/* Secure by default: plain HTTP only where nobody else can reach it
	 * (loopback, e.g. behind a TLS-terminating proxy on this host). */
	if (!lc->tls && !address_is_loopback(lc->address))
		return err_set(e, ERR_INVALID, "config_invalid",
			       "%s: tls = false is only allowed on a loopback "
			       "address", l->name);
	/* A browser meets a certificate request with a chooser (or a
	 * failure) on every page: the public listener never asks, the eID
	 * login has a listener of its own. */
	if (l->id == LISTENER_PUBLIC && lc->client_cert != CLIENT_CERT_NONE &&
	    !lc->behind_proxy)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "public.client_cert must be none: the eID "
			       "login has its own listener ([eid])");
	/* A revoked eID must not log in: the eID listener checks every
	 * citizen certificate against the CA's revocation list, so it needs
	 * one, and a certificate on every connection. */
	if (l->id == LISTENER_EID &&
	    (!lc->crl[0] || lc->client_cert != CLIENT_CERT_REQUIRED))
		return err_set(e, ERR_INVALID, "config_invalid",
			       "eid: crl (the citizen CA's revocation list) "
			       "and client_cert = required are needed");
	if ((lc->tls && listener_tls(l, data_dir, e) != 0) ||
	    listener_trust(l, data_dir, e) != 0 || listener_proxies(l, e) != 0)
		return -1;
	int fd;
	bool v6 = false;
	if (listener_listen(l, &fd, &v6, e) != 0)
		return -1;

	struct MHD_OptionItem opts[20];
	size_t n = 0;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){o, (intptr_t)(v), p}
	/* The logger first: options before it would log elsewhere. */
	OPT(MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l);
	OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	OPT(MHD_OPTION_THREAD_POOL_SIZE, threads, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, LIMIT_CONNECTIONS, NULL);
	/* Behind a proxy the cap comes from inflight.c (0: none here). */
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    lc->behind_proxy ? 0 : l->srv->per_address, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, LIMIT_CONNECTION_IDLE_S, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, l);
	OPT(MHD_OPTION_UNESCAPE_CALLBACK, request_unescape, NULL);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, request_uri_seen, NULL);
	if (lc->tls) {
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, l->cert_pem);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, l->key_pem);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, TLS_PRIORITIES);
		/* Giving libmicrohttpd the CA makes it ask for a client
		 * certificate; judging it is ours (tls.c). */
		if (l->ca_pem && lc->client_cert != CLIENT_CERT_NONE)
			OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, l->ca_pem);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME |
			 (lc->tls ? MHD_USE_TLS : 0) | (v6 ? MHD_USE_IPv6 : 0);
	l->daemon = MHD_start_daemon(flags, 0, NULL, NULL, request_handle, l,
				     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!l->daemon) {
		/* Whether libmicrohttpd closed fd on its way out is not
		 * documented: it is left alone (closing it twice could close a
		 * descriptor another thread just opened), and serve exits. */
		return err_set(e, ERR_UNAVAILABLE, "listen_failed",
			       "cannot start the %s listener on %s port %d "
			       "(libmicrohttpd's reason is in the log)",
			       l->name, lc->address, lc->port);
	}
	l->port = listener_port(fd);
	return 0;
}

static void listener_stop(struct listener *l)
{
	if (l->daemon)
		MHD_stop_daemon(l->daemon);
	tls_trust_free(l->trust);
	if (l->key_pem)
		secret_wipe(l->key_pem, l->key_len);
	free(l->key_pem);
	free(l->cert_pem);
	free(l->ca_pem);
	memset(l, 0, sizeof(*l));
}

int http_server_start(const struct http_server_options *opt,
		      struct http_server **out, struct error *e)
{
	if (router_check(opt->routes, opt->nroutes, e) != 0)
		return -1;
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	srv->opt = *opt;
	srv->metrics = metrics_new(opt->nroutes);
	srv->anonymous = ratelimit_new(opt->cfg->public_posts_per_second,
				       2.0 * opt->cfg->public_posts_per_second,
				       4096);
	srv->per_address = opt->cfg->connections_per_address > 0
				   ? opt->cfg->connections_per_address
				   : LIMIT_CONNECTIONS_PER_IP;
	/* At most one entry per connection of any listener. */
	srv->inflight = addr_counts_new(3 * LIMIT_CONNECTIONS);
	srv->direct = addr_counts_new(3 * LIMIT_CONNECTIONS);
	int head_s = opt->cfg->request_head_timeout > 0
			     ? opt->cfg->request_head_timeout
			     : LIMIT_REQUEST_HEAD_S;
	srv->head_timeout_ns = (uint64_t)head_s * 1000000000u;
	if (deadline_start(srv, e) != 0 ||
	    static_load(opt->web_dir, &srv->files, e) != 0) {
		http_server_stop(srv);
		return -1;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = opt->cfg->threads > 0 ? (unsigned)opt->cfg->threads
			   : cores > 0		  ? (unsigned)cores
						  : 1;
	const struct {
		enum http_listener id;
		const char *name;
		const struct listener_config *cfg;
	} defs[] = {
		{LISTENER_PUBLIC, "public", &opt->cfg->public_listener},
		{LISTENER_NETWORK, "network", &opt->cfg->network_listener},
		{LISTENER_EID, "eid", &opt->cfg->eid_listener},
	};
	for (size_t i = 0; i < KP_NELEM(defs); i++) {
		struct listener *l = &srv->listeners[i];
		if (!defs[i].cfg->enabled)
			continue;
		l->id = defs[i].id;
		l->name = defs[i].name;
		l->cfg = defs[i].cfg;
		l->srv = srv;
		if (listener_start(l, opt->data_dir, threads, e) != 0) {
			http_server_stop(srv);
			return -1;
		}
	}
	*out = srv;
	return 0;
}

void http_server_stop(struct http_server *srv)
{
	if (!srv)
		return;
	/* Take no new connections, then let deferred answers finish (their
	 * audit events are on their way): libmicrohttpd must not stop with a
	 * connection suspended. */
	for (size_t i = 0; i < KP_NELEM(srv->listeners); i++)
		if (srv->listeners[i].daemon) {
			MHD_socket fd = MHD_quiesce_daemon(srv->listeners[i].daemon);
			if (fd != MHD_INVALID_SOCKET)
				close(fd); /* ours now, says libmicrohttpd */
		}
	for (int i = 0; i < 10000 && atomic_load(&srv->suspended) > 0; i++) {
		const struct timespec ms = {0, 1000 * 1000};
		nanosleep(&ms, NULL);
	}
	deadline_stop(srv);
	for (size_t i = 0; i < KP_NELEM(srv->listeners); i++)
		listener_stop(&srv->listeners[i]);
	pthread_mutex_destroy(&srv->conn_lock);
	pthread_cond_destroy(&srv->deadline_wake);
	metrics_free(srv->metrics);
	static_free(srv->files);
	ratelimit_free(srv->anonymous);
	addr_counts_free(srv->inflight);
	addr_counts_free(srv->direct);
	free(srv);
}

int http_server_port(const struct http_server *srv, enum http_listener l)
{
	for (size_t i = 0; i < KP_NELEM(srv->listeners); i++)
		if (srv->listeners[i].id == l && srv->listeners[i].daemon)
			return srv->listeners[i].port;
	return 0;
}

char *http_metrics_render(struct http_server *srv, size_t *len)
{
	return metrics_render(srv->metrics, srv->opt.routes, len);
}
