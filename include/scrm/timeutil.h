/* timeutil.h - the daemon's clock and RFC 3339 / ISO date text. All stored times
 * are integer Unix seconds (UTC). */
#ifndef SCRM_TIMEUTIL_H
#define SCRM_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

/* Wall-clock Unix seconds / milliseconds, plus the test offset. */
int64_t time_now(void);
int64_t time_now_ms(void);
/* Tests move the daemon's clock (days forward for check-ins, expiry, tier
 * windows) with an offset in seconds; it is 0 in production. */
void time_set_offset(int64_t seconds);
int64_t time_get_offset(void);

/* The business calendar, in the configured IANA zone (set once at start,
 * before any thread: it becomes the process TZ). */
int time_set_zone(const char *zone);
/* The local calendar date of t, as days since 1970-01-01 (so consecutive days
 * differ by one whatever the month), and as y/m/d. */
int64_t time_local_day(int64_t t);
void time_local_ymd(int64_t t, int *y, int *m, int *d);
/* The first and last second of a local day number. */
int64_t time_local_day_start(int64_t day);
int64_t time_local_day_end(int64_t day);
/* t moved by n calendar months in local time (the day clamped to the month's
 * end: Jan 31 + 1 month is Feb 28 or 29). */
int64_t time_local_add_months(int64_t t, int n);
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
/* The civil date of a day number (inverse of time_days_from_civil). */
void time_civil_from_days(int64_t z, int *y, int *m, int *d);

#endif
