/* Fuzz the map stream parser; what parses must print and parse back equal. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "idmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_maps m = { 0 };
	struct nk_maps m2 = { 0 };
	struct nk_err e;

	if (nk_mapstream_parse((const char *)data, size, "fuzz", &m, &e) == 0) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		nk_mapstream_print(f, &m);
		fclose(f);
		if (nk_mapstream_parse(buf, len, "again", &m2, &e) != 0 ||
		    !nk_map_equal(&m.map[NK_UID], &m2.map[NK_UID]) || !nk_map_equal(&m.map[NK_GID], &m2.map[NK_GID]))
			__builtin_trap();
		free(buf);
		nk_map_validate(&m.map[NK_UID], NK_UID, &e);
		nk_map_validate(&m.map[NK_GID], NK_GID, &e);
	}
	nk_maps_free(&m);
	nk_maps_free(&m2);
	return 0;
}
