/* config.c - a table-driven INI reader: every key is declared once below, with
 * its type and bounds, so that the parser, the validation and the error messages
 * never disagree. */
#include "scrm/config.h"

#include "scrm/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum ktype { K_STR, K_UINT, K_BOOL };

struct key {
	const char *section, *name;
	enum ktype type;
	size_t off;
	unsigned min, max;
	const char *choices; /* K_STR: "a|b|c" or NULL */
};

#define F(field) offsetof(struct scrm_config, field)
static const struct key keys[] = {
    {"general", "timezone", K_STR, F(timezone), 0, 0, NULL},
    {"general", "log_level", K_STR, F(log_level), 0, 0, "debug|info|warn|error"},
    {"http", "listen", K_STR, F(listen), 0, 0, NULL},
    {"http", "threads", K_UINT, F(threads), 0, 256, NULL},
    {"http", "workers", K_UINT, F(workers), 1, 1024, NULL},
    {"http", "max_connections", K_UINT, F(max_connections), 1, 100000, NULL},
    {"http", "per_ip_connections", K_UINT, F(per_ip_connections), 0, 100000, NULL},
    {"http", "connection_timeout_s", K_UINT, F(connection_timeout_s), 1, 86400, NULL},
    {"http", "connection_memory_kb", K_UINT, F(connection_memory_kb), 16, 65536, NULL},
    {"http", "max_body_kb", K_UINT, F(max_body_kb), 1, 1048576, NULL},
    {"http", "max_import_mb", K_UINT, F(max_import_mb), 1, 65536, NULL},
    {"http", "shutdown_grace_s", K_UINT, F(shutdown_grace_s), 0, 3600, NULL},
    {"http", "web_root", K_STR, F(web_root), 0, 0, NULL},
    {"http", "tls_cert", K_STR, F(tls_cert), 0, 0, NULL},
    {"http", "tls_key", K_STR, F(tls_key), 0, 0, NULL},
    {"http", "trust_proxy", K_BOOL, F(trust_proxy), 0, 0, NULL},
    {"http", "cookie_secure", K_STR, F(cookie_secure), 0, 0, "auto|always|never"},
    {"store", "path", K_STR, F(db_path), 0, 0, NULL},
    {"store", "synchronous", K_STR, F(synchronous), 0, 0, "full|normal"},
    {"store", "busy_timeout_ms", K_UINT, F(busy_timeout_ms), 0, 600000, NULL},
    {"store", "batch_max", K_UINT, F(batch_max), 1, 100000, NULL},
    {"store", "cache_mb", K_UINT, F(cache_mb), 1, 1048576, NULL},
    {"store", "mmap_mb", K_UINT, F(mmap_mb), 0, 1048576, NULL},
    {"store", "max_db_mb", K_UINT, F(max_db_mb), 0, 1048576, NULL},
    {"store", "migrations_dir", K_STR, F(migrations_dir), 0, 0, NULL},
    {"store", "backup_dir", K_STR, F(backup_dir), 0, 0, NULL},
    {"store", "spool_dir", K_STR, F(spool_dir), 0, 0, NULL},
    {"auth", "pbkdf2_iterations", K_UINT, F(pbkdf2_iterations), 600000, 100000000, NULL},
    {"auth", "session_hours", K_UINT, F(session_hours), 1, 8760, NULL},
    {"auth", "session_idle_minutes", K_UINT, F(session_idle_minutes), 1, 525600, NULL},
    {"auth", "login_max_failures", K_UINT, F(login_max_failures), 1, 1000, NULL},
    {"auth", "login_window_s", K_UINT, F(login_window_s), 1, 86400, NULL},
    {"api", "idempotency_hours", K_UINT, F(idempotency_hours), 24, 8760, NULL},
    {"api", "audit_retention_days", K_UINT, F(audit_retention_days), 0, 36500, NULL},
    {"notify", "senders", K_UINT, F(notify_senders), 1, 64, NULL},
    {"notify", "batch", K_UINT, F(notify_batch), 1, 1000, NULL},
    {"notify", "poll_ms", K_UINT, F(notify_poll_ms), 10, 60000, NULL},
    {"notify", "connect_timeout_ms", K_UINT, F(notify_connect_timeout_ms), 100, 600000, NULL},
    {"notify", "timeout_ms", K_UINT, F(notify_timeout_ms), 100, 600000, NULL},
    {"notify", "retry_base_s", K_UINT, F(notify_retry_base_s), 1, 86400, NULL},
    {"notify", "retry_max_s", K_UINT, F(notify_retry_max_s), 1, 604800, NULL},
    {"notify", "dead_after_minutes", K_UINT, F(notify_dead_after_minutes), 1, 525600, NULL},
    {"notify", "keep_days", K_UINT, F(notify_keep_days), 0, 36500, NULL},
    {"notify", "wecom_bot_per_minute", K_UINT, F(wecom_bot_per_minute), 1, 1000, NULL},
    {"notify", "wecom_api_base", K_STR, F(wecom_api_base), 0, 0, NULL},
    {"growth", "commission_return_days", K_UINT, F(commission_return_days), 0, 365, NULL},
    {"growth", "ambassador_levels", K_STR, F(ambassador_levels), 0, 0, NULL},
    {"sop", "tick_ms", K_UINT, F(sop_tick_ms), 10, 60000, NULL},
    {"sop", "catchup_hours", K_UINT, F(sop_catchup_hours), 0, 8760, NULL},
    {"sop", "batch", K_UINT, F(sop_batch), 1, 10000, NULL},
};
#undef F

#ifndef SCRM_DATADIR
#define SCRM_DATADIR "/usr/local/share/scrmd"
#endif

/* Prefer the directory beside the working tree (a checkout), then the installed
 * data directory. */
static char *default_dir(const char *name)
{
	if (access(name, R_OK | X_OK) == 0)
		return xstrdup(name);
	return xasprintf("%s/%s", SCRM_DATADIR, name);
}

void config_defaults(struct scrm_config *c)
{
	memset(c, 0, sizeof *c);
	c->timezone = xstrdup("Asia/Shanghai");
	c->log_level = xstrdup("info");
	c->listen = xstrdup("127.0.0.1:8080");
	c->threads = 0;
	c->workers = 32;
	c->max_connections = 1024;
	c->per_ip_connections = 512;
	c->connection_timeout_s = 60;
	c->connection_memory_kb = 64;
	c->max_body_kb = 1024;
	c->max_import_mb = 256;
	c->shutdown_grace_s = 30;
	c->web_root = default_dir("web");
	c->cookie_secure = xstrdup("auto");
	c->db_path = xstrdup("data/scrm.db");
	c->synchronous = xstrdup("full");
	c->busy_timeout_ms = 5000;
	c->batch_max = 256;
	c->cache_mb = 64;
	c->mmap_mb = 2048;
	c->migrations_dir = default_dir("migrations");
	c->backup_dir = NULL; /* beside the database, in backups/ */
	c->pbkdf2_iterations = 600000;
	c->session_hours = 168;
	c->session_idle_minutes = 720;
	c->login_max_failures = 5;
	c->login_window_s = 900;
	c->idempotency_hours = 48;
	c->audit_retention_days = 0;
	c->notify_senders = 4;
	c->notify_batch = 50;
	c->notify_poll_ms = 1000;
	c->notify_connect_timeout_ms = 5000;
	c->notify_timeout_ms = 15000;
	c->notify_retry_base_s = 30;
	c->notify_retry_max_s = 3600;
	c->notify_dead_after_minutes = 1440;
	c->notify_keep_days = 30;
	c->wecom_bot_per_minute = 20;
	c->wecom_api_base = xstrdup("https://qyapi.weixin.qq.com");
	c->commission_return_days = 15;
	c->ambassador_levels = xstrdup("1000,5000,20000,50000");
	c->sop_tick_ms = 1000;
	c->sop_catchup_hours = 24;
	c->sop_batch = 200;
}

void config_clear(struct scrm_config *c)
{
	for (size_t i = 0; i < SCRM_ARRAY_LEN(keys); i++) {
		if (keys[i].type == K_STR) {
			char **p = (char **)((char *)c + keys[i].off);
			free(*p);
			*p = NULL;
		}
	}
}

static bool in_choices(const char *choices, const char *v)
{
	size_t n = strlen(v);
	for (const char *p = choices; *p;) {
		const char *bar = strchr(p, '|');
		size_t k = bar ? (size_t)(bar - p) : strlen(p);
		if (k == n && strncmp(p, v, n) == 0)
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

int config_set(struct scrm_config *c, const char *section, const char *key, const char *value,
               char **err)
{
	const struct key *k = NULL;
	bool known_section = false;
	for (size_t i = 0; i < SCRM_ARRAY_LEN(keys); i++) {
		if (strcmp(keys[i].section, section) == 0) {
			known_section = true;
			if (strcmp(keys[i].name, key) == 0)
				k = &keys[i];
		}
	}
	if (!known_section) {
		*err = xasprintf("unknown section [%s]", section);
		return -1;
	}
	if (!k) {
		*err = xasprintf("unknown key '%s' in [%s]", key, section);
		return -1;
	}
	void *slot = (char *)c + k->off;
	switch (k->type) {
	case K_STR:
		if (k->choices && !in_choices(k->choices, value)) {
			*err = xasprintf("%s.%s must be one of %s", section, key, k->choices);
			return -1;
		}
		free(*(char **)slot);
		*(char **)slot = *value ? xstrdup(value) : NULL;
		return 0;
	case K_UINT: {
		int64_t v;
		if (!str_to_i64(value, &v) || v < k->min || v > k->max) {
			*err = xasprintf("%s.%s must be a whole number from %u to %u", section, key,
			                 k->min, k->max);
			return -1;
		}
		*(unsigned *)slot = (unsigned)v;
		return 0;
	}
	case K_BOOL:
		if (in_choices("true|yes|on|1", value)) {
			*(bool *)slot = true;
		} else if (in_choices("false|no|off|0", value)) {
			*(bool *)slot = false;
		} else {
			*err = xasprintf("%s.%s must be true or false", section, key);
			return -1;
		}
		return 0;
	}
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int config_load_file(struct scrm_config *c, const char *path, char **err)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	char line[4096], section[64] = "";
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		char *e = NULL;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || close[1] || close - s - 1 >= (long)sizeof section) {
				e = xstrdup("malformed section header");
			} else {
				*close = '\0';
				snprintf(section, sizeof section, "%s", trim(s + 1));
				bool known = false;
				for (size_t i = 0; i < SCRM_ARRAY_LEN(keys); i++)
					known = known || strcmp(keys[i].section, section) == 0;
				if (!known)
					e = xasprintf("unknown section [%s]", section);
			}
		} else {
			char *eq = strchr(s, '=');
			if (!eq) {
				e = xstrdup("expected key = value");
			} else if (!*section) {
				e = xstrdup("key outside of any [section]");
			} else {
				*eq = '\0';
				char *v = trim(eq + 1);
				size_t vl = strlen(v);
				if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
					v[vl - 1] = '\0';
					v++;
				}
				config_set(c, section, trim(s), v, &e);
			}
		}
		if (e) {
			*err = xasprintf("%s:%d: %s", path, lineno, e);
			free(e);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

const char *config_key_at(size_t i, const char **section)
{
	if (i >= SCRM_ARRAY_LEN(keys))
		return NULL;
	*section = keys[i].section;
	return keys[i].name;
}

int config_parse_listen(const char *listen, char *host, size_t cap, unsigned *port)
{
	const char *colon;
	size_t hl;
	if (!listen || !*listen)
		return -1;
	if (listen[0] == '[') {
		const char *rb = strchr(listen, ']');
		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - listen - 1);
		if (hl + 1 > cap)
			return -1;
		memcpy(host, listen + 1, hl);
		colon = rb + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - listen);
		if (hl + 1 > cap || memchr(listen, ':', hl))
			return -1;
		memcpy(host, listen, hl);
	}
	host[hl] = '\0';
	int64_t p;
	if (!str_to_i64(colon + 1, &p) || p < 0 || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}

int config_validate(const struct scrm_config *c, char **err)
{
	char host[256];
	unsigned port;
	if (config_parse_listen(c->listen, host, sizeof host, &port) < 0) {
		*err = xasprintf("http.listen '%s' must be HOST:PORT", c->listen ? c->listen : "");
		return -1;
	}
	if (!c->db_path) {
		*err = xstrdup("store.path must not be empty");
		return -1;
	}
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		*err = xstrdup("http.tls_cert and http.tls_key must be set together");
		return -1;
	}
	if (!c->timezone || strstr(c->timezone, "..") || c->timezone[0] == '/') {
		*err = xstrdup("general.timezone must be an IANA zone name such as Asia/Shanghai");
		return -1;
	}
	char *zp = xasprintf("/usr/share/zoneinfo/%s", c->timezone);
	int ok = access(zp, R_OK) == 0;
	free(zp);
	if (!ok) {
		*err = xasprintf("general.timezone '%s' is not a known zone (is tzdata installed?)",
		                 c->timezone);
		return -1;
	}
	const char *wb = c->wecom_api_base;
	if (!wb || (strncmp(wb, "http://", 7) != 0 && strncmp(wb, "https://", 8) != 0)) {
		*err = xstrdup("notify.wecom_api_base must be an http:// or https:// URL");
		return -1;
	}
	if (c->notify_retry_max_s < c->notify_retry_base_s) {
		*err = xstrdup("notify.retry_max_s must not be below notify.retry_base_s");
		return -1;
	}
	return 0;
}
