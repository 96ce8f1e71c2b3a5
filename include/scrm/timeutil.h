/* timeutil.h - the daemon's clock and RFC 3339 / ISO date text. All stored times
 * are integer Unix seconds (UTC). */
#ifndef SCRM_TIMEUTIL_H
#define SCRM_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

/* Wall-clock Unix seconds / milliseconds. */
int64_t time_now(void);
int64_t time_now_ms(void);
/* Monotonic nanoseconds, for measuring durations. */
uint64_t time_mono_ns(void);

#define TIME_RFC3339_LEN 21 /* "2026-11-22T08:00:00Z" plus NUL */
/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into out (>= TIME_RFC3339_LEN bytes). */
char *time_fmt_rfc3339(int64_t t, char out[TIME_RFC3339_LEN]);
/* Parse an RFC 3339 date-time ("Z" or "+08:00" offsets, optional fraction, which
 * is truncated). Returns false on anything else, including impossible dates. */
bool time_parse_rfc3339(const char *s, int64_t *out);
/* Days since 1970-01-01 for a proleptic Gregorian date (no range check). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Validate "YYYY-MM-DD"; on success stores the parts (any may be NULL). */
bool time_parse_date(const char *s, int *y, int *m, int *d);

#endif
