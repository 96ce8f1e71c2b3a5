/* log.c - timestamped, single-write log lines. */
#include "scrm/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int min_level = LOG_INFO;
static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(enum log_level lv)
{
	atomic_store(&min_level, (int)lv);
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const char *const lower[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, lower[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level lv, const char *fmt, ...)
{
	if ((int)lv < atomic_load(&min_level))
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %s ", ts.tv_nsec / 1000000,
	                      names[lv]);
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (k < 0)
		k = 0;
	n += (size_t)k;
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	ssize_t w = write(2, line, n);
	(void)w;
}

char *log_escape(char *dst, size_t cap, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (cap == 0)
		return dst;
	if (!s)
		s = "-";
	for (size_t i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == ' ') {
			if (o + 4 >= cap)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		} else {
			if (o + 1 >= cap)
				break;
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return dst;
}
