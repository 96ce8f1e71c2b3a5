/* fuzz_rules_gen.c - the structure-aware flavour of fuzz_rules.c: the input
 * bytes are choices that build a rule out of the language's own fields,
 * operators and edge values (mostly well-formed, now and then of a wrong
 * type), and the moment it is compiled at (1970 to 2242, in Asia/Shanghai).
 * So nearly every input reaches SQL generation and SQLite, with deep nesting,
 * long lists and calendar edges. The same checks as fuzz_rules.c apply.
 *
 *   build/fuzz/fuzz_rules_gen -max_total_time=300 CORPUS_DIR
 */
#include "fuzz_common.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rd {
	const uint8_t *p;
	size_t n;
};

static unsigned u8(struct rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static uint32_t u32(struct rd *r)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | u8(r);
	return v;
}

#define PICK(r, a) (a)[u8(r) % (sizeof(a) / sizeof((a)[0]))]

static const char *const fields[] = {
    "order_count",
    "total_spent_cents",
    "points_balance",
    "wallet_balance_cents",
    "days_since_last_order",
    "days_since_first_order",
    "days_since_created",
    "days_since_last_checkin",
    "birthday_month",
    "birthday_in_days",
    "stage",
    "tier",
    "tag",
    "source_channel_id",
    "owner_user_id",
    "platform",
    "category",
    "gender",
    "group_id",
    "coupon_expiring_in_days",
    "attrs.city",
    "attrs.n",
    "attrs.b",
    "attrs.o",
    "attrs.zz_9",
    "attrs.",
    "nope",
    "attrs.a-b",
};
static const char *const ops[] = {
    "=", "!=", ">", ">=", "<", "<=", "in", "not_in", "has", "has_not", "exists", "between"};
static const int64_t ints[] = {0,         1,   2,   3,   7,   12,   13,    29,    30, 31,
                               59,        60,  365, 366, 367, 1000, 36500, 36501, -1, INT64_MAX,
                               INT64_MIN, 100, -5,  50,  10,  4,    5,     200};
static const char *const strings[] = {
    "vip", "gold",        "tmall",     "jd",         "tea",          "cups",
    "m",   "f",           "u",         "added",      "sharing",      "current",
    "x",   "O'Brien; --", "",          "TMall",      "repurchasing", "converted",
    "é😀",  "%_",          "observing", "interested", "nosuch",       "douyin"};

static json_t *scalar(struct rd *r)
{
	switch (u8(r) % 8) {
	case 0:
	case 1:
	case 2:
		return json_integer(PICK(r, ints));
	case 3:
	case 4:
	case 5:
		return json_string(PICK(r, strings));
	case 6:
		return json_real((double)(int8_t)u8(r) / 4.0);
	default:
		switch (u8(r) % 4) {
		case 0:
			return json_true();
		case 1:
			return json_false();
		case 2:
			return json_null();
		default:
			return json_object();
		}
	}
}

/* A value for op: a list for in/not_in, a pair for between (ordered most of
 * the time), a scalar otherwise. */
static json_t *value(struct rd *r, const char *op)
{
	if (strcmp(op, "in") == 0 || strcmp(op, "not_in") == 0) {
		json_t *a = json_array();
		unsigned c = u8(r);
		size_t n = c == 255 ? RULES_MAX_LIST : c == 254 ? RULES_MAX_LIST + 1 : 1 + c % 5;
		json_t *first = scalar(r);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, i == 0 || n > 5 ? json_copy(first) : scalar(r));
		json_decref(first);
		return a;
	}
	if (strcmp(op, "between") == 0) {
		json_t *lo = scalar(r), *hi = scalar(r);
		if (json_is_number(lo) && json_is_number(hi) && u8(r) % 8 &&
		    json_number_value(lo) > json_number_value(hi)) {
			json_t *t = lo;
			lo = hi;
			hi = t;
		}
		return json_pack("[oo]", lo, hi);
	}
	return scalar(r);
}

static json_t *gen(struct rd *r, int depth)
{
	unsigned k = u8(r) % 10;
	if (depth >= RULES_MAX_DEPTH + 1 || r->n == 0)
		k = 9;
	if (k <= 1) {
		json_t *a = json_array();
		unsigned c = u8(r);
		size_t n = c == 255 ? 0 : 1 + c % 4;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, gen(r, depth + 1));
		return json_pack("{s:o}", k ? "any" : "all", a);
	}
	if (k == 2)
		return json_pack("{s:o}", "not", gen(r, depth + 1));
	/* a condition: its field, one of the operators, a value */
	json_t *n = json_object();
	json_object_set_new(n, "field", json_string(PICK(r, fields)));
	const char *op = PICK(r, ops);
	json_object_set_new(n, "op", json_string(op));
	unsigned v = u8(r);
	if (strcmp(op, "exists") != 0 || v % 3 == 0)
		json_object_set_new(n, "value", value(r, op));
	else if (v % 3 == 1)
		json_object_set_new(n, "value", json_boolean(v & 4));
	if (v == 255)
		json_object_set_new(n, "extra", json_true());
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_open();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	struct rd r = {data, size};
	/* 1970 .. 2242, to the second */
	int64_t now = (int64_t)u32(&r) * 2 + (u8(&r) & 1);
	json_t *rule = gen(&r, 1);
	fuzz_rule(rule, now);
	json_decref(rule);
	return 0;
}
