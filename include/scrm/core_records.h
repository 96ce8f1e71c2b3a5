/* core_records.h - the field rules of customers, orders and tags: phone
 * normalisation, birthdays, platforms, statuses, stages and colours. No I/O. */
#ifndef SCRM_CORE_RECORDS_H
#define SCRM_CORE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

#define CORE_PHONE_MAX 24

/* Normalise a phone number for storage and comparison: spaces, dashes, dots
 * and brackets go; a mainland number written +86 / 0086 / 86 followed by 11
 * digits loses its country code; other international numbers keep a leading
 * '+'. Returns NULL and writes out (CORE_PHONE_MAX bytes), or a static message
 * saying what is wrong. */
const char *core_phone_normalize(const char *in, char out[CORE_PHONE_MAX]);

/* The start of a phone as typed in a search ("+86 136-5", "0086 1365") in the
 * stored form; false when no digit is left. */
bool core_phone_prefix(const char *q, char out[CORE_PHONE_MAX]);

/* "YYYY-MM-DD" or "--MM-DD" (year unknown; 02-29 allowed). On success stores
 * month and day; NULL or a static message. */
const char *core_birthday_parse(const char *s, int *month, int *day);

/* NULL if acceptable, else a static message. */
const char *core_email_problem(const char *s);
const char *core_platform_problem(const char *s);    /* [a-z0-9_]{1,32} */
const char *core_external_id_problem(const char *s); /* 1..128 visible characters */
const char *core_color_problem(const char *s);       /* #rrggbb */

bool core_gender_valid(const char *s);       /* m f u */
bool core_order_status_valid(const char *s); /* paid refunded cancelled */
/* Lifecycle stages in journey order; -1 for an unknown name. */
int core_stage_rank(const char *s);
extern const char *const core_stages[6];

#endif
