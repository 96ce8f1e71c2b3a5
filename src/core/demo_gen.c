/* demo_gen.c - the generator behind scrmd demo-data: a seeded PRNG, the calendar
 * of the twelve months before the end date, and customers with their orders.
 *
 * Everything comes from one xoshiro256** stream seeded by splitmix64, drawn in a
 * fixed order, and every time is derived from the end date, so the same seed and
 * end date give the same data. Uniqueness is by construction, not by checking:
 * phones are a keyed permutation of the person's index (customers take 0..N-1,
 * non-members N and up, so no non-member ever has a customer's phone), unionids
 * embed a bijective hash of the customer index, and external order ids only ever
 * grow, per platform (so that the orders' UNIQUE index is appended to).
 *
 * Community groups, ambassadors and referrals draw from a second stream, so that
 * the customers and orders of a seed are what they were before those existed. A
 * group of each kind takes the members of a range of customer indexes: groups
 * fill up one after the other, as they do, and their rows are appended near a
 * few places only. Referral codes are a keyed bijection of the ambassador's
 * number. */
#include "demo_internal.h"

#include "scrm/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void rng_seed(struct demo_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct demo_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, n), n > 0, without bias (Lemire's multiply and reject). */
static uint64_t rng_below(struct demo_rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t low = (uint64_t)m;
	if (low < n) {
		uint64_t floor = -n % n;
		while (low < floor) {
			m = (unsigned __int128)rng_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

static double rng_unit(struct demo_rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* true with probability pm per mille */
static bool rng_pm(struct demo_rng *r, unsigned pm)
{
	return rng_below(r, 1000) < pm;
}

static int rng_weighted(struct demo_rng *r, const unsigned *w, int n)
{
	unsigned total = 0;
	for (int i = 0; i < n; i++)
		total += w[i];
	unsigned x = (unsigned)rng_below(r, total);
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* Keyed bijections: on 32 bits (every step is invertible) and on 64 bits. */
static uint32_t mix32(uint32_t x, const uint32_t k[2])
{
	x += k[0];
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	x ^= k[1];
	x *= 0x9E3779B1U;
	x ^= x >> 15;
	return x;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Day weights: acquisition grows over the year and follows the big sales (the
 * package cards arrive in their parcels); orders grow a little and peak on the
 * sales days themselves. Weights are integers so that sampling is exact. */
static void build_calendar(struct demo_gen *g)
{
	uint64_t acc_a = 0, acc_o = 0;
	for (int d = 0; d < WINDOW_DAYS; d++) {
		time_t t = (time_t)(g->w0 + (int64_t)d * DAY);
		struct tm tm;
		gmtime_r(&t, &tm);
		int m = tm.tm_mon + 1, md = tm.tm_mday;
		double a = 1.0 + (double)d / (WINDOW_DAYS - 1);
		double o = 1.0 + 0.5 * (double)d / (WINDOW_DAYS - 1);
		g->promo[d] = PROMO_NONE;
		if (m == 11 && md <= 11) {
			g->promo[d] = PROMO_1111;
			o *= md == 11 ? 7.0 : 2.2;
		} else if (m == 6 && md <= 18) {
			g->promo[d] = PROMO_618;
			o *= md == 18 ? 4.0 : 1.6;
		} else if (m == 12 && md == 12) {
			o *= 2.0;
		} else if (m == 3 && md >= 3 && md <= 8) {
			o *= 1.5; /* 女神节 */
		}
		if (tm.tm_wday == 0 || tm.tm_wday == 6)
			o *= 1.1;
		if ((m == 11 && md >= 14) || (m == 6 && md >= 21) || (m == 7 && md <= 5))
			a *= 1.7;
		else if (m == 12 && md >= 15 && md <= 25)
			a *= 1.2;
		g->acq_w[d] = (uint64_t)(a * 1e6);
		g->ord_w[d] = (uint64_t)(o * 1e6);
		acc_a += g->acq_w[d];
		acc_o += g->ord_w[d];
		g->acq_cum[d] = acc_a;
		g->ord_cum[d] = acc_o;
	}
	/* hours of the day in UTC, from a Beijing-time profile (UTC+8) */
	g->hour_cum[0] = 0;
	for (int h = 0; h < 24; h++)
		g->hour_cum[h + 1] = g->hour_cum[h] + demo_hour_profile[(h + 8) % 24];
}

/* The first day whose cumulative weight exceeds q. */
static int day_of(const uint64_t *cum, uint64_t q)
{
	int lo = 0, hi = WINDOW_DAYS - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (cum[mid] > q)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Seconds into a day for a fraction f in [0, 1): monotone in f, busy evenings. */
static int64_t second_of_day(const struct demo_gen *g, double f)
{
	double x = f * g->hour_cum[24];
	int h = 0;
	while (h < 23 && g->hour_cum[h + 1] <= x)
		h++;
	double w = g->hour_cum[h + 1] - g->hour_cum[h];
	int64_t s = (int64_t)h * 3600 + (int64_t)((x - g->hour_cum[h]) / w * 3600.0);
	return s < 0 ? 0 : s > DAY - 1 ? DAY - 1 : s;
}

/* A random time on a day in [lo, hi] (window days), days weighted for orders. */
static int64_t order_time(struct demo_gen *g, int lo, int hi, int *day)
{
	uint64_t base = lo > 0 ? g->ord_cum[lo - 1] : 0;
	uint64_t q = base + rng_below(&g->r, g->ord_cum[hi] - base);
	int d = day_of(g->ord_cum, q);
	*day = d;
	return g->w0 + (int64_t)d * DAY + second_of_day(g, rng_unit(&g->r));
}

static int64_t clamp_end(const struct demo_gen *g, int64_t t)
{
	return t < g->end ? t : g->end - 1;
}

static void phone_of(const struct demo_gen *g, uint32_t person, char out[12])
{
	const uint32_t space = (uint32_t)DEMO_NPREFIXES * 100000000u;
	uint32_t y = mix32(person, g->phone_key);
	while (y >= space) /* cycle-walk: a permutation of [0, space) */
		y = mix32(y, g->phone_key);
	snprintf(out, 12, "%u%08u", demo_phone_prefixes[y / 100000000u], y % 100000000u);
}

static void unionid_of(struct demo_gen *g, uint64_t idx, char out[29])
{
	uint64_t h = mix64(idx ^ g->uid_key);
	char *p = out;
	*p++ = 'o';
	memcpy(p, g->uid_prefix, 5);
	p += 5;
	for (int i = 0; i < 11; i++, h >>= 6)
		*p++ = b64chars[h & 63];
	for (int i = 0; i < 11; i++)
		*p++ = b64chars[rng_below(&g->r, 64)];
	*p = '\0';
}

static void pick_name(struct demo_gen *g, struct demo_cust *c)
{
	const char *const *given = c->gender == 0   ? demo_given_f
	                           : c->gender == 1 ? demo_given_m
	                                            : NULL;
	size_t ngiven = c->gender == 0 ? DEMO_NGIVEN_F : DEMO_NGIVEN_M;
	unsigned sw[DEMO_NSURNAMES];
	for (size_t i = 0; i < DEMO_NSURNAMES; i++)
		sw[i] = 100000u / (unsigned)(i + 4);
	int s = rng_weighted(&g->r, sw, (int)DEMO_NSURNAMES);
	size_t len = rng_pm(&g->r, 760) ? 2 : 1;
	int n = snprintf(c->name, sizeof c->name, "%s", demo_surnames[s]);
	for (size_t i = 0; i < len; i++) {
		const char *const *list = given;
		size_t nl = ngiven;
		if (!list) { /* gender unknown: either list */
			bool f = rng_pm(&g->r, 500);
			list = f ? demo_given_f : demo_given_m;
			nl = f ? DEMO_NGIVEN_F : DEMO_NGIVEN_M;
		}
		n += snprintf(c->name + n, sizeof c->name - (size_t)n, "%s",
		              list[rng_below(&g->r, nl)]);
	}
}

static void pick_email(struct demo_gen *g, struct demo_cust *c)
{
	c->email[0] = '\0';
	if (!rng_pm(&g->r, 100))
		return;
	unsigned kind = (unsigned)rng_below(&g->r, 100);
	char local[24];
	int n = 0;
	if (kind < 55) { /* a QQ number */
		int len = 6 + (int)rng_below(&g->r, 5);
		local[n++] = (char)('1' + rng_below(&g->r, 9));
		while (n < len)
			local[n++] = (char)('0' + rng_below(&g->r, 10));
	} else {
		int len = 4 + (int)rng_below(&g->r, 5), digits = 2 + (int)rng_below(&g->r, 3);
		while (n < len)
			local[n++] = (char)('a' + rng_below(&g->r, 26));
		while (n < len + digits)
			local[n++] = (char)('0' + rng_below(&g->r, 10));
	}
	local[n] = '\0';
	static const char *const domains[] = {"qq.com", "163.com", "126.com", "foxmail.com",
	                                      "gmail.com"};
	const char *dom = kind < 55   ? domains[0]
	                  : kind < 80 ? domains[1]
	                  : kind < 90 ? domains[2]
	                              : domains[3 + rng_below(&g->r, 2)];
	snprintf(c->email, sizeof c->email, "%s@%s", local, dom);
}

static void pick_birthday(struct demo_gen *g, struct demo_cust *c)
{
	static const int dim[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	c->birthday[0] = '\0';
	c->bm = c->bd = 0;
	if (!rng_pm(&g->r, 600))
		return;
	int y = 1975 + (int)rng_below(&g->r, 16) + (int)rng_below(&g->r, 16);
	int m = 1 + (int)rng_below(&g->r, 12);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int days = m == 2 && !leap ? 28 : dim[m - 1];
	bool no_year = rng_pm(&g->r, 60);
	if (no_year)
		days = dim[m - 1];
	int d = 1 + (int)rng_below(&g->r, (uint64_t)days);
	/* "YYYY-MM-DD", or "--MM-DD" without the year */
	char *p = c->birthday;
	if (no_year) {
		*p++ = '-';
		*p++ = '-';
	} else {
		for (int k = 1000; k; k /= 10)
			*p++ = (char)('0' + y / k % 10);
		*p++ = '-';
	}
	*p++ = (char)('0' + m / 10);
	*p++ = (char)('0' + m % 10);
	*p++ = '-';
	*p++ = (char)('0' + d / 10);
	*p++ = (char)('0' + d % 10);
	*p = '\0';
	c->bm = m;
	c->bd = d;
}

static void pick_attrs(struct demo_gen *g, struct demo_cust *c)
{
	strcpy(c->attrs, "{}");
	unsigned x = (unsigned)rng_below(&g->r, 100);
	if (x >= 30)
		return;
	static const char *const sizes[3][2] = {{"S", "M"}, {"L", "XL"}, {"M", "L"}};
	const char *size = sizes[c->gender][rng_below(&g->r, 2)];
	if (x < 20) {
		snprintf(c->attrs, sizeof c->attrs, "{\"size\":\"%s\"}", size);
	} else {
		int shoe = (c->gender == 1 ? 40 : 35) + (int)rng_below(&g->r, 5);
		snprintf(c->attrs, sizeof c->attrs, "{\"size\":\"%s\",\"shoe_size\":%d}", size,
		         shoe);
	}
}

/* Customer i of N: created_at by stratified sampling of the acquisition curve, so
 * that ids ascend with created_at. */
static void make_customer(struct demo_gen *g, int64_t i, struct demo_cust *c)
{
	uint64_t total = g->acq_cum[WINDOW_DAYS - 1];
	uint64_t n = (uint64_t)g->customers;
	unsigned __int128 q128 = (unsigned __int128)(uint64_t)i * total + rng_below(&g->r, total);
	uint64_t q = (uint64_t)(q128 / n);
	int d = day_of(g->acq_cum, q);
	uint64_t before = d > 0 ? g->acq_cum[d - 1] : 0;
	double f = (double)(q - before) / (double)g->acq_w[d];
	int64_t t = g->w0 + (int64_t)d * DAY + second_of_day(g, f < 1.0 ? f : 0.999999);
	if (t < g->last_created)
		t = g->last_created;
	g->last_created = t;
	c->created_at = t;
	c->cd = d;

	c->gender = rng_weighted(&g->r, (const unsigned[]){740, 210, 50}, 3);
	pick_name(g, c);
	phone_of(g, (uint32_t)i, c->phone);
	unionid_of(g, (uint64_t)i, c->unionid);
	pick_email(g, c);
	pick_birthday(g, c);
	pick_attrs(g, c);

	unsigned cw[DEMO_NCHANNELS + 1];
	unsigned shares = 0;
	for (size_t k = 0; k < DEMO_NCHANNELS; k++)
		shares += cw[k] = demo_channels[k].share_pm;
	cw[DEMO_NCHANNELS] = 1000 - shares;
	c->channel = rng_weighted(&g->r, cw, (int)SCRM_ARRAY_LEN(cw));
	if (c->channel == (int)DEMO_NCHANNELS)
		c->channel = -1;
	unsigned ow[DEMO_NOPERATORS + 1];
	shares = 0;
	for (size_t k = 0; k < DEMO_NOPERATORS; k++)
		shares += ow[k] = demo_operators[k].share_pm;
	ow[DEMO_NOPERATORS] = 1000 - shares;
	c->owner = rng_weighted(&g->r, ow, (int)SCRM_ARRAY_LEN(ow));
	if (c->owner == (int)DEMO_NOPERATORS)
		c->owner = -1;
	c->pref = rng_weighted(&g->r, demo_pref_share, NPREF);
	c->deal = rng_pm(&g->r, 220);
	const struct demo_channel_def *ch = c->channel >= 0 ? &demo_channels[c->channel] : NULL;
	const unsigned *home_pm = ch ? ch->platform_pm : demo_platform_free;
	c->home = ch && ch->home >= 0 ? ch->home : rng_weighted(&g->r, home_pm, NPLAT);
}

/* How many orders a customer has: a quarter none, 40% of buyers once, many two to
 * five times, a quarter heavy buyers (six and up, geometric, at most MAX_ORDERS). */
static int order_count_of(struct demo_gen *g, const struct demo_cust *c)
{
	unsigned none = c->channel >= 0 ? demo_channels[c->channel].no_order_pm : 600;
	if (rng_pm(&g->r, none))
		return 0;
	unsigned u = (unsigned)rng_below(&g->r, 1000);
	if (u < 400)
		return 1;
	if (u < 750)
		return u < 540 ? 2 : u < 640 ? 3 : u < 700 ? 4 : 5;
	int k;
	do /* a truncated geometric: redraw rather than pile up at the cap */
		k = 6 + (int)floor(log(1.0 - rng_unit(&g->r)) / log(1.0 - 1.0 / 8.0));
	while (k > MAX_ORDERS);
	return k;
}

static int platform_of(struct demo_gen *g, int home)
{
	if (home >= 0 && rng_pm(&g->r, 800))
		return home;
	return rng_weighted(&g->r, demo_platform_mix, NPLAT);
}

static void make_external_id(struct demo_gen *g, int platform, char out[24])
{
	g->ext_next[platform] += 1 + rng_below(&g->r, 2000000000u);
	snprintf(out, 24, "%s%llu", demo_platforms[platform].ext_prefix,
	         (unsigned long long)g->ext_next[platform]);
}

/* Items, amount and status of one order; cat_w is the buyer's category mix. */
static void fill_order(struct demo_gen *g, struct demo_ord *o, const unsigned *cat_w, bool deal)
{
	int lines = rng_weighted(&g->r, (const unsigned[]){700, 220, 80}, 3) + 1;
	int prod[3], qty[3], nl = 0;
	for (int i = 0; i < lines; i++) {
		int cat = rng_weighted(&g->r, cat_w, NCAT);
		unsigned pw[DEMO_NPRODUCTS];
		for (size_t k = 0; k < DEMO_NPRODUCTS; k++)
			pw[k] = demo_catalogue[k].cat == cat ? demo_catalogue[k].weight : 0;
		int p = rng_weighted(&g->r, pw, (int)SCRM_ARRAY_LEN(pw));
		int q = cat == CAT_GIFT
		            ? (rng_pm(&g->r, 900) ? 1 : 2)
		            : rng_weighted(&g->r, (const unsigned[]){750, 180, 70}, 3) + 1;
		int j = 0;
		while (j < nl && prod[j] != p)
			j++;
		if (j < nl) {
			qty[j] += q;
		} else {
			prod[nl] = p;
			qty[nl++] = q;
		}
	}
	int64_t sum = 0;
	int n = 0;
	memset(o->qty, 0, sizeof o->qty);
	o->items[n++] = '[';
	for (int j = 0; j < nl; j++) {
		/* catalogue strings hold no quotes or backslashes: no escaping needed */
		const struct demo_product *pr = &demo_catalogue[prod[j]];
		n += snprintf(o->items + n, ITEMS_MAX - (size_t)n,
		              "%s{\"sku\":\"%s\",\"name\":\"%s\",\"category\":\"%s\","
		              "\"quantity\":%d,\"price_cents\":%d}",
		              j ? "," : "", pr->sku, pr->name, demo_cat_names[pr->cat], qty[j],
		              pr->price_cents);
		sum += (int64_t)qty[j] * pr->price_cents;
		o->qty[pr->cat] += qty[j];
	}
	snprintf(o->items + n, ITEMS_MAX - (size_t)n, "]");
	int64_t off = 0;
	if (rng_pm(&g->r, deal ? 550 : 180)) {
		off = sum >= 19900 ? 3000 : sum >= 9900 ? 1000 : sum >= 5900 ? 500 : 300;
		if (off >= sum)
			off = 0;
	}
	o->discounted = off > 0;
	o->amount = sum - off;
	unsigned s = (unsigned)rng_below(&g->r, 1000);
	o->status = s < 10 ? OS_CANCELLED : s < 40 ? OS_REFUNDED : OS_PAID;
	o->status_at = o->paid_at;
	if (o->status == OS_CANCELLED)
		o->status_at = clamp_end(g, o->paid_at + 600 + (int64_t)rng_below(&g->r, DAY));
	else if (o->status == OS_REFUNDED)
		o->status_at = clamp_end(g, o->paid_at + DAY + (int64_t)rng_below(&g->r, 9 * DAY));
}

static int cmp_paid(const void *a, const void *b)
{
	const struct demo_ord *x = a, *y = b;
	if (x->paid_at != y->paid_at)
		return x->paid_at < y->paid_at ? -1 : 1;
	return x->seq - y->seq; /* a total order: the same on every libc */
}

/* The customer's orders, sorted by paid_at, and the figures the daemon keeps. */
static void make_orders(struct demo_gen *g, struct demo_cust *c)
{
	c->n = order_count_of(g, c);
	c->paid = c->spent = c->first = c->last = 0;
	c->updated_at = c->created_at;
	if (!c->n)
		return;
	const char *kind = c->channel >= 0 ? demo_channels[c->channel].kind : "other";
	int cd = c->cd, fd;
	if (strcmp(kind, "package_card") == 0) {
		/* the card came in the parcel of the first order */
		fd = cd - 3 - (int)rng_below(&g->r, 10);
		if (c->n >= 6 && rng_pm(&g->r, 500))
			fd = (int)rng_below(&g->r, (uint64_t)cd + 1);
	} else if (strcmp(kind, "sms") == 0) {
		/* recalled: an old buyer */
		fd = (int)rng_below(&g->r, (uint64_t)(cd > 21 ? cd - 20 : 1));
	} else {
		fd = rng_pm(&g->r, 500) ? cd + (int)rng_below(&g->r, 21)
		                        : (int)rng_below(&g->r, (uint64_t)cd + 1);
	}
	fd = fd < 0 ? 0 : fd > WINDOW_DAYS - 1 ? WINDOW_DAYS - 1 : fd;
	int ld = fd;
	if (c->n > 1)
		ld = rng_pm(&g->r, 650) ? WINDOW_DAYS - 1
		                        : fd + (int)rng_below(&g->r, (uint64_t)(WINDOW_DAYS - fd));
	for (int k = 0; k < c->n; k++) {
		struct demo_ord *o = &c->ord[k];
		int day;
		o->seq = k;
		o->paid_at = k == 0 ? order_time(g, fd, fd, &day) : order_time(g, fd, ld, &day);
		o->promo = g->promo[day];
		o->platform = platform_of(g, c->home);
		fill_order(g, o, demo_pref_mix[c->pref], c->deal);
	}
	qsort(c->ord, (size_t)c->n, sizeof c->ord[0], cmp_paid);
	for (int k = 0; k < c->n; k++) {
		struct demo_ord *o = &c->ord[k];
		/* external ids in insertion order: ascending per platform */
		make_external_id(g, o->platform, o->ext);
		o->bound_at = o->paid_at > c->created_at ? o->paid_at : c->created_at;
		o->updated_at = o->status_at > o->bound_at ? o->status_at : o->bound_at;
		if (o->updated_at > c->updated_at)
			c->updated_at = o->updated_at;
		if (o->status != OS_PAID)
			continue;
		if (!c->paid++)
			c->first = o->paid_at;
		c->last = o->paid_at;
		c->spent += o->amount;
	}
}

const char *demo_gen_stage(struct demo_gen *g, const struct demo_cust *c)
{
	if (c->paid == 0)
		return demo_stages_early[rng_weighted(&g->r, (const unsigned[]){500, 300, 200}, 3)];
	if (rng_pm(&g->r, 30))
		return "sharing";
	return c->paid == 1 ? "converted" : "repurchasing";
}

/* Tags an operator would have set, each with the time its reason appeared, a
 * little later. */
void demo_gen_tags(struct demo_gen *g, const struct demo_cust *c, int64_t at[NTAG])
{
	memset(at, 0, sizeof(int64_t) * NTAG);
	int64_t running = 0, qty[NCAT] = {0}, qall = 0;
	int discounted = 0;
	for (int k = 0; k < c->n; k++) {
		const struct demo_ord *o = &c->ord[k];
		if (o->status == OS_REFUNDED && !at[T_REFUND])
			at[T_REFUND] = o->status_at;
		if (o->status != OS_PAID)
			continue;
		running += o->amount;
		if (running >= 60000 && !at[T_HIGH_VALUE])
			at[T_HIGH_VALUE] = o->paid_at;
		if (o->discounted && ++discounted == 2 && c->deal)
			at[T_PRICE_SENSITIVE] = o->paid_at;
		/* these two are kept below only if the category has a big share */
		if (o->qty[CAT_FASHION] && !at[T_FASHION])
			at[T_FASHION] = o->paid_at;
		if (o->qty[CAT_GIFT] && !at[T_GIFT])
			at[T_GIFT] = o->paid_at;
		if (o->promo == PROMO_1111 && !at[T_1111])
			at[T_1111] = o->paid_at;
		if (o->promo == PROMO_618 && !at[T_618])
			at[T_618] = o->paid_at;
		for (int i = 0; i < NCAT; i++) {
			qty[i] += o->qty[i];
			qall += o->qty[i];
		}
	}
	if (!(qall && qty[CAT_FASHION] * 10 >= qall * 6))
		at[T_FASHION] = 0;
	if (!(qall && qty[CAT_GIFT] * 10 >= qall * 3))
		at[T_GIFT] = 0;
	if (c->paid >= 2 && qty[CAT_BASICS] * 10 >= qall * 7)
		at[T_BASICS] = c->last;
	if (c->created_at >= g->end - 30 * DAY)
		at[T_NEW] = c->created_at;
	if (c->paid && c->last < g->end - 150 * DAY)
		at[T_SLEEPING] = c->last + 150 * DAY;
	const char *kind = c->channel >= 0 ? demo_channels[c->channel].kind : "";
	if (strcmp(kind, "package_card") == 0 && rng_pm(&g->r, 300))
		at[T_CARD] = c->created_at;
	if (strcmp(kind, "live") == 0)
		at[T_LIVE] = c->created_at;
	/* operators tag most of those who qualify, when they get round to it: a
	 * little after the reason */
	for (int t = 0; t < NTAG; t++) {
		if (!at[t])
			continue;
		if (t != T_NEW && t != T_CARD && t != T_LIVE && !rng_pm(&g->r, 800)) {
			at[t] = 0;
			continue;
		}
		int64_t x = at[t] > c->created_at ? at[t] : c->created_at;
		at[t] = clamp_end(g, x + (int64_t)rng_below(&g->r, 2 * DAY));
	}
}

void demo_gen_customer(struct demo_gen *g, int64_t i, struct demo_cust *c)
{
	make_customer(g, i, c);
	make_orders(g, c);
}

void demo_gen_unbound(struct demo_gen *g, struct demo_ord *o, char phone[12])
{
	int day;
	o->paid_at = order_time(g, 0, WINDOW_DAYS - 1, &day);
	o->promo = g->promo[day];
	o->platform = rng_weighted(&g->r, demo_platform_unbound, NPLAT);
	fill_order(g, o, demo_cat_unbound, rng_pm(&g->r, 200));
	make_external_id(g, o->platform, o->ext);
	o->bound_at = 0;
	o->updated_at = o->status_at;
	phone[0] = '\0';
	if (rng_pm(&g->r, 880)) {
		/* a few non-members buy again and again */
		uint64_t n = (uint64_t)g->customers;
		uint64_t j =
		    rng_pm(&g->r, 550) ? rng_below(&g->r, n) : rng_below(&g->r, n / 10 + 1);
		phone_of(g, (uint32_t)(n + j), phone);
	}
}

uint64_t demo_gen_below(struct demo_gen *g, uint64_t n)
{
	return rng_below(&g->r, n);
}

bool demo_gen_pm(struct demo_gen *g, unsigned pm)
{
	return rng_pm(&g->r, pm);
}

/* ---- Community groups and ambassadors (the second stream) ---- */

uint64_t demo_gen_xbelow(struct demo_gen *g, uint64_t n)
{
	return rng_below(&g->x, n);
}

bool demo_gen_xpm(struct demo_gen *g, unsigned pm)
{
	return rng_pm(&g->x, pm);
}

/* The earliest customer i can have been created: make_customer draws its point
 * of the acquisition curve at or after i / N of the whole. */
static int64_t created_floor(const struct demo_gen *g, int64_t i)
{
	uint64_t total = g->acq_cum[WINDOW_DAYS - 1];
	uint64_t q = (uint64_t)((unsigned __int128)(uint64_t)i * total / (uint64_t)g->customers);
	return g->w0 + (int64_t)day_of(g->acq_cum, q) * DAY;
}

/* Customer i is in slot i * G / N of a kind with G groups: the first index of a
 * slot is the smallest i that gets there. */
int64_t demo_gen_group_first(const struct demo_gen *g, int kind, int64_t slot)
{
	int64_t n = g->ngroups[kind];
	return (slot * g->customers + n - 1) / n;
}

int64_t demo_gen_group_created(struct demo_gen *g, int kind, int64_t slot)
{
	int64_t t = created_floor(g, demo_gen_group_first(g, kind, slot));
	return t - 3600 - (int64_t)rng_below(&g->x, 2 * DAY);
}

bool demo_gen_ambassador(struct demo_gen *g, int64_t i, const struct demo_cust *c, int64_t *at)
{
	if (i < g->amb_next || g->namb >= g->amb_target || !c->paid)
		return false;
	/* enrolled within a month of joining and buying */
	int64_t base = c->first > c->created_at ? c->first : c->created_at;
	int64_t room = g->end - 1 - base;
	if (room < 2 * 3600)
		return false;
	int64_t span = room - 3600 < 30 * DAY ? room - 3600 : 30 * DAY;
	*at = base + 3600 + (int64_t)rng_below(&g->x, (uint64_t)span);
	/* the next one somewhere in the next stretch of customers */
	int64_t n = g->customers, a = g->amb_target, k = ++g->namb;
	int64_t lo = k * n / a, hi = (k + 1) * n / a;
	g->amb_next = lo + (int64_t)rng_below(&g->x, (uint64_t)(hi > lo ? hi - lo : 1));
	return true;
}

void demo_gen_referral_code(const struct demo_gen *g, int64_t n, char out[9])
{
	/* the poster-safe alphabet of the daemon's own codes: no 0/O, no 1/I */
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	const uint64_t m = (1ull << 40) - 1; /* eight characters of five bits */
	uint64_t x = (uint64_t)n & m;
	for (int r = 0; r < 2; r++) { /* each step is invertible modulo 2^40 */
		x = (x + g->code_key[r]) & m;
		x = (x * 0x9E3779B97Full) & m;
		x ^= x >> 21;
		x = (x * 0xC2B2AE3D27ull) & m;
		x ^= x >> 17;
	}
	for (int k = 7; k >= 0; k--, x >>= 5)
		out[k] = alphabet[x & 31];
	out[8] = '\0';
}

bool demo_gen_member(struct demo_gen *g, int64_t i, const struct demo_cust *c, bool ambassador,
                     struct demo_member *m)
{
	m->nact = 0;
	if (c->created_at + 60 >= g->end)
		return false;
	unsigned join = ambassador ? 850 : c->paid ? 290 : 150;
	if (!rng_pm(&g->x, join))
		return false;
	/* big spenders go to the high-value groups, ambassadors to the KOC ones */
	static const unsigned mix[3][NGK] = {{795, 110, 95}, {300, 600, 100}, {200, 100, 700}};
	m->kind = rng_weighted(&g->x, mix[ambassador ? 2 : c->spent >= 60000 ? 1 : 0], NGK);
	m->slot = i * g->ngroups[m->kind] / g->customers;
	/* most scan the group code on the card right away, others are invited later */
	int64_t d = rng_pm(&g->x, 600) ? 300 + (int64_t)rng_below(&g->x, 6 * 3600)
	                               : 6 * 3600 + (int64_t)rng_below(&g->x, 14 * DAY);
	m->joined_at = c->created_at + d < g->end ? c->created_at + d : g->end - 1;
	int n = rng_weighted(&g->x, (const unsigned[]){300, 200, 150, 120, 100, 80, 50}, 7);
	int64_t span = g->end - 1 - m->joined_at;
	for (int k = 0; k < n && span > 0; k++) {
		/* more often soon after joining */
		double u = rng_unit(&g->x);
		int64_t at = m->joined_at + 1 + (int64_t)(u * u * (double)span);
		int kind = rng_pm(&g->x, 300);
		int j = m->nact, dup = 0;
		for (int q = 0; q < m->nact; q++)
			dup |= m->act_at[q] == at && m->act_kind[q] == kind;
		if (dup)
			continue;
		while (j > 0 && (m->act_at[j - 1] > at ||
		                 (m->act_at[j - 1] == at && m->act_kind[j - 1] > kind))) {
			m->act_at[j] = m->act_at[j - 1];
			m->act_kind[j] = m->act_kind[j - 1];
			j--;
		}
		m->act_at[j] = at;
		m->act_kind[j] = kind;
		m->nact++;
	}
	return true;
}

void demo_gen_init(struct demo_gen *g, uint64_t seed, int64_t customers, int64_t end)
{
	memset(g, 0, sizeof *g);
	g->customers = customers;
	g->end = end;
	g->w0 = end - (int64_t)WINDOW_DAYS * DAY;
	rng_seed(&g->r, seed);
	g->phone_key[0] = (uint32_t)rng_next(&g->r);
	g->phone_key[1] = (uint32_t)rng_next(&g->r);
	g->uid_key = rng_next(&g->r);
	for (int i = 0; i < 5; i++)
		g->uid_prefix[i] = b64chars[rng_below(&g->r, 64)];
	for (int p = 0; p < NPLAT; p++)
		g->ext_next[p] = demo_platforms[p].ext_base + rng_below(&g->r, 100000000000000ull);
	build_calendar(g);

	rng_seed(&g->x, mix64(seed ^ 0x6A09E667F3BCC909ull));
	g->code_key[0] = rng_next(&g->x);
	g->code_key[1] = rng_next(&g->x);
	/* one group per GROUP_CUSTOMERS customers, at least one of each kind:
	 * 70% basic, 20% high value, 10% KOC */
	int64_t ng = (customers + GROUP_CUSTOMERS / 2) / GROUP_CUSTOMERS;
	ng = ng < NGK ? NGK : ng;
	g->ngroups[GK_KOC] = (ng + 5) / 10 > 1 ? (ng + 5) / 10 : 1;
	g->ngroups[GK_HIGH_VALUE] = (2 * ng + 5) / 10 > 1 ? (2 * ng + 5) / 10 : 1;
	g->ngroups[GK_BASIC] = ng - g->ngroups[GK_KOC] - g->ngroups[GK_HIGH_VALUE];
	/* 0.2% of the buyers, who are three quarters of the customers */
	g->amb_target = customers * 3 / 2000 > 3 ? customers * 3 / 2000 : 3;
	g->amb_next = (int64_t)rng_below(&g->x, (uint64_t)(customers / g->amb_target + 1));
}
