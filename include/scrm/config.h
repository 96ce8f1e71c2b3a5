/* config.h - the daemon's settings: built-in defaults, overridden by the INI file,
 * then by environment (SCRM_LISTEN, SCRM_DB), then by command-line flags.
 * Every key is documented in config.example.ini. */
#ifndef SCRM_CONFIG_H
#define SCRM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct scrm_config {
	/* [general] */
	char *timezone;
	char *log_level;
	/* [http] */
	char *listen;     /* HOST:PORT; port 0 picks a free one */
	unsigned threads; /* MHD epoll threads; 0 = one per CPU */
	unsigned workers; /* handler threads for writes and slow reads */
	unsigned max_connections;
	unsigned per_ip_connections;
	unsigned connection_timeout_s;
	unsigned connection_memory_kb; /* per-connection memory: bounds the request head */
	unsigned max_body_kb;          /* JSON request bodies */
	unsigned max_import_mb;        /* import uploads (spooled to disk) */
	unsigned shutdown_grace_s;     /* how long SIGTERM waits for requests in flight */
	char *web_root;
	char *tls_cert, *tls_key; /* PEM files; both or neither */
	bool trust_proxy;         /* take the client IP from X-Forwarded-For */
	char *cookie_secure;      /* auto | always | never */
	/* [store] */
	char *db_path;
	char *synchronous; /* full | normal */
	unsigned busy_timeout_ms;
	unsigned batch_max; /* write closures per group commit */
	unsigned cache_mb;  /* SQLite page cache per connection */
	unsigned mmap_mb;   /* memory-mapped reads of the database (0: off) */
	unsigned max_db_mb; /* largest database file (0: the disk is the limit) */
	char *migrations_dir;
	char *backup_dir;
	char *spool_dir; /* where uploads wait while they are imported */
	/* [auth] */
	unsigned pbkdf2_iterations;
	unsigned session_hours;        /* absolute session lifetime */
	unsigned session_idle_minutes; /* idle timeout */
	unsigned login_max_failures;   /* per IP and per user name within the window */
	unsigned login_window_s;
	/* [api] */
	unsigned idempotency_hours;    /* how long Idempotency-Key answers are kept */
	unsigned audit_retention_days; /* 0 keeps the audit log for ever */
	/* [notify] */
	unsigned notify_senders;            /* sender threads */
	unsigned notify_batch;              /* deliveries a sender claims at once */
	unsigned notify_poll_ms;            /* how often an idle sender looks for due ones */
	unsigned notify_connect_timeout_ms; /* outbound connection set-up */
	unsigned notify_timeout_ms;         /* a whole outbound request */
	unsigned notify_retry_base_s;       /* the first retry's delay; doubled each time */
	unsigned notify_retry_max_s;        /* the longest delay between two tries */
	unsigned notify_dead_after_minutes; /* a delivery failing this long is dead */
	unsigned notify_keep_days;          /* delivered and dead ones are kept this long */
	unsigned wecom_bot_per_minute;      /* messages per group robot per minute */
	char *wecom_api_base;               /* WeCom server API base URL */
	/* [growth] */
	unsigned commission_return_days; /* a referred order's commission settles after */
	char *ambassador_levels;         /* referred GMV in yuan for level 2, 3, ... */
	/* [sop] */
	unsigned sop_tick_ms;       /* how often the scheduler looks for due work */
	unsigned sop_catchup_hours; /* occurrences missed longer ago than this are skipped */
	unsigned sop_batch;         /* runs fired per transaction */
};

/* Fill cfg with built-in defaults (all strings heap-owned by cfg). */
void config_defaults(struct scrm_config *cfg);
/* Read an INI file over cfg. Unknown sections or keys and bad values are errors:
 * returns 0, or -1 with a message naming the file and line in err (heap, caller
 * frees). */
int config_load_file(struct scrm_config *cfg, const char *path, char **err);
/* Apply one "section.key" = value (used by the file loader and the environment). */
int config_set(struct scrm_config *cfg, const char *section, const char *key, const char *value,
               char **err);
/* Cross-field checks (TLS pair, time zone exists, listen parses...). */
int config_validate(const struct scrm_config *cfg, char **err);
void config_clear(struct scrm_config *cfg);

/* The i-th known key (NULL past the end); *section gets its section. */
const char *config_key_at(size_t i, const char **section);

/* Split "HOST:PORT" or "[v6]:PORT"; host is written into host (size cap). */
int config_parse_listen(const char *listen, char *host, size_t cap, unsigned *port);

#endif
