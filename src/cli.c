/* cli.c - scrmd migrate | user | token | backup, and the first admin. These run
 * beside a live daemon safely: they go through SQLite's locking like any writer. */
#include "scrm/cli.h"

#include "scrm/config.h"
#include "scrm/core_auth.h"
#include "scrm/crypto.h"
#include "scrm/log.h"
#include "scrm/store.h"
#include "scrm/store_analytics.h"
#include "scrm/store_auth.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int cli_open_store(const struct scrm_config *cfg, bool migrate)
{
	struct store_opts o = {
	    .path = cfg->db_path,
	    .migrations_dir = cfg->migrations_dir,
	    .sync_full = strcmp(cfg->synchronous, "full") == 0,
	    .busy_timeout_ms = cfg->busy_timeout_ms,
	    .cache_mb = cfg->cache_mb,
	    .mmap_mb = cfg->mmap_mb,
	    .max_db_mb = cfg->max_db_mb,
	    .batch_max = cfg->batch_max,
	    .skip_migrations = !migrate,
	};
	return store_init(&o);
}

int cli_migrate(const struct scrm_config *cfg)
{
	if (cli_open_store(cfg, false) < 0)
		return 1;
	int n = store_apply_migrations(true);
	if (n >= 0 && store_analytics_prepare() != ST_OK)
		n = -1;
	store_shutdown();
	if (n < 0)
		return 1;
	printf("database %s is up to date (%d migration%s applied now)\n", cfg->db_path, n,
	       n == 1 ? "" : "s");
	return 0;
}

/* Read a password: without echo from a terminal, else one line of stdin. */
static char *read_password(const char *prompt)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char line[1100];
	char *ok = fgets(line, sizeof line, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (!ok)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	char *p = xstrdup(line);
	crypto_wipe(line, sizeof line);
	return p;
}

static int audit_cli(struct store_db *db, const char *action, const char *type, int64_t id,
                     const char *detail)
{
	struct audit_entry e = {.at = time_now(),
	                        .actor = "cli",
	                        .actor_name = getenv("USER"),
	                        .action = action,
	                        .target_type = type,
	                        .target_id = id,
	                        .detail = detail};
	return store_audit_insert(db, &e);
}

struct user_add {
	struct user u;
	const char *action;
	bool update;
	int st;
};

static int user_add_fn(struct store_db *db, void *ctx)
{
	struct user_add *a = ctx;
	if (a->update) {
		struct user cur = {0};
		a->st = store_user_by_name(db, a->u.username, &cur);
		if (a->st == ST_OK) {
			free(cur.password_hash);
			cur.password_hash = xstrdup(a->u.password_hash);
			cur.disabled = false;
			cur.updated_at = time_now();
			a->st = store_user_update(db, &cur);
			if (a->st == ST_OK)
				a->st = store_session_delete_user(db, cur.id, 0);
			a->u.id = cur.id;
		}
		user_clear(&cur);
	} else {
		a->st = store_user_insert(db, &a->u);
	}
	if (a->st != ST_OK)
		return 1;
	char *detail =
	    xasprintf("{\"username\":\"%s\"}", a->u.username); /* name checked: no quotes */
	a->st = audit_cli(db, a->action, "user", a->u.id, detail);
	free(detail);
	return a->st == ST_OK ? 0 : 1;
}

static void print_user(void *arg, const struct user *u)
{
	(void)arg;
	printf("%-6lld %-24s %-9s %s%s\n", (long long)u->id, u->username, u->role,
	       u->display_name ? u->display_name : "", u->disabled ? " (disabled)" : "");
}

static int usage_user(void)
{
	fprintf(stderr,
	        "usage: scrmd user add NAME --role admin|operator|viewer [--display-name TEXT]\n"
	        "       scrmd user passwd NAME\n"
	        "       scrmd user list\n"
	        "The password is read from standard input (without echo on a terminal).\n");
	return 2;
}

int cli_user(const struct scrm_config *cfg, int argc, char **argv)
{
	if (argc < 1)
		return usage_user();
	const char *sub = argv[0];
	if (strcmp(sub, "list") == 0) {
		if (argc != 1)
			return usage_user();
		if (cli_open_store(cfg, true) < 0)
			return 1;
		store_user_list(store_reader(), 0, 1000000, print_user, NULL);
		store_shutdown();
		return 0;
	}
	bool add = strcmp(sub, "add") == 0, passwd = strcmp(sub, "passwd") == 0;
	if ((!add && !passwd) || argc < 2)
		return usage_user();
	const char *name = argv[1], *role = NULL, *display = "";
	for (int i = 2; i < argc; i++) {
		if (add && strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (add && strcmp(argv[i], "--display-name") == 0 && i + 1 < argc)
			display = argv[++i];
		else
			return usage_user();
	}
	const char *why = core_username_problem(name);
	if (why) {
		fprintf(stderr, "scrmd: user name %s\n", why);
		return 2;
	}
	if (add && core_role_parse(role) == ROLE_NONE) {
		fprintf(stderr, "scrmd: --role must be admin, operator or viewer\n");
		return 2;
	}
	if (add && (why = core_label_problem(display, 100, true))) {
		fprintf(stderr, "scrmd: --display-name %s\n", why);
		return 2;
	}
	char *pw = read_password("Password: ");
	if (!pw || (why = core_password_problem(pw))) {
		fprintf(stderr, "scrmd: password %s\n", pw ? why : "missing on standard input");
		free(pw);
		return 2;
	}
	if (cli_open_store(cfg, true) < 0) {
		free(pw);
		return 1;
	}
	struct user_add a = {
	    .u = {.username = xstrdup(name),
	          .display_name = xstrdup(display),
	          .role = xstrdup(add ? role : "viewer"),
	          .password_hash = crypto_password_hash(pw, cfg->pbkdf2_iterations)},
	    .action = add ? "user.create" : "user.password_reset",
	    .update = passwd};
	crypto_wipe(pw, strlen(pw));
	free(pw);
	int rc = store_write(user_add_fn, &a);
	int code = 0;
	if (rc == 0) {
		printf(add ? "created user %s (id %lld)\n"
		           : "set a new password for %s (id %lld)\n",
		       name, (long long)a.u.id);
	} else if (a.st == ST_CONFLICT) {
		fprintf(stderr, "scrmd: the user name %s is taken\n", name);
		code = 1;
	} else if (a.st == ST_NOT_FOUND) {
		fprintf(stderr, "scrmd: no user named %s\n", name);
		code = 1;
	} else {
		fprintf(stderr, "scrmd: could not write to the database\n");
		code = 1;
	}
	user_clear(&a.u);
	store_shutdown();
	return code;
}

struct token_add {
	struct api_token t;
	unsigned char hash[CRYPTO_SHA256_LEN];
	int64_t revoke_id;
	int st;
};

static int token_add_fn(struct store_db *db, void *ctx)
{
	struct token_add *a = ctx;
	if (a->revoke_id) {
		a->st = store_token_revoke(db, a->revoke_id, time_now());
		if (a->st != ST_OK)
			return 1;
		a->st = audit_cli(db, "token.revoke", "token", a->revoke_id, NULL);
		return a->st == ST_OK ? 0 : 1;
	}
	a->st = store_token_insert(db, a->hash, &a->t);
	if (a->st != ST_OK)
		return 1;
	json_t *d = json_pack("{s:s, s:s}", "name", a->t.name, "role", a->t.role);
	char *detail = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	a->st = audit_cli(db, "token.create", "token", a->t.id, detail);
	free(detail);
	return a->st == ST_OK ? 0 : 1;
}

static void print_token(void *arg, const struct api_token *t)
{
	(void)arg;
	char c[TIME_RFC3339_LEN];
	printf("%-6lld %-14s %-9s %-20s %s%s\n", (long long)t->id, t->prefix, t->role,
	       time_fmt_rfc3339(t->created_at, c), t->name, t->revoked_at ? " (revoked)" : "");
}

static int usage_token(void)
{
	fprintf(stderr, "usage: scrmd token create --name NAME --role admin|operator|viewer\n"
	                "       scrmd token list\n"
	                "       scrmd token revoke ID\n");
	return 2;
}

int cli_token(const struct scrm_config *cfg, int argc, char **argv)
{
	if (argc < 1)
		return usage_token();
	struct token_add a = {0};
	if (strcmp(argv[0], "list") == 0) {
		if (argc != 1)
			return usage_token();
		if (cli_open_store(cfg, true) < 0)
			return 1;
		store_token_list(store_reader(), 0, 1000000, print_token, NULL);
		store_shutdown();
		return 0;
	}
	if (strcmp(argv[0], "revoke") == 0) {
		if (argc != 2 || !str_to_i64(argv[1], &a.revoke_id) || a.revoke_id <= 0)
			return usage_token();
	} else if (strcmp(argv[0], "create") == 0) {
		const char *name = NULL, *role = NULL;
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
				name = argv[++i];
			else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
				role = argv[++i];
			else
				return usage_token();
		}
		const char *why = name ? core_label_problem(name, 100, false) : "is required";
		if (why) {
			fprintf(stderr, "scrmd: --name %s\n", why);
			return 2;
		}
		if (core_role_parse(role) == ROLE_NONE) {
			fprintf(stderr, "scrmd: --role must be admin, operator or viewer\n");
			return 2;
		}
		a.t.name = xstrdup(name);
		a.t.role = xstrdup(role);
		a.t.created_at = time_now();
	} else {
		return usage_token();
	}
	if (cli_open_store(cfg, true) < 0) {
		api_token_clear(&a.t);
		return 1;
	}
	char *secret = NULL;
	if (!a.revoke_id) {
		secret = crypto_token_new("scrm_");
		a.t.prefix = xstrndup(secret, 12);
		crypto_sha256(secret, strlen(secret), a.hash);
	}
	int rc = store_write(token_add_fn, &a);
	int code = 0;
	if (rc == 0 && secret) {
		printf("%s\n", secret);
		fprintf(stderr, "token %lld created; it is shown only this once\n",
		        (long long)a.t.id);
	} else if (rc == 0) {
		printf("revoked token %lld\n", (long long)a.revoke_id);
	} else {
		fprintf(stderr, "scrmd: %s\n",
		        a.st == ST_NOT_FOUND ? "no such token" : "could not write to the database");
		code = 1;
	}
	if (secret) {
		crypto_wipe(secret, strlen(secret));
		free(secret);
	}
	api_token_clear(&a.t);
	store_shutdown();
	return code;
}

int cli_backup(const struct scrm_config *cfg, const char *outfile)
{
	if (cli_open_store(cfg, false) < 0)
		return 1;
	int64_t bytes = 0;
	int rc = store_backup(store_reader(), outfile, &bytes);
	store_shutdown();
	if (rc != 0) {
		fprintf(stderr, "scrmd: backup to %s failed%s\n", outfile,
		        rc == -ST_CONFLICT ? ": the file exists" : "; see the log above");
		return 1;
	}
	printf("wrote %s (%lld bytes)\n", outfile, (long long)bytes);
	return 0;
}

static int first_admin_fn(struct store_db *db, void *ctx)
{
	struct user_add *a = ctx;
	/* re-check inside the transaction: two starts at once create one admin */
	if (store_user_count(db) != 0) {
		a->st = ST_CONFLICT;
		return 1;
	}
	return user_add_fn(db, ctx);
}

int cli_first_admin(const struct scrm_config *cfg)
{
	if (store_user_count(store_reader()) != 0)
		return 0;
	const char *name = getenv("SCRM_ADMIN_USER");
	const char *given = getenv("SCRM_ADMIN_PASSWORD");
	if (!name || !*name)
		name = "admin";
	const char *why = core_username_problem(name);
	if (why) {
		log_error("SCRM_ADMIN_USER %s", why);
		return -1;
	}
	if (given && *given && (why = core_password_problem(given))) {
		log_error("SCRM_ADMIN_PASSWORD %s", why);
		return -1;
	}
	char *pw = given && *given ? xstrdup(given) : crypto_password_generate();
	struct user_add a = {
	    .u = {.username = xstrdup(name),
	          .display_name = xstrdup("Administrator"),
	          .role = xstrdup("admin"),
	          .password_hash = crypto_password_hash(pw, cfg->pbkdf2_iterations)},
	    .action = "user.create"};
	int rc = store_write(first_admin_fn, &a);
	if (rc == 0) {
		log_info("created the first admin user '%s'", name);
		if (!(given && *given)) {
			printf(
			    "\n  First admin created.  user: %s   password: %s\n"
			    "  This password is shown only once; change it after logging in.\n\n",
			    name, pw);
			fflush(stdout);
		}
	} else if (a.st != ST_CONFLICT) {
		log_error("could not create the first admin user");
	}
	crypto_wipe(pw, strlen(pw));
	free(pw);
	user_clear(&a.u);
	return rc == 0 || a.st == ST_CONFLICT ? 0 : -1;
}
