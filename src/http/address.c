/*
 * Addresses: the client's address as text, the proxies trusted to forward
 * a client certificate and the real client's address, the loopback rule for plain HTTP, and the socket
 * address a listener binds to and its listening socket. IPv4 is compared in its IPv6-mapped form,
 * so that one list holds both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http_internal.h"

void peer_text(const struct sockaddr *sa, char *out, size_t n)
{
	out[0] = '\0';
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)n);
}

/* Parse an address into IPv6 form (IPv4 as ::ffff:a.b.c.d). */
static bool parse_ip(const char *s, struct in6_addr *out)
{
	struct in_addr v4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return true;
	if (inet_pton(AF_INET, s, &v4) != 1)
		return false;
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = 0xff;
	out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &v4, 4);
	return true;
}

static bool ip_is_proxy(const struct listener *l, const struct in6_addr *a)
{
	for (int i = 0; i < l->nproxies; i++)
		if (memcmp(a, &l->proxies[i], sizeof(*a)) == 0)
			return true;
	return false;
}

bool peer_is_proxy(const struct listener *l, const struct sockaddr *sa)
{
	char text[64];
	struct in6_addr a;
	peer_text(sa, text, sizeof(text));
	return parse_ip(text, &a) && ip_is_proxy(l, &a);
}

/* Walking X-Forwarded-For from the left: the last address that is no
 * listed proxy is the rightmost one, where our proxy wrote the address it
 * saw. Anything that is no address to the right of it undoes it: what
 * stands there was not written by a proxy we know. */
struct forwarded {
	const struct listener *l;
	struct in6_addr client;
	bool found;
};

static void forwarded_entry(struct forwarded *f, const char *s, size_t n)
{
	char text[64];
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	struct in6_addr a;
	if (n >= sizeof(text)) {
		f->found = false;
		return;
	}
	memcpy(text, s, n);
	text[n] = '\0';
	if (!parse_ip(text, &a))
		f->found = false;
	else if (!ip_is_proxy(f->l, &a)) {
		f->client = a;
		f->found = true;
	}
}

static enum MHD_Result forwarded_header(void *cls, enum MHD_ValueKind kind,
					const char *key, const char *value)
{
	KP_UNUSED(kind);
	if (strcasecmp(key, "X-Forwarded-For") != 0 || !value)
		return MHD_YES;
	for (const char *p = value;; p++) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		forwarded_entry(cls, p, n);
		if (!comma)
			break;
		p = comma;
	}
	return MHD_YES;
}

void peer_forwarded(struct request *rq)
{
	struct forwarded f = {.l = rq->l, .found = false};
	MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, forwarded_header,
				  &f);
	if (!f.found)
		return;
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	if (memcmp(f.client.s6_addr, mapped, sizeof(mapped)) == 0)
		inet_ntop(AF_INET, &f.client.s6_addr[12], rq->req.peer,
			  sizeof(rq->req.peer));
	else
		inet_ntop(AF_INET6, &f.client, rq->req.peer,
			  sizeof(rq->req.peer));
}

bool address_is_loopback(const char *address)
{
	struct in6_addr a;
	if (!parse_ip(address, &a))
		return false;
	static const uint8_t v6_loopback[16] = {[15] = 1};
	return memcmp(&a, v6_loopback, 16) == 0 ||
	       (a.s6_addr[10] == 0xff && a.s6_addr[11] == 0xff &&
		a.s6_addr[12] == 127);
}

int listener_proxies(struct listener *l, struct error *e)
{
	char list[sizeof(l->cfg->proxy_addresses)];
	str_copy(list, sizeof(list), l->cfg->proxy_addresses);
	char *save = NULL;
	for (char *tok = strtok_r(list, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (l->nproxies == LIMIT_PROXY_ADDRESSES ||
		    !parse_ip(tok, &l->proxies[l->nproxies]))
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.proxy_addresses: bad or too many "
				       "addresses", l->name);
		l->nproxies++;
	}
	if (l->cfg->behind_proxy && l->nproxies == 0)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "%s.behind_proxy needs %s.proxy_addresses",
			       l->name, l->name);
	return 0;
}

static int listener_bind(const struct listener *l,
			 struct sockaddr_storage *ss, bool *v6, struct error *e)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
	uint16_t port = htons((uint16_t)l->cfg->port);
	if (inet_pton(AF_INET, l->cfg->address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		*v6 = false;
	} else if (inet_pton(AF_INET6, l->cfg->address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		*v6 = true;
	} else {
		return err_set(e, ERR_INVALID, "config_invalid",
			       "%s.address must be an IP address", l->name);
	}
	return 0;
}

/* The socket is ours, not libmicrohttpd's: when bind fails we know why
 * (errno), where libmicrohttpd would only log "Failed to bind to port 0"
 * (it is handed an address, not a port). Its options are the ones
 * libmicrohttpd would set: SO_REUSEADDR (a restart does not wait for
 * TIME_WAIT; a port another process listens on is still refused), an
 * IPv6 socket for IPv6 only, non-blocking for the thread pool. */
int listener_listen(const struct listener *l, int *fd, bool *v6,
		    struct error *e)
{
	struct sockaddr_storage ss;
	if (listener_bind(l, &ss, v6, e) != 0)
		return -1;
	int s = socket(*v6 ? AF_INET6 : AF_INET,
		       SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return err_set(e, ERR_UNAVAILABLE, "listen_failed",
			       "cannot open a socket for the %s listener: %s",
			       l->name, strerror(errno));
	int on = 1;
	socklen_t len = *v6 ? sizeof(struct sockaddr_in6)
			    : sizeof(struct sockaddr_in);
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (*v6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			       sizeof(on)) != 0) ||
	    bind(s, (struct sockaddr *)(void *)&ss, len) != 0 ||
	    listen(s, SOMAXCONN) != 0) {
		int err = errno;
		close(s);
		return err_set(e, ERR_UNAVAILABLE, "listen_failed",
			       "cannot listen on %s port %d (%s listener): %s",
			       l->cfg->address, l->cfg->port, l->name,
			       strerror(err));
	}
	*fd = s;
	return 0;
}

int listener_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)(void *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
}
