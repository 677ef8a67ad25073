/* Fuzz the compact map spec INNER:OUTER:COUNT and the map building around it. */
#include <stdint.h>
#include <string.h>
#include "idmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[256];
	struct nk_maps m = { 0 };
	struct nk_err e;
	struct nk_extent x;

	if (size >= sizeof buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (nk_spec_parse(buf, &x, &e) == 0) {
		char again[64];
		struct nk_extent y;

		/* What parses prints back to the same extent. */
		snprintf(again, sizeof again, "%u:%u:%u", x.inner, x.outer, x.count);
		if (nk_spec_parse(again, &y, &e) != 0 || memcmp(&x, &y, sizeof x) != 0)
			__builtin_trap();
	}
	if (nk_maps_add_spec(&m, 'b', buf, &e) == 0)
		nk_map_validate(&m.map[NK_UID], NK_UID, &e);
	nk_maps_free(&m);
	return 0;
}
