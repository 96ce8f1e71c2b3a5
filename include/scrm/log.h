/* log.h - one-line log records on stderr (journald adds its own metadata).
 * Lines are written with a single write(2), so lines from threads never mix. */
#ifndef SCRM_LOG_H
#define SCRM_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lv);
/* Parse "debug|info|warn|error"; returns -1 on an unknown name. */
int log_level_parse(const char *s, enum log_level *out);
void log_msg(enum log_level lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Copy s (up to max bytes) into dst of size cap with control characters, quotes,
 * backslashes and spaces escaped, so that client-supplied text can never forge a
 * log line or a field. Returns dst. */
char *log_escape(char *dst, size_t cap, const char *s, size_t max);

#endif
