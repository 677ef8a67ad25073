/* Fuzz the parser of /proc/PID/uid_map text, validation, formatting and
 * translation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "idmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct nk_map m;
	struct nk_err e;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nk_map_init(&m);
	if (nk_map_parse_kernel(text, &m, &e) == 0 && nk_map_validate(&m, NK_UID, &e) == 0) {
		char buf[8192];
		uint32_t o, i;

		if (nk_map_format(&m, buf, sizeof buf) < 0)
			__builtin_trap();    /* valid maps fit in a page */
		for (size_t k = 0; k < m.n; k++) {
			/* inside -> outside -> inside is the identity on a valid map */
			if (nk_map_to_outer(&m, m.ext[k].inner, &o) != 0 || nk_map_to_inner(&m, o, &i) != 0 ||
			    i != m.ext[k].inner)
				__builtin_trap();
		}
	}
	nk_map_free(&m);
	free(text);
	return 0;
}
