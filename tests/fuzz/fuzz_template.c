/* fuzz_template.c - libFuzzer harness of the message templates
 * (src/core/template.c) and of their rendering for a customer
 * (core_sop_render in src/core/sops.c, the values SOP messages and tasks get).
 *
 * Input: byte 0 picks the customer (none, 1, 2 or 3 of the seed data in
 * fuzz_store.h: a full profile with orders, points, money, a tier and an
 * expiring coupon, an empty one, one whose name holds "{{name}}") and
 * the coupon (its first expiring one, coupon 1 or 2); the rest is the template
 * (up to a NUL). Checks:
 *  - tmpl_check refuses with a message, or accepts;
 *  - tmpl_render with values of our own equals a plain reference renderer,
 *    for any template, checked or not (unknown placeholders stay as written,
 *    values are never read again as template text);
 *  - a template without "{{" renders as itself;
 *  - rendered for a customer, the output is valid UTF-8 whenever the template
 *    is.
 *
 *   build/fuzz/fuzz_template -dict=tests/fuzz/template.dict CORPUS_DIR tests/fuzz/corpus/template
 */
#include "fuzz_store.h"

#include "scrm/core_sops.h"
#include "scrm/core_template.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_store_open();
	return 0;
}

/* Values of our own: "<" name ">", except one that looks like a placeholder
 * and one that is absent. */
static const char *own_value(void *arg, const char *field)
{
	(void)arg;
	if (strcmp(field, "name") == 0)
		return "{{tier}}";
	if (strcmp(field, "tier") == 0)
		return NULL;
	static char buf[64];
	snprintf(buf, sizeof buf, "<%s>", field);
	return buf;
}

static bool is_known(const char *s, size_t n)
{
	for (size_t i = 0; tmpl_fields[i]; i++)
		if (strlen(tmpl_fields[i]) == n && memcmp(tmpl_fields[i], s, n) == 0)
			return true;
	return false;
}

/* The reference: at each "{{", the text up to the next "}}" with its spaces
 * trimmed is either a known name (replaced) or not (the "{{" is copied and the
 * scan goes on just after it). */
static char *reference(const char *t)
{
	struct buf out = {0};
	size_t n = strlen(t), i = 0;
	while (i < n) {
		if (t[i] == '{' && t[i + 1] == '{') {
			const char *end = strstr(t + i + 2, "}}");
			if (end) {
				const char *a = t + i + 2, *b = end;
				while (a < b && *a == ' ')
					a++;
				while (b > a && b[-1] == ' ')
					b--;
				if (is_known(a, (size_t)(b - a))) {
					char name[32];
					snprintf(name, sizeof name, "%.*s", (int)(b - a), a);
					const char *v = own_value(NULL, name);
					if (v)
						buf_puts(&out, v);
					i = (size_t)(end + 2 - t);
					continue;
				}
			}
			buf_append(&out, "{{", 2);
			i += 2;
			continue;
		}
		buf_putc(&out, t[i++]);
	}
	return out.data ? buf_steal(&out) : xstrdup("");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 16 * 1024)
		return 0;
	size_t n = strnlen((const char *)data + 1, size - 1);
	char *t = xmalloc(n + 1);
	memcpy(t, data + 1, n);
	t[n] = '\0';
	int64_t customer = data[0] & 3, coupon = (data[0] >> 2) % 3;

	char err[400];
	err[0] = '\0';
	int rc = tmpl_check(t, err, sizeof err);
	if (rc != 0 && (rc != -1 || !err[0]))
		FUZZ_STORE_DIE("tmpl_check returned %d with message \"%s\"", rc, err);
	if (rc == 0 && strstr(t, "{{") && !strstr(t, "}}"))
		FUZZ_STORE_DIE("an unclosed \"{{\" was accepted: %s", t);

	char *got = tmpl_render(t, own_value, NULL);
	char *want = reference(t);
	if (strcmp(got, want) != 0)
		FUZZ_STORE_DIE("rendering \"%s\"\n gave \"%s\"\nwanted \"%s\"", t, got, want);
	if (!strstr(t, "{{") && strcmp(got, t) != 0)
		FUZZ_STORE_DIE("\"%s\" has no placeholder but rendered as \"%s\"", t, got);
	free(got);
	free(want);

	char *out = core_sop_render(store_reader(), "the SOP", t, customer, coupon, FUZZ_NOW);
	if (!out)
		FUZZ_STORE_DIE("core_sop_render returned NULL");
	if (fuzz_utf8_ok((const unsigned char *)t, n) &&
	    !fuzz_utf8_ok((const unsigned char *)out, strlen(out)))
		FUZZ_STORE_DIE("\"%s\" is UTF-8, rendered for customer %lld it is not: \"%s\"", t,
		               (long long)customer, out);
	if (!strstr(t, "{{") && strcmp(out, t) != 0)
		FUZZ_STORE_DIE("\"%s\" has no placeholder but rendered as \"%s\"", t, out);
	free(out);
	free(t);
	return 0;
}
