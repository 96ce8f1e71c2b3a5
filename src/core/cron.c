/* cron.c - cron expressions: a hand-written parser into bit sets, and a
 * next-occurrence search that walks the calendar (skipping months and days that
 * cannot match) and asks the zone database only for candidate minutes. Wall
 * times are handled as "local seconds" (the wall clock written as if it were
 * UTC), so that no arithmetic goes through mktime's normalisation. */
#include "scrm/core_cron.h"

#include "scrm/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct field {
	const char *name;
	int lo, hi;
	const char *const *names; /* names[i] stands for lo + i */
	const char *allowed;      /* what to tell the user */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field fields[5] = {
    {"minute", 0, 59, NULL, "0-59"},
    {"hour", 0, 23, NULL, "0-23"},
    {"day of month", 1, 31, NULL, "1-31"},
    {"month", 1, 12, month_names, "1-12 or jan-dec"},
    {"day of week", 0, 7, day_names, "0-7 or sun-sat; 0 and 7 are Sunday"},
};

#define SYNTAX "numbers, *, a-b, a step /n after *, a-b or a, and lists joined by ,"

static const struct {
	const char *name, *expr;
} macros[] = {
    {"yearly", "0 0 1 1 *"}, {"annually", "0 0 1 1 *"}, {"monthly", "0 0 1 * *"},
    {"weekly", "0 0 * * 0"}, {"daily", "0 0 * * *"},    {"midnight", "0 0 * * *"},
    {"hourly", "0 * * * *"},
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
	if (err && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool is_alpha(char ch)
{
	return lower(ch) >= 'a' && lower(ch) <= 'z';
}

/* A refusal for an unexpected byte: printable ASCII is quoted, anything else
 * shown as hex, so that the message stays ASCII (it may end up in JSON). */
static int bad_char(char *err, size_t errlen, int fi, char ch)
{
	const struct field *f = &fields[fi];
	if (ch == '\0' || is_blank(ch))
		return fail(err, errlen, "cron field %d (%s): a %s is missing; allowed: %s (%s)",
		            fi + 1, f->name, f->names ? "number or name" : "number", SYNTAX,
		            f->allowed);
	if ((unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f)
		return fail(err, errlen, "cron field %d (%s): unexpected '%c'; allowed: %s (%s)",
		            fi + 1, f->name, ch, SYNTAX, f->allowed);
	return fail(err, errlen, "cron field %d (%s): unexpected byte 0x%02x; allowed: %s (%s)",
	            fi + 1, f->name, (unsigned char)ch, SYNTAX, f->allowed);
}

/* Read a number (or, where the field has them, a name) at *p into *v and
 * advance *p; the blank or NUL that ends a field stops both. Long digit
 * strings saturate rather than overflow, and are refused with their text.
 * Returns 0 or -1 with err set. */
static int value(const char **p, int fi, int *v, char *err, size_t errlen)
{
	const struct field *f = &fields[fi];
	const char *s = *p;
	if (is_digit(*s)) {
		long n = 0;
		while (is_digit(*s)) {
			if (n < 1000000)
				n = n * 10 + (*s - '0');
			s++;
		}
		if (n < f->lo || n > f->hi)
			return fail(err, errlen, "cron field %d (%s): %.*s is out of range %d-%d",
			            fi + 1, f->name, (int)(s - *p > 24 ? 24 : s - *p), *p, f->lo,
			            f->hi);
		*v = (int)n;
		*p = s;
		return 0;
	}
	if (!is_alpha(*s))
		return bad_char(err, errlen, fi, *s);
	while (is_alpha(*s))
		s++;
	int len = (int)(s - *p);
	if (!f->names)
		return fail(err, errlen,
		            "cron field %d (%s): names are not allowed here; allowed: %s", fi + 1,
		            f->name, f->allowed);
	for (int i = 0; len == 3 && f->names[i]; i++)
		if (lower((*p)[0]) == f->names[i][0] && lower((*p)[1]) == f->names[i][1] &&
		    lower((*p)[2]) == f->names[i][2]) {
			*v = f->lo + i;
			*p = s;
			return 0;
		}
	return fail(err, errlen, "cron field %d (%s): unknown name \"%.*s\"; allowed: %s", fi + 1,
	            f->name, len > 24 ? 24 : len, *p, f->allowed);
}

/* Parse one field (the text from p to end) into *bits. */
static int parse_field(const char *p, const char *end, int fi, uint64_t *bits, char *err,
                       size_t errlen)
{
	const struct field *f = &fields[fi];
	*bits = 0;
	for (;;) {
		int a, b, step = 1;
		if (p == end || *p == ',')
			return fail(err, errlen,
			            "cron field %d (%s): empty entry in a list; allowed: %s",
			            fi + 1, f->name, SYNTAX);
		bool star = *p == '*', ranged = false;
		if (star) {
			a = f->lo;
			b = f->hi;
			p++;
		} else {
			if (value(&p, fi, &a, err, errlen) < 0)
				return -1;
			b = a;
			if (p < end && *p == '-') {
				p++;
				ranged = true;
				if (value(&p, fi, &b, err, errlen) < 0)
					return -1;
				if (b < a)
					return fail(
					    err, errlen,
					    "cron field %d (%s): the range %d-%d runs backwards; "
					    "allowed: a-b with a <= b",
					    fi + 1, f->name, a, b);
			}
		}
		if (p < end && *p == '/') {
			p++;
			if (!star && !ranged)
				b = f->hi; /* "a/n": from a to the maximum */
			if (is_alpha(*p))
				return fail(err, errlen,
				            "cron field %d (%s): a step must be a number", fi + 1,
				            f->name);
			if (!is_digit(*p))
				return bad_char(err, errlen, fi, *p);
			const char *s = p;
			long n = 0;
			while (is_digit(*p)) {
				if (n < 1000000)
					n = n * 10 + (*p - '0');
				p++;
			}
			if (n == 0)
				return fail(
				    err, errlen,
				    "cron field %d (%s): step 0 is not allowed; steps start at 1",
				    fi + 1, f->name);
			if (n > b - a + 1)
				return fail(
				    err, errlen,
				    "cron field %d (%s): step %.*s is larger than the %d values "
				    "of %d-%d",
				    fi + 1, f->name, (int)(p - s > 24 ? 24 : p - s), s, b - a + 1,
				    a, b);
			step = (int)n;
		}
		for (int v = a; v <= b; v += step)
			*bits |= 1ull << v;
		if (p == end)
			return 0;
		if (*p != ',')
			return bad_char(err, errlen, fi, *p);
		p++;
	}
}

/* "@daily" and friends: the expression they stand for, or NULL with err set. */
static const char *macro(const char *p, char *err, size_t errlen)
{
	const char *allowed = "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly";
	const char *s = p + 1, *e = s;
	while (*e && !is_blank(*e))
		e++;
	size_t len = (size_t)(e - s);
	char name[25] = "";
	bool word = len > 0 && len < sizeof name;
	for (size_t k = 0; word && k < len; k++) {
		word = is_alpha(s[k]);
		name[k] = lower(s[k]);
	}
	if (!word) {
		fail(err, errlen, "unknown cron macro; allowed: %s", allowed);
		return NULL;
	}
	name[len] = '\0';
	if (strcmp(name, "reboot") == 0) {
		fail(err, errlen,
		     "@reboot is not supported: the scheduler has no boot event; allowed: "
		     "five fields or %s",
		     allowed);
		return NULL;
	}
	for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++) {
		if (strcmp(name, macros[i].name) != 0)
			continue;
		while (is_blank(*e))
			e++;
		if (*e) {
			fail(err, errlen, "cron macro @%s stands alone: nothing may follow it",
			     name);
			return NULL;
		}
		return macros[i].expr;
	}
	fail(err, errlen, "unknown cron macro @%s; allowed: %s", name, allowed);
	return NULL;
}

int cron_parse(const char *expr, struct cron *out, char *err, size_t errlen)
{
	const char *p = expr ? expr : "";
	while (is_blank(*p))
		p++;
	if (*p == '@' && !(p = macro(p, err, errlen)))
		return -1;
	const char *start[6], *end[6];
	int n = 0;
	while (*p) {
		if (n < 6)
			start[n] = p;
		while (*p && !is_blank(*p))
			p++;
		if (n < 6)
			end[n] = p;
		n++;
		while (is_blank(*p))
			p++;
	}
	if (n == 0)
		return fail(err, errlen,
		            "cron expression is empty; expected 5 fields: minute hour "
		            "day-of-month month day-of-week");
	if (n != 5)
		return fail(err, errlen,
		            "cron expression has %d field%s; expected 5: minute hour "
		            "day-of-month month day-of-week",
		            n, n == 1 ? "" : "s");
	uint64_t bits[5];
	for (int i = 0; i < 5; i++)
		if (parse_field(start[i], end[i], i, &bits[i], err, errlen) < 0)
			return -1;
	*out = (struct cron){
	    .minute = bits[0],
	    .hour = (uint32_t)bits[1],
	    .dom = (uint32_t)bits[2],
	    .month = (uint16_t)bits[3],
	    .dow = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f), /* 7 is Sunday */
	    .dom_any = *start[2] == '*',
	    .dow_any = *start[4] == '*',
	};
	return 0;
}

/* Seconds east of UTC in effect at Unix time t. */
static long offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
		return 0;
	return tm.tm_gmtoff;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The instant at which the wall clock shows local seconds L: the first one if
 * it shows L twice (fall-back), and if it never does (a spring-forward gap)
 * the first whole minute after the gap. The offsets in effect a day before and
 * after L cover any one transition near it; each is refined once with the
 * offset at the instant it gives, in case the day-away guesses straddle a
 * second transition. */
static int64_t instant(int64_t L)
{
	long off[4];
	off[0] = offset_at(L - 86400);
	off[1] = offset_at(L + 86400);
	off[2] = offset_at(L - off[0]);
	off[3] = offset_at(L - off[1]);
	long omin = off[0], omax = off[0];
	int64_t best = INT64_MAX;
	for (int i = 0; i < 4; i++) {
		bool seen = false;
		for (int k = 0; k < i; k++)
			seen = seen || off[k] == off[i];
		if (seen)
			continue;
		omin = off[i] < omin ? off[i] : omin;
		omax = off[i] > omax ? off[i] : omax;
		int64_t t = L - off[i];
		if (t < best && t + offset_at(t) == L)
			best = t;
	}
	if (best != INT64_MAX)
		return best;
	/* In the gap the clock jumps from below L (at lo, on the smaller offset)
	 * to above it (at hi): find the jump. */
	int64_t lo = L - omax, hi = L - omin;
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (mid + offset_at(mid) > L)
			hi = mid;
		else
			lo = mid;
	}
	return floor_div(hi + 59, 60) * 60;
}

/* Vixie's day rule: with either day field starting with '*' both must match
 * (a plain '*' matches every day, so only the other counts), else either. */
static bool day_matches(const struct cron *c, int64_t day, int mday)
{
	int wday = (int)((day % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
	bool dom = c->dom >> mday & 1, dow = c->dow >> wday & 1;
	return c->dom_any || c->dow_any ? dom && dow : dom || dow;
}

#define T_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define T_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

int64_t cron_next(const struct cron *c, int64_t after)
{
	if (after < T_MIN || after > T_MAX)
		return -1;
	time_t tt = (time_t)after;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
		return -1;
	int y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
	int64_t day = time_days_from_civil(y, (unsigned)m, (unsigned)d);
	const int64_t last = time_days_from_civil(y + 5, (unsigned)m, (unsigned)d);
	/* Wall-clock candidates in order from the minute `after` is in: the
	 * instants they give never decrease, so the first one past `after` is the
	 * answer (those at or before it are that minute itself and, after a
	 * fall-back, minutes whose first occurrence has passed). */
	int h0 = tm.tm_hour, m0 = tm.tm_min;
	for (; day <= last; day++, h0 = 0, m0 = 0) {
		time_civil_from_days(day, &y, &m, &d);
		if (!(c->month >> m & 1)) { /* on to the last day of the month */
			day = time_days_from_civil(y + m / 12, (unsigned)(m % 12 + 1), 1) - 1;
			continue;
		}
		if (!day_matches(c, day, d))
			continue;
		for (int h = h0; h < 24; h++) {
			if (!(c->hour >> h & 1))
				continue;
			for (int mi = h == h0 ? m0 : 0; mi < 60; mi++) {
				if (!(c->minute >> mi & 1))
					continue;
				int64_t t = instant(day * 86400 + h * 3600 + mi * 60);
				if (t > after)
					return t;
			}
		}
	}
	return -1;
}
