/* segments.c - keeping auto tags and audiences true. */
#include "scrm/core_segments.h"

#include "scrm/core_rules.h"
#include "scrm/log.h"
#include "scrm/store_segments.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The customers changed by the write job running on this thread (the writer
 * thread, or a command-line tool's). */
static __thread int64_t *dirty;
static __thread size_t ndirty, capdirty;

void core_customer_dirty(int64_t customer_id)
{
	for (size_t i = ndirty; i > 0 && i + 8 > ndirty; i--) /* recent repeats */
		if (dirty[i - 1] == customer_id)
			return;
	if (ndirty == capdirty) {
		capdirty = capdirty ? capdirty * 2 : 64;
		dirty = xrealloc(dirty, capdirty * sizeof *dirty);
	}
	dirty[ndirty++] = customer_id;
}

void core_segments_forget(void)
{
	/* freed after every job: a thread-local buffer would otherwise outlive
	 * the writer thread */
	free(dirty);
	dirty = NULL;
	ndirty = capdirty = 0;
}

#define AUTOTAG_ROUNDS 4

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

struct autotag {
	int64_t id;
	char *name;
	struct rule_sql r;
};

struct tagset {
	struct autotag *t;
	size_t n;
	int64_t now;
};

static void add_autotag(void *arg, int64_t id, const char *name, const char *rule)
{
	struct tagset *s = arg;
	json_t *j = json_loads(rule, 0, NULL);
	struct core_err e = {0};
	struct rule_sql r;
	/* a rule that no longer compiles (a tier renamed, say) is skipped, loudly */
	if (!j || rules_compile(j, "rule", s->now, &r, &e) < 0) {
		log_warn("auto tag %lld (%s): its rule does not compile: %s", (long long)id, name,
		         e.msg);
		json_decref(j);
		return;
	}
	json_decref(j);
	s->t = xrealloc(s->t, (s->n + 1) * sizeof *s->t);
	s->t[s->n++] = (struct autotag){.id = id, .name = xstrdup(name), .r = r};
}

static void tagset_clear(struct tagset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->t[i].name);
		rule_sql_clear(&s->t[i].r);
	}
	free(s->t);
}

/* After a write job kept its changes: bring the changed customers' auto tags
 * up to date inside the same transaction. */
static int after_write(struct store_db *db)
{
	if (ndirty == 0)
		return 0;
	struct tagset s = {.now = time_now()};
	int st = store_autotags(db, add_autotag, &s);
	qsort(dirty, ndirty, sizeof *dirty, cmp_id);
	/* an auto tag whose rule reads another auto tag (of a later id) sees it
	 * settled on the next round: a few rounds settle chains of that depth */
	bool again = true;
	for (int round = 0; round < AUTOTAG_ROUNDS && again && st == ST_OK; round++) {
		again = false;
		for (size_t t = 0; t < s.n && st == ST_OK; t++) {
			if (round > 0 && !s.t[t].r.reads_tags)
				continue;
			for (size_t i = 0; i < ndirty && st == ST_OK; i++) {
				if (i && dirty[i] == dirty[i - 1])
					continue;
				int m = store_segment_matches(db, &s.t[t].r, dirty[i]);
				bool changed = false;
				st = m < 0 ? ST_ERR
				           : store_autotag_set(db, s.t[t].id, s.t[t].name, dirty[i],
				                               m == 1, s.now, &changed);
				again |= changed;
			}
		}
	}
	tagset_clear(&s);
	core_segments_forget();
	return st == ST_OK ? 0 : -st;
}

void core_segments_init(void)
{
	store_set_job_hooks(after_write, core_segments_forget);
}

static int load_rule(const char *text, int64_t now, struct rule_sql *r, struct core_err *e)
{
	json_t *j = json_loads(text ? text : "", 0, NULL);
	int rc = j ? rules_compile(j, "rule", now, r, e)
	           : core_fail(e, CORE_INVALID, "rule", "the stored rule is not JSON");
	json_decref(j);
	return rc;
}

int core_autotag_evaluate(struct store_db *db, int64_t tag_id, int64_t now, int64_t *added,
                          int64_t *removed, struct core_err *e)
{
	struct tag t = {0};
	int st = store_tag_get(db, tag_id, &t);
	int rc = 0;
	struct rule_sql r = {0};
	if (st == ST_NOT_FOUND)
		rc = core_fail(e, CORE_NOT_FOUND, NULL, "no such tag");
	else if (st != ST_OK)
		rc = core_store_fail(e, st);
	else if (strcmp(t.kind, "auto") != 0 || !t.rule)
		rc = core_fail(e, CORE_INVALID, NULL, "%s is a manual tag: it has no rule", t.name);
	else if ((rc = load_rule(t.rule, now, &r, e)) == 0 &&
	         (st = store_autotag_apply(db, tag_id, t.name, &r, now, added, removed)) != ST_OK)
		rc = core_store_fail(e, st);
	rule_sql_clear(&r);
	tag_clear(&t);
	return rc;
}

int core_audience_evaluate(struct store_db *db, int64_t audience_id, int64_t now, bool events,
                           int64_t *count, int64_t *entered, int64_t *left, struct core_err *e)
{
	struct audience a = {0};
	int st = store_audience_get(db, audience_id, &a);
	int rc = 0;
	struct rule_sql r = {0};
	if (st == ST_NOT_FOUND)
		rc = core_fail(e, CORE_NOT_FOUND, NULL, "no such audience");
	else if (st != ST_OK)
		rc = core_store_fail(e, st);
	else if ((rc = load_rule(a.rule, now, &r, e)) == 0 &&
	         (st = store_audience_apply(db, audience_id, &r, now, events, count, entered,
	                                    left)) != ST_OK)
		rc = core_store_fail(e, st);
	rule_sql_clear(&r);
	audience_clear(&a);
	return rc;
}

/* One value of a tag, tier or group condition. */
static int check_ref(struct store_db *db, const char *kind, const json_t *v, const char *path,
                     struct core_err *e)
{
	const char *name = json_string_value(v);
	int64_t id = json_integer_value(v);
	if (!name && !json_is_integer(v))
		return 0; /* the compiler has refused it already */
	int have = store_rule_ref_exists(db, kind, id, name);
	if (have < 0)
		return core_store_fail(e, ST_ERR);
	if (have)
		return 0;
	snprintf(e->path, sizeof e->path, "%s", path);
	if (name)
		core_fail(e, CORE_INVALID, e->path, "%s: there is no %s named %s", path, kind,
		          name);
	else
		core_fail(e, CORE_INVALID, e->path, "%s: there is no %s with id %lld", path, kind,
		          (long long)id);
	return -1;
}

int core_rule_check_refs(struct store_db *db, const json_t *rule, const char *path,
                         struct core_err *e)
{
	char p[sizeof e->path];
	static const char *const groups[] = {"all", "any"};
	for (size_t g = 0; g < 2; g++) {
		const json_t *list = json_object_get(rule, groups[g]);
		for (size_t i = 0; i < json_array_size(list); i++) {
			snprintf(p, sizeof p, "%s.%s[%zu]", path, groups[g], i);
			if (core_rule_check_refs(db, json_array_get(list, i), p, e) < 0)
				return -1;
		}
	}
	const json_t *not = json_object_get(rule, "not");
	if (not ) {
		snprintf(p, sizeof p, "%s.not", path);
		return core_rule_check_refs(db, not, p, e);
	}
	const char *field = json_string_value(json_object_get(rule, "field"));
	const char *kind = !field                           ? NULL
	                   : strcmp(field, "tag") == 0      ? "tag"
	                   : strcmp(field, "tier") == 0     ? "tier"
	                   : strcmp(field, "group_id") == 0 ? "group"
	                                                    : NULL;
	const json_t *value = json_object_get(rule, "value");
	if (!kind || !value)
		return 0;
	if (!json_is_array(value)) {
		snprintf(p, sizeof p, "%s.value", path);
		return check_ref(db, kind, value, p, e);
	}
	for (size_t i = 0; i < json_array_size(value); i++) {
		snprintf(p, sizeof p, "%s.value[%zu]", path, i);
		if (check_ref(db, kind, json_array_get(value, i), p, e) < 0)
			return -1;
	}
	return 0;
}
