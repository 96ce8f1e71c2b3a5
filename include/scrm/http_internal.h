/* http_internal.h - shared between the files of src/http/. */
#ifndef SCRM_HTTP_INTERNAL_H
#define SCRM_HTTP_INTERNAL_H

#include "scrm/http.h"
#include "scrm/util.h"

#include <stdint.h>

/* Metrics. route_index: position in http_routes, or one of these. */
#define METRIC_STATIC (-1)
#define METRIC_UNMATCHED (-2)
void http_metrics_init(void);
void http_metrics_observe(int route_index, unsigned status, uint64_t ns);
/* Gauges supplied by the server. */
unsigned http_connections_current(void);
unsigned http_requests_in_flight(void);

/* Static files below the web root. Returns 0 and fills out when
 * the path names a regular file inside the root; -1 (404) otherwise. */
struct static_file {
	int fd;
	uint64_t size;
	const char *type;
	char etag[48];
	bool immutable; /* hashed asset name: cache for a long time */
	bool gzip;      /* the body is the file's precompressed NAME.gz */
};
int http_static_init(const char *root);
void http_static_shutdown(void);
/* gzip_ok: the client accepts gzip, so NAME.gz is answered for NAME when the
 * build left one next to it. */
int http_static_open(const char *path, bool gzip_ok, struct static_file *out);

#endif
