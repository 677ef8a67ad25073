/* Fuzz the /etc/subuid file model: whole files, single lines, and shadow's
 * reading of numbers; then allocate next to what was read and check that
 * the new range overlaps no line, as nskit or as shadow reads it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "subidalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_sf f;
	struct nk_err e;
	char *text = malloc(size + 1);
	char how[64];
	uint64_t v;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)nk_sf_shadow_num(text, strlen(text) < 64 ? strlen(text) : 64, &v, how, sizeof how);
	memset(&f, 0, sizeof f);
	if (nk_sf_parse(&f, "fuzz", (const char *)data, size, &e) == 0) {
		struct nk_space sp;
		uint64_t start;

		memset(&sp, 0, sizeof sp);
		if (nk_space_build(&sp, &f, NULL, 0) == 0 &&
		    nk_space_first_fit(&sp, 100000, 600100000, 65536, 1, &start) == 0) {
			for (size_t i = 0; i < f.n; i++) {
				const struct nk_sf_line *l = &f.lines[i];

				if (l->kind == NK_SF_RANGE && l->count &&
				    start < l->start + l->count && l->start < start + 65536)
					__builtin_trap();
				if (l->sh_ok && l->sh_count && l->sh_start + l->sh_count > l->sh_start &&
				    start < l->sh_start + l->sh_count && l->sh_start < start + 65536)
					__builtin_trap();
			}
		}
		nk_space_free(&sp);
	}
	nk_sf_free(&f);
	free(text);
	return 0;
}
