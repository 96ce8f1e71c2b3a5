/* openapi.c - GET /api/v1/openapi.json. The document is src/api/openapi.json,
 * built into the binary so that the daemon always describes itself. */
#include "scrm/api.h"

#include "scrm/util.h"

#include <string.h>

__asm__(".section .rodata\n"
        ".global scrm_openapi_json\n"
        ".type scrm_openapi_json, @object\n"
        ".balign 16\n"
        "scrm_openapi_json:\n"
        ".incbin \"src/api/openapi.json\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char scrm_openapi_json[];

const char *api_openapi_text(void)
{
	return scrm_openapi_json;
}

int api_openapi(const struct req *rq, struct resp *rs)
{
	(void)rq;
	rs->raw_len = strlen(scrm_openapi_json);
	rs->raw = xstrndup(scrm_openapi_json, rs->raw_len);
	return 200;
}
