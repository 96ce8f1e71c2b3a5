/* core_cron.h - five-field cron expressions ("m h dom mon dow", as in Vixie
 * cron and POSIX crontab) and their next occurrence in the business time zone,
 * for the SOP scheduler.
 *
 * Syntax of each field: `*`, a number, a range `a-b`, and comma lists of
 * these; `*`, a range or a single number may take a step `/n` (a single
 * number with a step runs to the field's maximum: minute `5/20` is 5, 25 and
 * 45). Months may be written jan-dec and weekdays sun-sat (three letters, any
 * case, also as range ends, never as steps). Day of week is 0-7 where both 0
 * and 7 are Sunday; `*` and `a/n` run to 7, so `1/3` is Monday, Thursday and
 * Sunday. Refused: a field count other than 5, empty list entries, numbers out
 * of range, reversed ranges (`5-2`), step 0, a step larger than the number of
 * values in its range (minute `*` with step 60 is minute 0, step 61 is
 * refused), and anything else. The macros @yearly, @annually, @monthly,
 * @weekly, @daily, @midnight and @hourly stand for their usual expressions;
 * @reboot is refused.
 *
 * Days: when both day of month and day of week are restricted, a day matches
 * if either does (the classic cron OR rule). As in Vixie cron, a field whose
 * text starts with `*` (also `*` with a step) counts as unrestricted: then a
 * day must match both fields, so "0 0 * * 1" is every Monday and day of month
 * `*` with step 2 and day of week 1 is odd-dated Mondays.
 *
 * Time: expressions are read as wall-clock time in the business time zone (the
 * process zone, see time_set_zone()). Around daylight saving changes:
 *  - a wall-clock time that does not exist (the spring-forward gap) fires at
 *    the first minute after the gap (02:30 on the day New York skips 02:00-02:59
 *    fires at 03:00 EDT), once however many matching minutes the gap swallowed
 *    and whether or not 03:00 matches too, so that a daily job never silently
 *    misses a day;
 *  - a wall-clock time that occurs twice (fall-back) fires once, at its first
 *    occurrence (01:30 EDT, not again at 01:30 EST).
 * Zones are assumed to have whole-minute offsets (true of every zone since
 * 1972). */
#ifndef SCRM_CORE_CRON_H
#define SCRM_CORE_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cron {
	uint64_t minute;       /* bit m set: minute m (0-59) */
	uint32_t hour;         /* bits 0-23 */
	uint32_t dom;          /* bits 1-31 */
	uint16_t month;        /* bits 1-12 */
	uint8_t dow;           /* bits 0-6, Sunday = 0 (7 in the text also means Sunday) */
	bool dom_any, dow_any; /* the field's text starts with '*' (Vixie's rule) */
};

/* Parse "m h dom mon dow" (fields separated by spaces or tabs; leading and
 * trailing blanks allowed) or a macro. Returns 0 and fills *out, or -1 with a
 * message for the user in err (errlen bytes, NUL-terminated, ASCII; err may be
 * NULL) that names the field at fault and what is allowed, e.g. "cron field 2
 * (hour): 24 is out of range 0-23". *out is untouched on failure. */
int cron_parse(const char *expr, struct cron *out, char *err, size_t errlen);

/* The first minute strictly after `after` (Unix seconds) that matches, read as
 * wall-clock time in the business time zone. Returns Unix seconds (a whole
 * minute), or -1 if there is none up to the same calendar date five years on
 * (e.g. "0 0 30 2 *") or `after` is outside years 1-9999. Thread-safe. */
int64_t cron_next(const struct cron *c, int64_t after);

#endif
