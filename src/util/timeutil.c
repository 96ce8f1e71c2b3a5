/* timeutil.c - the clock, RFC 3339 and the business calendar. UTC conversions
 * are done by hand rather than with mktime/timegm, so that they never consult
 * the process time zone; the time_local_* functions do, on purpose: the process
 * zone is the business zone. */
#include "scrm/timeutil.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int64_t clock_offset;

void time_set_offset(int64_t seconds)
{
	atomic_store(&clock_offset, seconds);
}

int64_t time_get_offset(void)
{
	return atomic_load(&clock_offset);
}

int64_t time_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec + atomic_load(&clock_offset);
}

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&clock_offset) * 1000;
}

int time_set_zone(const char *zone)
{
	char path[512];
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
	if (access(path, R_OK) != 0)
		return -1;
	setenv("TZ", zone, 1);
	tzset();
	return 0;
}

int64_t time_local_day(int64_t t)
{
	int y, m, d;
	time_local_ymd(t, &y, &m, &d);
	return time_days_from_civil(y, (unsigned)m, (unsigned)d);
}

void time_local_ymd(int64_t t, int *y, int *m, int *d)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

/* Local midnight of a civil date, asking the zone database (DST-safe). */
static int64_t local_midnight(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
	return (int64_t)mktime(&tm);
}

int64_t time_local_day_start(int64_t day)
{
	int y, m, d;
	time_civil_from_days(day, &y, &m, &d);
	return local_midnight(y, m, d);
}

int64_t time_local_day_end(int64_t day)
{
	return time_local_day_start(day + 1) - 1;
}

int64_t time_local_add_months(int64_t t, int n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	int months = tm.tm_year * 12 + tm.tm_mon + n;
	int y = months / 12 + 1900, m = months % 12 + 1;
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int last = dm[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	struct tm out = {.tm_year = y - 1900,
	                 .tm_mon = m - 1,
	                 .tm_mday = tm.tm_mday > last ? last : tm.tm_mday,
	                 .tm_hour = tm.tm_hour,
	                 .tm_min = tm.tm_min,
	                 .tm_sec = tm.tm_sec,
	                 .tm_isdst = -1};
	return (int64_t)mktime(&out);
}

/* Howard Hinnant's civil_from_days. */
void time_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t yy = (int64_t)yoe + era * 400;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	const unsigned dd = doy - (153 * mp + 2) / 5 + 1;
	const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (mm <= 2));
	*m = (int)mm;
	*d = (int)dd;
}

uint64_t time_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Howard Hinnant's days_from_civil: exact for every Gregorian date. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

char *time_fmt_rfc3339(int64_t t, char out[TIME_RFC3339_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0 ||
	    strftime(out, TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, TIME_RFC3339_LEN, "9999-12-31T23:59:59Z"); /* clamp: out of range */
	return out;
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

bool time_parse_date(const char *s, int *y, int *m, int *d)
{
	int yy, mm, dd;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	if (!digits(s, 4, &yy) || !digits(s + 5, 2, &mm) || !digits(s + 8, 2, &dd))
		return false;
	if (yy < 1 || mm < 1 || mm > 12 || dd < 1 || dd > days_in_month(yy, mm))
		return false;
	if (y)
		*y = yy;
	if (m)
		*m = mm;
	if (d)
		*d = dd;
	return true;
}

bool time_parse_rfc3339(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, se;
	size_t n = strlen(s);
	if (n < 20)
		return false;
	char date[11];
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!time_parse_date(date, &y, &mo, &d))
		return false;
	if ((s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return false;
	if (!digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return false;
	if (h > 23 || mi > 59 || se > 60)
		return false;
	if (se == 60) /* a leap second reads as the next instant */
		se = 59;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	int64_t offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (strlen(p) != 6 || p[3] != ':' || !digits(p + 1, 2, &oh) ||
		    !digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	*out = time_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
	       se - offset;
	return true;
}
