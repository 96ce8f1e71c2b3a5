/* core_rules.h - the rule language of audiences, auto tags and SOP targeting,
 * compiled to one parameterised SQL condition over `customers c`.
 *
 *   node := {"all": [node, ...]} | {"any": [node, ...]} | {"not": node}
 *         | {"field": F, "op": OP, "value": V}
 *
 * The SQL text comes only from this compiler's own fragments, chosen from a
 * whitelist of fields and operators; every value from the rule is a bound
 * parameter. A rule the compiler refuses names the exact path of the fault
 * ("rule.all[2].value") and says what is allowed there. Calendar conditions
 * (days_since_*, birthdays, coupon expiry) use the business time zone at the
 * moment of compilation. */
#ifndef SCRM_CORE_RULES_H
#define SCRM_CORE_RULES_H

#include "scrm/core.h"

#include <jansson.h>
#include <stdint.h>

#define RULES_MAX_DEPTH 10
#define RULES_MAX_NODES 200
#define RULES_MAX_LIST 1000
#define RULES_MAX_PARAMS 5000

enum rule_param_type { RP_INT, RP_REAL, RP_TEXT };

struct rule_param {
	enum rule_param_type type;
	int64_t i;
	double d;
	char *s; /* owned */
};

/* The compiled condition: `where` refers to the customer as `c` and to its
 * parameters as ?1, ?2 ... in order. `where_one` is the same condition with
 * the same parameters, shaped for testing a single customer (c.id = ?): a tag
 * is a lookup of that customer's tags instead of the set of every holder. */
struct rule_sql {
	char *where;
	char *where_one;
	struct rule_param *params;
	size_t nparams, cap;
	bool time_based;  /* reads the clock: needs re-evaluation as days pass */
	bool reads_attrs; /* reads attrs, which the customers_segment index lacks */
	bool reads_tags;  /* has a tag condition (an auto tag may follow another) */
};
void rule_sql_clear(struct rule_sql *r);

/* Compile rule (path names it in errors, e.g. "rule") at time now.
 * 0, or -1 with e (CORE_INVALID, e->field the path, e->msg what is allowed). */
int rules_compile(const json_t *rule, const char *path, int64_t now, struct rule_sql *out,
                  struct core_err *e);

/* The fields and operators, for error messages and documentation. */
extern const char *const rules_fields[];

#endif
