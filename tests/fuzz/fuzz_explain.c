/* Fuzz the --explain table's matcher, the unwrapping of logrus lines
 * (time="..." msg="\"...\"") and the parser of the ids a message names
 * ("(requested U:G for PATH)", "uid range [A-B) -> [C-D)"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "causes.h"
#include "num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct dr_ex_req r;
	char *plain;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)dr_ex_match(text);
	/* Unwrapping only takes away: never longer than the line. */
	if (dr_ex_unwrap(text, &plain) == 1) {
		if (strlen(plain) > strlen(text))
			__builtin_trap();
		free(plain);
	}
	if (dr_ex_requested(text, &r) == 0) {
		for (int t = 0; t < 2; t++)
			if (r.have[t] && (r.lo[t] > r.hi[t] || (r.inner && r.hi[t] > NK_ID_MAX)))
				__builtin_trap();
		if (!r.have[0] && !r.have[1])
			__builtin_trap();
	}
	free(text);
	return 0;
}
