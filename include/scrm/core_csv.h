/* core_csv.h - a streaming RFC 4180 reader: quoted fields with "" escapes and
 * line breaks inside quotes, CRLF or LF line ends, a UTF-8 byte-order mark at
 * the start ignored. One record at a time; memory bounded by the record. */
#ifndef SCRM_CORE_CSV_H
#define SCRM_CORE_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_FIELDS 256
#define CSV_MAX_RECORD (1024 * 1024)

struct csv_reader {
	FILE *f;
	size_t line; /* physical line where the last record started (1-based) */
	size_t next_line;
	bool started;
	unsigned char back[4]; /* our own push-back, so any count is safe */
	size_t nback;
	char *buf; /* the record's field text, NUL-separated */
	size_t cap;
	char *fields[CSV_MAX_FIELDS];
	size_t nfields;
};

void csv_init(struct csv_reader *r, FILE *f);
void csv_clear(struct csv_reader *r);
/* Read the next record into r->fields/r->nfields. Returns 1 for a record, 0 at
 * the end, -1 for a malformed record (message in *why; reading continues at the
 * next line), e.g. a stray quote or a record over CSV_MAX_RECORD bytes. Blank
 * lines are skipped. */
int csv_next(struct csv_reader *r, const char **why);

#endif
