/*
 * Request metrics in the Prometheus text format: a counter by route,
 * method and status, and a latency histogram by route and method. Counters
 * are relaxed atomics: exactness across threads at scrape time does not
 * matter, a lock on the hot path would. The route label is the pattern,
 * never the raw path, so the label set is bounded by the route table.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"

static const int statuses[] = {200, 201, 202, 204, 304, 400, 401, 403, 404,
			       405, 409, 410, 413, 414, 415, 422, 423, 429,
			       500, 502, 503, 504};
#define NSTATUS (KP_NELEM(statuses) + 1) /* + "other" */

/* Upper bounds of the latency buckets, in nanoseconds (compared on the hot
 * path) and as the le label (rendered on scrape). */
static const uint64_t bucket_ns[] = {
	100000,    250000,    500000,     1000000,    2500000,
	5000000,   10000000,  25000000,   50000000,   100000000,
	250000000, 500000000, 1000000000, 2500000000, 5000000000};
static const char *bucket_le[] = {"0.0001", "0.00025", "0.0005", "0.001",
				  "0.0025", "0.005",   "0.01",   "0.025",
				  "0.05",   "0.1",     "0.25",   "0.5",
				  "1",      "2.5",     "5"};
#define NBUCKET KP_NELEM(bucket_ns)

static const char *method_names[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
#define NMETHOD KP_NELEM(method_names)

struct cell {
	_Atomic uint64_t by_status[NSTATUS];
	_Atomic uint64_t le[NBUCKET]; /* non-cumulative; summed on render */
	_Atomic uint64_t count;
	_Atomic uint64_t sum_ns;
};

struct http_metrics {
	size_t nroutes;
	struct cell *cells; /* (nroutes + 1) * NMETHOD */
};

struct http_metrics *metrics_new(size_t nroutes)
{
	struct http_metrics *m = xcalloc(1, sizeof(*m));
	m->nroutes = nroutes;
	m->cells = xcalloc((nroutes + 1) * NMETHOD, sizeof(struct cell));
	return m;
}

void metrics_free(struct http_metrics *m)
{
	if (!m)
		return;
	free(m->cells);
	free(m);
}

static size_t method_index(enum http_method method)
{
	for (size_t i = 0; i < NMETHOD; i++)
		if ((unsigned)method == 1u << i)
			return i;
	return 0;
}

static size_t status_index(int status)
{
	for (size_t i = 0; i < KP_NELEM(statuses); i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

void metrics_record(struct http_metrics *m, size_t route_idx,
		    enum http_method method, int status, uint64_t ns)
{
	if (route_idx > m->nroutes)
		route_idx = m->nroutes;
	struct cell *c = &m->cells[route_idx * NMETHOD + method_index(method)];
	atomic_fetch_add_explicit(&c->by_status[status_index(status)], 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->sum_ns, ns, memory_order_relaxed);
	for (size_t b = 0; b < NBUCKET; b++) {
		if (ns <= bucket_ns[b]) {
			atomic_fetch_add_explicit(&c->le[b], 1,
						  memory_order_relaxed);
			break;
		}
	}
}

static void render_cell(struct buf *b, const char *route, const char *method,
			struct cell *c)
{
	for (size_t i = 0; i < NSTATUS; i++) {
		uint64_t n = atomic_load_explicit(&c->by_status[i],
						  memory_order_relaxed);
		if (!n)
			continue;
		char status[8];
		if (i < KP_NELEM(statuses))
			snprintf(status, sizeof(status), "%d", statuses[i]);
		else
			str_copy(status, sizeof(status), "other");
		buf_printf(b, "kruispunt_http_requests_total{route=\"%s\","
			      "method=\"%s\",status=\"%s\"} %llu\n",
			   route, method, status, (unsigned long long)n);
	}
}

static void render_histogram(struct buf *b, const char *route,
			     const char *method, struct cell *c)
{
	uint64_t cumulative = 0;
	for (size_t i = 0; i < NBUCKET; i++) {
		cumulative += atomic_load_explicit(&c->le[i],
						   memory_order_relaxed);
		buf_printf(b, "kruispunt_http_request_duration_seconds_bucket"
			      "{route=\"%s\",method=\"%s\",le=\"%s\"} %llu\n",
			   route, method, bucket_le[i],
			   (unsigned long long)cumulative);
	}
	uint64_t count = atomic_load_explicit(&c->count, memory_order_relaxed);
	uint64_t sum = atomic_load_explicit(&c->sum_ns, memory_order_relaxed);
	buf_printf(b, "kruispunt_http_request_duration_seconds_bucket"
		      "{route=\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n"
		      "kruispunt_http_request_duration_seconds_sum"
		      "{route=\"%s\",method=\"%s\"} %.6f\n"
		      "kruispunt_http_request_duration_seconds_count"
		      "{route=\"%s\",method=\"%s\"} %llu\n",
		   route, method, (unsigned long long)count, route, method,
		   (double)sum / 1e9, route, method, (unsigned long long)count);
}

char *metrics_render(struct http_metrics *m, const struct http_route *routes,
		     size_t *len)
{
	struct buf b;
	buf_init(&b, 16 * 1024 * 1024);
	buf_puts(&b, "# HELP kruispunt_http_requests_total HTTP requests by "
		     "route, method and status.\n"
		     "# TYPE kruispunt_http_requests_total counter\n");
	for (size_t r = 0; r <= m->nroutes; r++) {
		const char *route = r < m->nroutes ? routes[r].pattern
						   : "unmatched";
		for (size_t k = 0; k < NMETHOD; k++)
			render_cell(&b, route, method_names[k],
				    &m->cells[r * NMETHOD + k]);
	}
	buf_puts(&b, "# HELP kruispunt_http_request_duration_seconds Time to "
		     "answer, from the request line to the queued response.\n"
		     "# TYPE kruispunt_http_request_duration_seconds "
		     "histogram\n");
	for (size_t r = 0; r <= m->nroutes; r++) {
		const char *route = r < m->nroutes ? routes[r].pattern
						   : "unmatched";
		for (size_t k = 0; k < NMETHOD; k++) {
			struct cell *c = &m->cells[r * NMETHOD + k];
			if (atomic_load_explicit(&c->count, memory_order_relaxed))
				render_histogram(&b, route, method_names[k], c);
		}
	}
	return buf_take(&b, len);
}
