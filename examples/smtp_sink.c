/*
 * smtp_sink PORT DIR: a local SMTP server for the demo and the tests. It
 * accepts every message and stores it as DIR/<n>.eml (the envelope as
 * X-Envelope-* headers, then the message), so a test reads what a real
 * mail client would have received. Loopback only; one connection at a
 * time; no authentication, no relaying: a sink, not a mail server.
 * Prints "listening on PORT" once ready (PORT 0: the kernel picks).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_MAX_LEN 1000 /* RFC 5321 4.5.3.1.6 */
#define MESSAGE_MAX (1024 * 1024)

static int counter;

static void reply(FILE *out, const char *text)
{
	fprintf(out, "%s\r\n", text);
	fflush(out);
}

/* Read a line without CRLF into buf. Returns 0, or -1 at EOF/too long. */
static int read_line(FILE *in, char *buf, size_t n)
{
	if (!fgets(buf, (int)n, in))
		return -1;
	size_t len = strlen(buf);
	if (len == 0 || buf[len - 1] != '\n')
		return -1;
	buf[--len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return 0;
}

/* DATA: lines until ".", dot-unstuffed, into a file. */
static int store_message(FILE *in, const char *dir, const char *from,
			 const char *to)
{
	char path[4096], tmp[4200], line[LINE_MAX_LEN + 3];
	snprintf(path, sizeof(path), "%s/%06d.eml", dir, ++counter);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "X-Envelope-From: %s\nX-Envelope-To: %s\n", from, to);
	size_t total = 0;
	while (read_line(in, line, sizeof(line)) == 0) {
		if (strcmp(line, ".") == 0) {
			fclose(f);
			return rename(tmp, path); /* appears whole or not */
		}
		total += strlen(line);
		if (total > MESSAGE_MAX)
			break;
		fprintf(f, "%s\n", line[0] == '.' ? line + 1 : line);
	}
	fclose(f);
	unlink(tmp);
	return -1;
}

static void session(int fd, const char *dir)
{
	FILE *in = fdopen(fd, "r"), *out = fdopen(dup(fd), "w");
	char line[LINE_MAX_LEN + 3], from[LINE_MAX_LEN] = "", to[LINE_MAX_LEN] = "";
	reply(out, "220 smtp_sink ready");
	while (read_line(in, line, sizeof(line)) == 0) {
		if (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "HELO", 4))
			reply(out, "250 smtp_sink");
		else if (!strncasecmp(line, "MAIL FROM:", 10))
			snprintf(from, sizeof(from), "%s", line + 10), reply(out, "250 OK");
		else if (!strncasecmp(line, "RCPT TO:", 8))
			snprintf(to, sizeof(to), "%s", line + 8), reply(out, "250 OK");
		else if (!strcasecmp(line, "DATA")) {
			reply(out, "354 end with .");
			reply(out, store_message(in, dir, from, to) == 0
				   ? "250 stored" : "451 not stored");
		} else if (!strcasecmp(line, "RSET") || !strcasecmp(line, "NOOP"))
			reply(out, "250 OK");
		else if (!strcasecmp(line, "QUIT")) {
			reply(out, "221 bye");
			break;
		} else
			reply(out, "502 not implemented");
	}
	fclose(in);
	fclose(out);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: smtp_sink PORT DIR\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)strtol(argv[1], NULL, 10)),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 16) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) != 0) {
		perror("smtp_sink");
		return 1;
	}
	printf("listening on %d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c >= 0)
			session(c, argv[2]);
	}
}
