/* metrics.c - request counters by route and status, latency histograms, and the
 * Prometheus text exposition at GET /metrics. Counters are relaxed atomics: a
 * scrape may be a few requests behind, never torn. */
#include "scrm/http_internal.h"

#include "scrm/api.h"
#include "scrm/store.h"
#include "scrm/timeutil.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifndef SCRM_VERSION
#define SCRM_VERSION "dev"
#endif

#define MAX_ROUTES 512
/* slots 0..nroutes-1: routes; then static files, then unmatched */
static const unsigned statuses[] = {200, 201, 204, 206, 301, 302, 304, 400, 401, 403,
                                    404, 405, 409, 413, 415, 422, 429, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1) /* + other */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKET (sizeof buckets / sizeof buckets[0])

struct route_metrics {
	_Atomic uint64_t by_status[NSTATUS];
	_Atomic uint64_t bucket[NBUCKET + 1]; /* last: +Inf */
	_Atomic uint64_t sum_ns;
};

static struct route_metrics *rm;
static size_t nroutes;
static int64_t started_at;

void http_metrics_init(void)
{
	nroutes = 0;
	while (http_routes[nroutes].method && nroutes < MAX_ROUTES)
		nroutes++;
	free(rm);
	rm = calloc(nroutes + 2, sizeof *rm);
	started_at = time_now();
}

static size_t slot(int route_index)
{
	if (route_index == METRIC_STATIC)
		return nroutes;
	if (route_index < 0 || (size_t)route_index >= nroutes)
		return nroutes + 1;
	return (size_t)route_index;
}

void http_metrics_observe(int route_index, unsigned status, uint64_t ns)
{
	if (!rm)
		return;
	struct route_metrics *m = &rm[slot(route_index)];
	size_t si = NSTATUS - 1;
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status)
			si = i;
	atomic_fetch_add_explicit(&m->by_status[si], 1, memory_order_relaxed);
	double s = (double)ns / 1e9;
	size_t b = 0;
	while (b < NBUCKET && s > buckets[b])
		b++;
	atomic_fetch_add_explicit(&m->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_ns, ns, memory_order_relaxed);
}

static void route_label(size_t i, char *out, size_t cap)
{
	if (i < nroutes)
		snprintf(out, cap, "method=\"%s\",route=\"%s\"", http_routes[i].method,
		         http_routes[i].pattern);
	else
		snprintf(out, cap, "method=\"GET\",route=\"%s\"",
		         i == nroutes ? "static" : "unmatched");
}

static void render(struct buf *b)
{
	char label[256];
	buf_puts(b,
	         "# HELP scrmd_http_requests_total HTTP requests answered, by route and status.\n"
	         "# TYPE scrmd_http_requests_total counter\n");
	for (size_t i = 0; i < nroutes + 2; i++) {
		route_label(i, label, sizeof label);
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t v =
			    atomic_load_explicit(&rm[i].by_status[s], memory_order_relaxed);
			if (!v)
				continue;
			if (s < NSTATUS - 1)
				buf_printf(b, "scrmd_http_requests_total{%s,status=\"%u\"} %llu\n",
				           label, statuses[s], (unsigned long long)v);
			else
				buf_printf(b,
				           "scrmd_http_requests_total{%s,status=\"other\"} %llu\n",
				           label, (unsigned long long)v);
		}
	}
	buf_puts(b, "# HELP scrmd_http_request_duration_seconds Time from request start to the "
	            "response being handed to the network.\n"
	            "# TYPE scrmd_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < nroutes + 2; i++) {
		uint64_t cum = 0, total = 0;
		for (size_t k = 0; k <= NBUCKET; k++)
			total += atomic_load_explicit(&rm[i].bucket[k], memory_order_relaxed);
		if (!total)
			continue;
		route_label(i, label, sizeof label);
		for (size_t k = 0; k <= NBUCKET; k++) {
			cum += atomic_load_explicit(&rm[i].bucket[k], memory_order_relaxed);
			if (k < NBUCKET)
				buf_printf(b,
				           "scrmd_http_request_duration_seconds_bucket{%s,le=\"%"
				           "g\"} %llu\n",
				           label, buckets[k], (unsigned long long)cum);
			else
				buf_printf(b,
				           "scrmd_http_request_duration_seconds_bucket{%s,le=\"+"
				           "Inf\"} %llu\n",
				           label, (unsigned long long)cum);
		}
		buf_printf(b, "scrmd_http_request_duration_seconds_sum{%s} %.6f\n", label,
		           (double)atomic_load(&rm[i].sum_ns) / 1e9);
		buf_printf(b, "scrmd_http_request_duration_seconds_count{%s} %llu\n", label,
		           (unsigned long long)cum);
	}

	struct store_stats ss;
	store_stats_get(&ss);
	buf_printf(
	    b,
	    "# HELP scrmd_db_size_bytes Size of the database file.\n"
	    "# TYPE scrmd_db_size_bytes gauge\nscrmd_db_size_bytes %lld\n"
	    "# HELP scrmd_db_wal_size_bytes Size of the write-ahead log.\n"
	    "# TYPE scrmd_db_wal_size_bytes gauge\nscrmd_db_wal_size_bytes %lld\n"
	    "# HELP scrmd_db_commits_total Group commits.\n"
	    "# TYPE scrmd_db_commits_total counter\nscrmd_db_commits_total %llu\n"
	    "# HELP scrmd_db_writes_total Write closures committed.\n"
	    "# TYPE scrmd_db_writes_total counter\nscrmd_db_writes_total %llu\n"
	    "# HELP scrmd_db_failed_commits_total Batches whose commit failed.\n"
	    "# TYPE scrmd_db_failed_commits_total counter\nscrmd_db_failed_commits_total %llu\n"
	    "# HELP scrmd_db_unavailable 1 while the database refuses writes.\n"
	    "# TYPE scrmd_db_unavailable gauge\nscrmd_db_unavailable %d\n",
	    (long long)ss.db_bytes, (long long)ss.wal_bytes, (unsigned long long)ss.commits,
	    (unsigned long long)ss.closures, (unsigned long long)ss.failed_commits,
	    store_unavailable() ? 1 : 0);
	buf_puts(b, "# HELP scrmd_db_commit_batch_size Write closures per group commit.\n"
	            "# TYPE scrmd_db_commit_batch_size histogram\n");
	uint64_t cum = 0;
	for (int i = 0; i < 8; i++) {
		cum += ss.batch_hist[i];
		if (i < 7)
			buf_printf(b, "scrmd_db_commit_batch_size_bucket{le=\"%d\"} %llu\n",
			           (2 << i) - 1, (unsigned long long)cum);
	}
	buf_printf(b, "scrmd_db_commit_batch_size_bucket{le=\"+Inf\"} %llu\n",
	           (unsigned long long)cum);
	buf_printf(b,
	           "scrmd_db_commit_batch_size_sum %llu\nscrmd_db_commit_batch_size_count %llu\n",
	           (unsigned long long)ss.closures, (unsigned long long)cum);
	buf_printf(b,
	           "# HELP scrmd_uptime_seconds Seconds since the daemon started.\n"
	           "# TYPE scrmd_uptime_seconds gauge\nscrmd_uptime_seconds %lld\n"
	           "# HELP scrmd_http_connections Open client connections.\n"
	           "# TYPE scrmd_http_connections gauge\nscrmd_http_connections %u\n"
	           "# HELP scrmd_http_requests_in_flight Requests being processed.\n"
	           "# TYPE scrmd_http_requests_in_flight gauge\nscrmd_http_requests_in_flight %u\n"
	           "# HELP scrmd_build_info Version of the running daemon.\n"
	           "# TYPE scrmd_build_info gauge\nscrmd_build_info{version=\"%s\"} 1\n",
	           (long long)(time_now() - started_at), http_connections_current(),
	           http_requests_in_flight(), SCRM_VERSION);
}

int http_metrics(const struct req *rq, struct resp *rs)
{
	(void)rq;
	struct buf b = {0};
	render(&b);
	rs->raw_len = b.len;
	rs->raw = buf_steal(&b);
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 200;
}

int http_healthz(const struct req *rq, struct resp *rs)
{
	(void)rq;
	const char *why = store_unavailable_reason();
	if (why) {
		/* until a write succeeds again (reads go on meanwhile) */
		char reason[160];
		snprintf(reason, sizeof reason, "the database refuses writes: %s", why);
		rs->body = json_pack("{s:s, s:s}", "status", "unavailable", "reason", reason);
		return 503;
	}
	rs->body = json_pack("{s:s}", "status", "ok");
	return 200;
}
