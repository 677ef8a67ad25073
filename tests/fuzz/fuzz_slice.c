/* Fuzz the parser of the --isolate slice records; what parses must format
 * and parse back equal, and picking a slice next to them must never return
 * one that overlaps them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "slice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct nk_slices s = { 0, NULL }, s2 = { 0, NULL };
	struct nk_err e;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (nk_slices_parse(text, &s, &e) == 0) {
		size_t cap = 256 + s.n * 256;
		char *buf = malloc(cap);
		struct nk_range rr[2] = { { 100000, 65536 }, { 300000, 200000 } };
		struct nk_ranges r = { 2, rr };
		uint32_t start;

		if (!buf || nk_slices_format(&s, buf, cap) < 0 || nk_slices_parse(buf, &s2, &e) != 0 ||
		    s2.n != s.n)
			__builtin_trap();
		for (size_t i = 0; i < s.n; i++)
			if (s.v[i].uid != s2.v[i].uid || s.v[i].gid != s2.v[i].gid ||
			    s.v[i].count != s2.v[i].count || s.v[i].pid != s2.v[i].pid)
				__builtin_trap();
		if (nk_slice_pick(&r, &s, NK_UID, 4096, &start) == 0)
			for (size_t i = 0; i < s.n; i++) {
				uint64_t a = s.v[i].uid, b = a + s.v[i].count;

				if (s.v[i].count && start < b && a < (uint64_t)start + 4096)
					__builtin_trap();
			}
		free(buf);
	}
	nk_slices_free(&s);
	nk_slices_free(&s2);
	free(text);
	return 0;
}
