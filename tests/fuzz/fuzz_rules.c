/* fuzz_rules.c - libFuzzer harness of the rule compiler (src/core/rules.c).
 *
 * The input is JSON text (anything else is skipped). Whatever the rule, the
 * compiler must either refuse it with a proper error (CORE_INVALID, a path
 * under "rule", a message) or produce a condition that SQLite prepares over
 * the migrated schema, whose parameter count matches, whose parameters all
 * bind and which runs, where `where_one` (the same condition for one customer)
 * agrees with `where`, and where {"not": rule} selects exactly the other
 * customers. ASan/UBSan/LSan catch the rest.
 *
 *   make fuzz                      # FUZZ_SECONDS (300) on tests/fuzz/corpus/rules
 *   build/fuzz/fuzz_rules -dict=tests/fuzz/rules.dict CORPUS_DIR tests/fuzz/corpus/rules
 */
#include "fuzz_common.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_open();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	json_error_t jerr;
	/* as the API reads request bodies (src/http/server.c) */
	json_t *j = json_loadb((const char *)data, size,
	                       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!j)
		return 0;
	int64_t now = fuzz_nows[size % (sizeof fuzz_nows / sizeof fuzz_nows[0])];
	fuzz_rule(j, now);
	json_decref(j);
	return 0;
}
