/* Fuzz the parser of nsenter-user's session records (files in the user's
 * runtime folder): what parses must format and parse back equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct nk_session s, s2;
	struct nk_err e;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&s, 0, sizeof s);
	if (nk_session_parse(text, "fuzz", &s, &e) == 0) {
		char buf[1024];
		int n = nk_session_format(&s, buf, sizeof buf);

		memset(&s2, 0, sizeof s2);
		if (n < 0 || nk_session_parse(buf, "fuzz", &s2, &e) != 0 || s.pid != s2.pid ||
		    s.start != s2.start || s.uid != s2.uid || s.userns != s2.userns || s.mntns != s2.mntns)
			__builtin_trap();
	}
	(void)nk_session_name_valid(text, &e);
	free(text);
	return 0;
}
