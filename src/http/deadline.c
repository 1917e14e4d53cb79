/*
 * Deadlines for slow clients. libmicrohttpd 0.9.75 knows only an idle
 * timeout, which every byte resets: a client that trickles one header line
 * every few seconds keeps its connection for ever, and a few thousand such
 * connections make a listener unreachable. So every connection is
 * registered here with a deadline: for its request head (from the
 * connection's start, or from the end of the previous answer), then for
 * its body (from its size, body_deadline_ns), and none while a handler
 * works or an answer is sent (the idle timeout bounds that).
 *
 * A thread wakes every DEADLINE_TICK_MS and shuts down the socket of every
 * connection past its deadline. libmicrohttpd then reads the end of the
 * stream and closes the connection itself: the descriptor stays its own.
 * It tells us a connection closed (deadline_remove) before it closes the
 * descriptor, and both sides hold the lock, so a descriptor shut down here
 * is never one the kernel has given to somebody else.
 */
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http_internal.h"

/* How often deadlines are checked: a connection lives at most this long
 * past its deadline. */
#define DEADLINE_TICK_MS 250

static void cut(struct conn_state *cs)
{
	shutdown(cs->fd, SHUT_RDWR);
	cs->fd = -1; /* once is enough; libmicrohttpd closes it */
	struct log_line line;
	log_begin(&line, LV_WARN, "deadline",
		  "security: request not received in time, connection closed");
	log_str(&line, "listener", cs->l ? cs->l->name : "-");
	log_str(&line, "peer", cs->peer);
	log_end(&line);
}

static void *deadline_main(void *arg)
{
	struct http_server *srv = arg;
	pthread_mutex_lock(&srv->conn_lock);
	while (!srv->deadline_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += DEADLINE_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->deadline_wake, &srv->conn_lock, &ts);
		uint64_t now = time_mono_ns();
		for (struct conn_state *cs = srv->conns; cs; cs = cs->next) {
			uint64_t d = atomic_load_explicit(&cs->deadline_ns,
							  memory_order_relaxed);
			if (d && now > d && cs->fd >= 0)
				cut(cs);
		}
	}
	pthread_mutex_unlock(&srv->conn_lock);
	return NULL;
}

int deadline_start(struct http_server *srv, struct error *e)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->deadline_wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&srv->conn_lock, NULL);
	srv->deadline_started = pthread_create(&srv->deadline_thread, NULL,
					       deadline_main, srv) == 0;
	if (!srv->deadline_started)
		return err_set(e, ERR_INTERNAL, "thread_failed",
			       "cannot start the request deadline thread");
	return 0;
}

void deadline_stop(struct http_server *srv)
{
	if (!srv->deadline_started)
		return;
	pthread_mutex_lock(&srv->conn_lock);
	srv->deadline_stop = true;
	pthread_cond_signal(&srv->deadline_wake);
	pthread_mutex_unlock(&srv->conn_lock);
	pthread_join(srv->deadline_thread, NULL);
	srv->deadline_started = false;
}

void deadline_add(struct http_server *srv, struct conn_state *cs)
{
	deadline_head(srv, cs);
	pthread_mutex_lock(&srv->conn_lock);
	cs->next = srv->conns;
	cs->prev = NULL;
	if (srv->conns)
		srv->conns->prev = cs;
	srv->conns = cs;
	pthread_mutex_unlock(&srv->conn_lock);
}

void deadline_remove(struct http_server *srv, struct conn_state *cs)
{
	pthread_mutex_lock(&srv->conn_lock);
	if (cs->prev)
		cs->prev->next = cs->next;
	else
		srv->conns = cs->next;
	if (cs->next)
		cs->next->prev = cs->prev;
	pthread_mutex_unlock(&srv->conn_lock);
}

void deadline_head(struct http_server *srv, struct conn_state *cs)
{
	atomic_store_explicit(&cs->deadline_ns,
			      time_mono_ns() + srv->head_timeout_ns,
			      memory_order_relaxed);
}

void deadline_body(struct http_server *srv, struct conn_state *cs,
		   uint64_t bytes)
{
	/* The head's time again, plus the body at the slowest rate a client
	 * of a public service may be allowed. */
	uint64_t ns = srv->head_timeout_ns +
		      bytes / LIMIT_BODY_MIN_RATE * 1000000000ULL;
	atomic_store_explicit(&cs->deadline_ns, time_mono_ns() + ns,
			      memory_order_relaxed);
}

void deadline_none(struct conn_state *cs)
{
	atomic_store_explicit(&cs->deadline_ns, 0, memory_order_relaxed);
}
