/* demo_internal.h - shared by the files of the demo data generator only:
 * demo.c (the load), demo_gen.c (the PRNG and the generation of customers and
 * orders, community groups and ambassadors) and demo_lists.c (word lists,
 * catalogue, channels, shares). The list counts are checked against the tables
 * at compile time. */
#ifndef SCRM_CORE_DEMO_INTERNAL_H
#define SCRM_CORE_DEMO_INTERNAL_H

#include "scrm/demo.h"

#include <stdbool.h>
#include <stdint.h>

#define DAY 86400
#define WINDOW_DAYS 365
#define MAX_ORDERS 30
#define ITEMS_MAX 640

enum { CAT_BASICS, CAT_FASHION, CAT_GIFT, NCAT };
enum { P_TMALL, P_DOUYIN, P_WECHAT, NPLAT };
enum { OS_PAID, OS_REFUNDED, OS_CANCELLED };
enum { PROMO_NONE, PROMO_1111, PROMO_618 };
enum { PREF_BASICS, PREF_FASHION, PREF_GIFT, PREF_MIXED, NPREF };
enum { GK_BASIC, GK_HIGH_VALUE, GK_KOC, NGK }; /* kinds of community group */
enum { T_HIGH_VALUE, T_PRICE_SENSITIVE, T_BASICS, T_FASHION, T_GIFT, T_NEW, T_SLEEPING,
       T_CARD, T_LIVE, T_1111, T_618, T_REFUND, NTAG };

#define DEMO_NSURNAMES 100
#define DEMO_NGIVEN_F 60
#define DEMO_NGIVEN_M 60
#define DEMO_NPREFIXES 42
#define DEMO_NPRODUCTS 14
#define DEMO_NCHANNELS 7
#define DEMO_NOPERATORS 3

#define GROUP_CUSTOMERS 2000 /* customers per community group */
#define DEMO_MAX_GROUPS (DEMO_MAX_CUSTOMERS / GROUP_CUSTOMERS + 3)
#define MAX_ACTIVITY 6 /* activity rows of a group member */
#define AMB_POOL 4096  /* ambassadors a referred order is drawn from */

struct demo_product {
	const char *sku, *name;
	int cat, price_cents;
	unsigned weight;
};

struct demo_channel_def {
	const char *name, *kind, *code;
	unsigned share_pm;		/* of all customers */
	int home;			/* platform of their orders, or -1 */
	unsigned platform_pm[NPLAT];	/* home platform drawn from these when home is -1 */
	unsigned no_order_pm;		/* customers without any order */
	double units_per_customer;	/* cards printed, messages sent... 0: fixed_units */
	int64_t fixed_units, unit_cost_cents;
};

struct demo_platform {
	const char *name, *ext_prefix;
	uint64_t ext_base; /* external ids: 19 digits, ascending from here */
};

struct demo_operator {
	const char *username, *display;
	unsigned share_pm; /* of the customers they own */
};

struct demo_tag_def {
	const char *name, *group, *color;
};

extern const char *const demo_surnames[];
extern const char *const demo_given_f[];
extern const char *const demo_given_m[];
extern const unsigned demo_phone_prefixes[];
extern const struct demo_product demo_catalogue[];
extern const struct demo_channel_def demo_channels[];
extern const struct demo_platform demo_platforms[NPLAT];
extern const struct demo_operator demo_operators[];
extern const struct demo_tag_def demo_tags[NTAG];
extern const char *const demo_cat_names[NCAT];
extern const char *const demo_status_names[3];
extern const char *const demo_gender_names[3];
extern const char *const demo_stages_early[3];
extern const unsigned demo_pref_share[NPREF];
extern const unsigned demo_pref_mix[NPREF][NCAT];
extern const unsigned demo_cat_unbound[NCAT];
extern const unsigned demo_platform_mix[NPLAT];
extern const unsigned demo_platform_unbound[NPLAT];
extern const unsigned demo_platform_free[NPLAT];
extern const double demo_hour_profile[24];
extern const char *const demo_group_kinds[NGK];
extern const char *const demo_group_names[NGK]; /* before the group's number */


/* ---- Generation (demo_gen.c) ---- */

struct demo_rng {
	uint64_t s[4];
};

struct demo_ord {
	int64_t id, paid_at, status_at, bound_at, updated_at, amount;
	int platform, status, promo, seq; /* seq: order of generation, breaks ties */
	int qty[NCAT];
	bool discounted;
	char ext[24];
	char items[ITEMS_MAX]; /* JSON */
};

struct demo_cust {
	int64_t id, created_at, updated_at;
	int cd; /* day of created_at in the window */
	int gender, channel, owner, pref, home; /* channel, owner: -1 for none */
	bool deal;
	char name[32], phone[12], unionid[29], email[48], birthday[11], attrs[48];
	int bm, bd;
	int n;
	struct demo_ord ord[MAX_ORDERS]; /* sorted by paid_at */
	int64_t paid, spent, first, last; /* over the paid orders */
};

struct demo_gen {
	struct demo_rng r;
	int64_t customers, end, w0; /* w0: the window's start, 365 days before end */
	uint64_t acq_w[WINDOW_DAYS], acq_cum[WINDOW_DAYS];
	uint64_t ord_w[WINDOW_DAYS], ord_cum[WINDOW_DAYS];
	uint8_t promo[WINDOW_DAYS]; /* PROMO_* of the day */
	double hour_cum[25];
	uint32_t phone_key[2];
	uint64_t uid_key;
	char uid_prefix[6];
	uint64_t ext_next[NPLAT];
	int64_t last_created;
	/* A second stream for the groups, ambassadors and referrals, so that they
	 * leave the customers and orders of a seed as they were without them. */
	struct demo_rng x;
	int64_t ngroups[NGK];   /* groups of each kind */
	int64_t namb, amb_next; /* ambassadors enrolled; the index where the next may be */
	int64_t amb_target;     /* ambassadors the load aims at */
	uint64_t code_key[2];
};

/* A customer's place in a community group and what they did there. */
struct demo_member {
	int kind;
	int64_t slot; /* the group among those of its kind */
	int64_t joined_at;
	int nact;
	int64_t act_at[MAX_ACTIVITY]; /* ascending, no (at, kind) twice */
	int act_kind[MAX_ACTIVITY];   /* 0 spoke, 1 took_part */
};

/* Seed the stream and lay out the calendar of the twelve months before end. */
void demo_gen_init(struct demo_gen *g, uint64_t seed, int64_t customers, int64_t end);
uint64_t demo_gen_below(struct demo_gen *g, uint64_t n); /* uniform in [0, n) */
bool demo_gen_pm(struct demo_gen *g, unsigned pm);	  /* true pm times in 1000 */
/* Customer i (0-based, in order) with its orders and their paid figures. */
void demo_gen_customer(struct demo_gen *g, int64_t i, struct demo_cust *c);
const char *demo_gen_stage(struct demo_gen *g, const struct demo_cust *c);
/* Tags the customer gets: at[t] is the time tag t was set, 0 for none. */
void demo_gen_tags(struct demo_gen *g, const struct demo_cust *c, int64_t at[NTAG]);
/* An order of a non-member; phone gets "" when the order has none. */
void demo_gen_unbound(struct demo_gen *g, struct demo_ord *o, char phone[12]);

/* The second stream (groups, ambassadors, referrals). */
uint64_t demo_gen_xbelow(struct demo_gen *g, uint64_t n);
bool demo_gen_xpm(struct demo_gen *g, unsigned pm);
/* Group slot of a kind: the index of its first possible member (customers join
 * the group of their kind whose index range holds theirs), and its creation: a
 * little before that customer can have been created. */
int64_t demo_gen_group_first(const struct demo_gen *g, int kind, int64_t slot);
int64_t demo_gen_group_created(struct demo_gen *g, int kind, int64_t slot);
/* Whether customer i becomes an ambassador, and when (*at): about 0.2% of the
 * customers with a paid order, spread evenly over the load, some time after
 * their first paid order. */
bool demo_gen_ambassador(struct demo_gen *g, int64_t i, const struct demo_cust *c, int64_t *at);
/* The referral code of the n-th ambassador (0-based): a keyed bijection of n
 * written in eight letters and digits nobody misreads, so unique. */
void demo_gen_referral_code(const struct demo_gen *g, int64_t n, char out[9]);
/* Whether customer i joins a group (about a quarter do), which and when, and
 * their activity there. */
bool demo_gen_member(struct demo_gen *g, int64_t i, const struct demo_cust *c, bool ambassador,
                     struct demo_member *m);

#endif
