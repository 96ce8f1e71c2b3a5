/* fuzz_cron.c - libFuzzer harness of the cron parser and cron_next
 * (src/core/cron.c).
 *
 * Input: byte 0 holds flags (bit 0: America/New_York, with daylight saving
 * time, instead of Asia/Shanghai; bit 1: the start time taken as is, any
 * int64, instead of folded into 1992-2400), bytes 1-8 the start time, the
 * rest the expression (up to a NUL). Checks:
 *  - a refusal leaves *out untouched and gives a printable ASCII message;
 *  - an accepted expression has no bits outside its fields' ranges and no
 *    empty field;
 *  - cron_next is -1 or a whole minute strictly after the start and at most
 *    five years and a few days on; in Shanghai (a fixed +08:00 since 1992)
 *    its local time matches the expression (minute, hour, month, and the day
 *    of month / day of week rule), no earlier minute after the start does, and
 *    -1 means no minute matches in the next five years; in New York an answer
 *    not just after a clock change matches too.
 *
 *   build/fuzz/fuzz_cron -dict=tests/fuzz/cron.dict CORPUS_DIR tests/fuzz/corpus/cron
 */
#include "fuzz_die.h"
#include "scrm/core_cron.h"
#include "scrm/timeutil.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIE FUZZ_DIE

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define Y1992 694224000LL /* 1992-01-01T00:00:00Z */
#define SPAN (408LL * 365 * 86400)
#define FIVE_YEARS (5LL * 366 * 86400 + 2 * 86400)

static int zone = -1;

static void set_zone(int z)
{
	if (z == zone)
		return;
	if (time_set_zone(z ? "America/New_York" : "Asia/Shanghai") < 0)
		DIE("no zoneinfo (install tzdata)");
	zone = z;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	set_zone(0);
	return 0;
}

/* The wall clock of t in a fixed +08:00. */
struct wall {
	int64_t day; /* days since 1970-01-01 */
	int y, mon, d, h, min, dow;
};

static struct wall wall8(int64_t t)
{
	struct wall w;
	int64_t l = t + 8 * 3600;
	w.day = l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
	int64_t s = l - w.day * 86400;
	w.h = (int)(s / 3600);
	w.min = (int)(s % 3600 / 60);
	time_civil_from_days(w.day, &w.y, &w.mon, &w.d);
	w.dow = (int)(((w.day + 4) % 7 + 7) % 7);
	return w;
}

static bool day_matches(const struct cron *c, int mon, int d, int dow)
{
	if (!(c->month >> mon & 1))
		return false;
	bool dm = c->dom >> d & 1, wm = c->dow >> dow & 1;
	if (c->dom_any || c->dow_any)
		return dm && wm;
	return dm || wm;
}

static bool time_matches(const struct cron *c, int h, int min)
{
	return (c->hour >> h & 1) && (c->minute >> min & 1);
}

/* The first matching minute in (after, limit] by a day-then-minute search in
 * +08:00; -1 if none. */
static int64_t search8(const struct cron *c, int64_t after, int64_t limit)
{
	int64_t t = (after / 60 + 1) * 60;
	while (t <= limit) {
		struct wall w = wall8(t);
		if (!day_matches(c, w.mon, w.d, w.dow)) {
			t = (w.day + 1) * 86400 - 8 * 3600; /* the next local midnight */
			continue;
		}
		if (time_matches(c, w.h, w.min))
			return t;
		t += 60;
	}
	return -1;
}

static void check_sets(const struct cron *c, const char *expr)
{
	if (!c->minute || c->minute >> 60 || !c->hour || c->hour >> 24 || !c->dom || (c->dom & 1) ||
	    !c->month || (c->month & 1) || c->month >> 13 || !c->dow || c->dow >> 7)
		DIE("\"%s\": sets out of range: minute %#llx hour %#x dom %#x month %#x dow %#x",
		    expr, (unsigned long long)c->minute, c->hour, c->dom, c->month, c->dow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9 || size > 4096)
		return 0;
	unsigned flags = data[0];
	uint64_t raw = 0;
	for (int i = 1; i <= 8; i++)
		raw = raw << 8 | data[i];
	int64_t after = (flags & 2) ? (int64_t)raw : Y1992 + (int64_t)(raw % (uint64_t)SPAN);
	size_t n = size - 9;
	char *expr = malloc(n + 1);
	memcpy(expr, data + 9, n);
	expr[n] = '\0';
	set_zone(flags & 1);

	struct cron c;
	memset(&c, 0xa5, sizeof c);
	struct cron sentinel = c;
	char err[200];
	memset(err, 'X', sizeof err);
	int rc = cron_parse(expr, &c, err, sizeof err);
	if (rc != 0) {
		if (rc != -1)
			DIE("\"%s\": cron_parse returned %d", expr, rc);
		if (memcmp(&c, &sentinel, sizeof c) != 0)
			DIE("\"%s\": a refusal changed *out", expr);
		size_t len = strnlen(err, sizeof err);
		if (len == 0 || len == sizeof err)
			DIE("\"%s\": a refusal without a terminated message", expr);
		for (size_t i = 0; i < len; i++)
			if (err[i] < 0x20 || err[i] > 0x7e)
				DIE("\"%s\": the message has byte %#x", expr,
				    (unsigned char)err[i]);
		/* a NULL err buffer is allowed */
		if (cron_parse(expr, &c, NULL, 0) != -1)
			DIE("\"%s\": refused with a message, accepted without", expr);
		free(expr);
		return 0;
	}
	check_sets(&c, expr);

	int64_t next = cron_next(&c, after);
	bool in_range = after > -62135596800LL + 86400 && after < 253402300799LL - FIVE_YEARS;
	if (next != -1) {
		/* whole minutes since 1972 (zones had odd offsets before) */
		if (next <= after || (after >= 63072000 && next % 60 != 0))
			DIE("\"%s\" after %lld: %lld is not a whole minute after it", expr,
			    (long long)after, (long long)next);
		if (next - after > FIVE_YEARS)
			DIE("\"%s\" after %lld: %lld is more than five years on", expr,
			    (long long)after, (long long)next);
	} else if (!(flags & 2) && in_range && !(flags & 1)) {
		/* none in five years: the search agrees, up to five years less a day */
		int64_t s = search8(&c, after, after + 5LL * 365 * 86400);
		if (s != -1)
			DIE("\"%s\" after %lld: none, but %lld matches", expr, (long long)after,
			    (long long)s);
	}
	if (next != -1 && !(flags & 1) && after >= Y1992) {
		int64_t s = search8(&c, after, next);
		if (s != next)
			DIE("\"%s\" after %lld: cron_next %lld, the first match %lld", expr,
			    (long long)after, (long long)next, (long long)s);
	}
	if (next != -1 && (flags & 1) && in_range) {
		time_t t0 = (time_t)next, t1 = (time_t)(next - 3 * 3600);
		struct tm a, b;
		localtime_r(&t0, &a);
		localtime_r(&t1, &b);
		if (a.tm_gmtoff == b.tm_gmtoff &&
		    (!time_matches(&c, a.tm_hour, a.tm_min) ||
		     !day_matches(&c, a.tm_mon + 1, a.tm_mday, a.tm_wday)))
			DIE("\"%s\" after %lld: %lld (%02d:%02d) does not match", expr,
			    (long long)after, (long long)next, a.tm_hour, a.tm_min);
	}
	free(expr);
	return 0;
}
