/* main.c - the command line, configuration, signals and the start/stop order.
 *
 * Precedence for every setting: flags, then environment (SCRM_CONFIG,
 * SCRM_LISTEN, SCRM_DB), then the config file, then built-in defaults. */
#include "scrm/api.h"
#include "scrm/cli.h"
#include "scrm/config.h"
#include "scrm/core_ambassadors.h"
#include "scrm/core_segments.h"
#include "scrm/demo.h"
#include "scrm/http.h"
#include "scrm/log.h"
#include "scrm/notify.h"
#include "scrm/sched.h"
#include "scrm/store.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SCRM_VERSION
#define SCRM_VERSION "dev"
#endif

void api_auth_shutdown(void);

static const char usage_text[] =
    "usage: scrmd [serve] [--config FILE] [--listen HOST:PORT] [--db PATH]\n"
    "                     [--web-root DIR] [--port-file FILE]\n"
    "       scrmd migrate [--config FILE] [--db PATH]\n"
    "       scrmd user add NAME --role admin|operator|viewer [--display-name TEXT]\n"
    "       scrmd user passwd NAME | scrmd user list\n"
    "       scrmd token create --name NAME --role ROLE | token list | token revoke ID\n"
    "       scrmd backup OUTFILE\n"
    "       scrmd demo-data [--customers N] [--seed S] [--end YYYY-MM-DD]\n"
    "       scrmd --version | --help\n"
    "\n"
    "Every subcommand takes --config FILE and --db PATH. Passwords for `user add`\n"
    "and `user passwd` are read from standard input.\n"
    "Environment: SCRM_CONFIG, SCRM_LISTEN, SCRM_DB; on first start\n"
    "SCRM_ADMIN_USER and SCRM_ADMIN_PASSWORD name the first admin.\n";

struct opts {
	const char *config, *listen, *db, *web_root, *port_file;
	const char *customers, *seed;
	char **rest; /* positional arguments after the subcommand */
	int nrest;
};

/* Pull the global flags out of argv wherever they appear; the rest are
 * positional or subcommand flags. Returns -1 on a flag missing its value. */
static int parse_flags(int argc, char **argv, struct opts *o)
{
	o->rest = xcalloc((size_t)argc + 1, sizeof *o->rest);
	for (int i = 0; i < argc; i++) {
		const char **slot = NULL;
		if (strcmp(argv[i], "--config") == 0)
			slot = &o->config;
		else if (strcmp(argv[i], "--listen") == 0)
			slot = &o->listen;
		else if (strcmp(argv[i], "--db") == 0)
			slot = &o->db;
		else if (strcmp(argv[i], "--web-root") == 0)
			slot = &o->web_root;
		else if (strcmp(argv[i], "--port-file") == 0)
			slot = &o->port_file;
		if (slot) {
			if (i + 1 >= argc) {
				fprintf(stderr, "scrmd: %s needs a value\n", argv[i]);
				return -1;
			}
			*slot = argv[++i];
		} else {
			o->rest[o->nrest++] = argv[i];
		}
	}
	return 0;
}

static int load_config(const struct opts *o, struct scrm_config *cfg)
{
	config_defaults(cfg);
	char *err = NULL;
	const char *file = o->config ? o->config : getenv("SCRM_CONFIG");
	if (file && *file && config_load_file(cfg, file, &err) < 0)
		goto fail;
	const char *env;
	if ((env = getenv("SCRM_LISTEN")) && *env &&
	    config_set(cfg, "http", "listen", env, &err) < 0)
		goto fail;
	if ((env = getenv("SCRM_DB")) && *env && config_set(cfg, "store", "path", env, &err) < 0)
		goto fail;
	if (o->listen && config_set(cfg, "http", "listen", o->listen, &err) < 0)
		goto fail;
	if (o->db && config_set(cfg, "store", "path", o->db, &err) < 0)
		goto fail;
	if (o->web_root && config_set(cfg, "http", "web_root", o->web_root, &err) < 0)
		goto fail;
	if (config_validate(cfg, &err) < 0)
		goto fail;
	core_segments_init();
	/* the business calendar: set before any thread starts */
	if (time_set_zone(cfg->timezone) < 0) {
		err = xasprintf("general.timezone '%s' cannot be loaded", cfg->timezone);
		goto fail;
	}
	enum log_level lv;
	if (log_level_parse(cfg->log_level, &lv) == 0)
		log_set_level(lv);
	return 0;
fail:
	fprintf(stderr, "scrmd: configuration: %s\n", err);
	free(err);
	return -1;
}

/* Write the bound port atomically, so a reader never sees a half-written file. */
static int write_port_file(const char *path, unsigned port)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	int rc = -1;
	if (f) {
		fprintf(f, "%u\n", port);
		if (fclose(f) == 0 && rename(tmp, path) == 0)
			rc = 0;
	}
	if (rc < 0)
		log_error("cannot write port file %s: %s", path, strerror(errno));
	free(tmp);
	return rc;
}

static int serve(const struct scrm_config *cfg, const char *port_file)
{
	/* Signals are taken by sigwait() in this thread only; every thread started
	 * below inherits the blocked mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info("scrmd %s starting: database %s, synchronous=%s", SCRM_VERSION, cfg->db_path,
	         cfg->synchronous);
	if (cli_open_store(cfg, true) < 0)
		return 1;
	if (store_writer_start() < 0) {
		store_shutdown();
		return 1;
	}
	api_init(cfg);
	if (core_ambassadors_configure(cfg->commission_return_days, cfg->ambassador_levels) < 0) {
		log_error("growth.ambassador_levels must be rising whole numbers of yuan, such as "
		          "1000,5000,20000");
		store_writer_stop();
		store_shutdown();
		return 1;
	}
	int code = 1;
	unsigned port = 0;
	if (cli_first_admin(cfg) < 0)
		goto out;
	if (http_start(cfg, &port) < 0)
		goto out;
	if (port_file && write_port_file(port_file, port) < 0) {
		http_stop();
		goto out;
	}
	sched_start(cfg);
	if (notify_start(cfg) < 0 || sched_sops_start(cfg) < 0) {
		http_stop();
		sched_stop();
		notify_stop();
		goto out;
	}
	log_info("ready: the dashboard is at / and the API at /api/v1 on port %u", port);
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info(
			    "SIGHUP: configuration is read at start; restart to apply changes");
			continue;
		}
		/* refuse new connections before saying so: whoever reads the line
		 * can rely on it */
		http_stop_accepting();
		log_info("%s: stopping; finishing requests in flight",
		         sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	http_stop();
	sched_stop();
	sched_sops_stop();
	notify_stop();
	code = 0;
out:
	store_writer_stop();
	store_shutdown();
	api_auth_shutdown();
	if (code == 0)
		log_info("stopped cleanly");
	return code;
}

static int demo_usage(void)
{
	fprintf(stderr,
	        "usage: scrmd demo-data [--customers N] [--seed S] [--end YYYY-MM-DD]\n"
	        "  N from 1 to %d (default 10000), S any integer (default 1), the end\n"
	        "  date from 2000 to 2099 (default today, UTC)\n",
	        DEMO_MAX_CUSTOMERS);
	return 2;
}

static int demo_data(const struct opts *o, const struct scrm_config *cfg)
{
	int64_t n = 10000, seed = 1, end = -1;
	for (int i = 1; i < o->nrest; i++) {
		const char *a = o->nrest > i + 1 ? o->rest[i + 1] : NULL;
		int y, m, d;
		if (strcmp(o->rest[i], "--customers") == 0 && a && str_to_i64(a, &n) && n > 0 &&
		    n <= DEMO_MAX_CUSTOMERS)
			i++;
		else if (strcmp(o->rest[i], "--seed") == 0 && a && str_to_i64(a, &seed))
			i++;
		else if (strcmp(o->rest[i], "--end") == 0 && a && time_parse_date(a, &y, &m, &d) &&
		         y >= 2000 && y <= 2099) {
			end = time_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400;
			i++;
		} else {
			return demo_usage();
		}
	}
	if (end < 0)
		end = time_now() / 86400 * 86400; /* today, 00:00 UTC */
	if (cli_open_store(cfg, true) < 0)
		return 1;
	int code = 1;
	int64_t have = store_demo_customer_count();
	if (have != 0) {
		if (have > 0)
			fprintf(stderr,
			        "scrmd demo-data: %s already has %lld customers; demo data goes "
			        "only into"
			        " a database without customers\n",
			        cfg->db_path, (long long)have);
		goto out;
	}
	/* The first user of a database is an admin: serve would not create one once
	 * the demo operators exist, so create it now the way serve does. */
	if (cli_first_admin(cfg) < 0)
		goto out;
	/* that left this thread's read connection open: reopen without it, so that the
	 * load has the database to itself and can skip the WAL */
	store_shutdown();
	if (cli_open_store(cfg, false) < 0)
		return 1;
	struct demo_opts d = {.customers = n,
	                      .seed = (uint64_t)seed,
	                      .end = end,
	                      .pbkdf2_iterations = cfg->pbkdf2_iterations,
	                      .progress = true};
	struct demo_summary s;
	int rc = demo_generate(&d, &s);
	if (rc == 1) {
		fprintf(stderr, "scrmd demo-data: %s has customers now; nothing was loaded\n",
		        cfg->db_path);
	} else if (rc < 0) {
		fprintf(stderr,
		        "scrmd demo-data: the load failed (see above); it was rolled back\n");
	} else {
		printf(
		    "demo data in %s: %lld customers, %lld orders (%.1f%% bound to customers),\n"
		    "%lld tags on %lld customer-tag links, %lld timeline events, %lld channels,\n"
		    "%lld groups with %lld members and %lld activity rows, %lld ambassadors with\n"
		    "%lld referred orders, %lld operators created; %.1f s\n",
		    cfg->db_path, (long long)s.customers, (long long)s.orders,
		    s.orders ? 100.0 * (double)s.bound_orders / (double)s.orders : 0.0,
		    (long long)s.tags, (long long)s.tag_links, (long long)s.events,
		    (long long)s.channels, (long long)s.groups, (long long)s.group_members,
		    (long long)s.group_activity, (long long)s.ambassadors,
		    (long long)s.referred_orders, (long long)s.users_created, s.seconds);
		code = 0;
	}
out:
	store_shutdown();
	return code;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int code = 2;
	if (parse_flags(argc - 1, argv + 1, &o) < 0)
		goto done;
	const char *cmd = o.nrest ? o.rest[0] : "serve";
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("scrmd %s\n", SCRM_VERSION);
		code = 0;
		goto done;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		code = 0;
		goto done;
	}
	for (int i = 1; i < o.nrest; i++) {
		if (strcmp(o.rest[i], "--help") == 0 || strcmp(o.rest[i], "-h") == 0) {
			fputs(usage_text, stdout);
			code = 0;
			goto done;
		}
	}
	struct scrm_config cfg;
	if (load_config(&o, &cfg) < 0) {
		code = 2;
		config_clear(&cfg);
		goto done;
	}
	if (strcmp(cmd, "serve") == 0 && o.nrest <= 1) {
		code = serve(&cfg, o.port_file);
	} else if (strcmp(cmd, "migrate") == 0 && o.nrest == 1) {
		code = cli_migrate(&cfg);
	} else if (strcmp(cmd, "user") == 0) {
		code = cli_user(&cfg, o.nrest - 1, o.rest + 1);
	} else if (strcmp(cmd, "token") == 0) {
		code = cli_token(&cfg, o.nrest - 1, o.rest + 1);
	} else if (strcmp(cmd, "backup") == 0 && o.nrest == 2) {
		code = cli_backup(&cfg, o.rest[1]);
	} else if (strcmp(cmd, "demo-data") == 0) {
		code = demo_data(&o, &cfg);
	} else {
		fprintf(stderr, "scrmd: unknown command or arguments: %s\n\n%s", cmd, usage_text);
		code = 2;
	}
	config_clear(&cfg);
done:
	free(o.rest);
	return code;
}
