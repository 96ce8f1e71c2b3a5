/* util.h - allocation that never fails, a growable string buffer, small string
 * helpers. Everything here is thread-safe and has no dependencies beyond libc. */
#ifndef SCRM_UTIL_H
#define SCRM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: abort the process with a log line on out-of-memory, never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. Zero-initialise or buf_init(). */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_init(struct buf *b);
void buf_clear(struct buf *b); /* frees; the buffer can be reused */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
char *buf_steal(struct buf *b); /* caller owns the string; b is emptied */

/* Strings. */
bool str_eq(const char *a, const char *b); /* NULL-safe */
bool str_startswith(const char *s, const char *prefix);
bool str_endswith(const char *s, const char *suffix);
/* Parse a whole decimal int64; false on junk, overflow or empty input. */
bool str_to_i64(const char *s, int64_t *out);
/* true if s is valid UTF-8 of exactly len bytes (no NUL inside). */
bool str_utf8_valid(const char *s, size_t len);
/* Replace, in place, every byte of s that is not part of a well-formed UTF-8
 * sequence (stray bytes, a sequence cut short, overlongs, surrogates) with '?',
 * so that text built from what a client sent, or cut at a byte limit, can go
 * into JSON. Returns the number of bytes replaced. */
size_t str_utf8_scrub(char *s);
/* Number of code points in a valid UTF-8 string. */
size_t str_utf8_len(const char *s);

/* Read a whole small file into a NUL-terminated heap string; NULL on error
 * (errno kept). Caller owns the result. */
char *file_read_all(const char *path, size_t *len_out);

#endif
