/* Fuzz the security.capability shifter: refused with a message, or the
 * same length with only a v3 rootid changed, and shifting back restores it. */
#include <stdint.h>
#include <string.h>
#include "idshift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int up(void *ctx, enum nk_idtype t, uint32_t id, uint32_t *out)
{
	(void)ctx;
	(void)t;
	if (id >= 65536)
		return -ENOENT;
	*out = id + 100000;
	return 0;
}

static int down(void *ctx, enum nk_idtype t, uint32_t id, uint32_t *out)
{
	(void)ctx;
	(void)t;
	*out = id - 100000;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[64], back[64];
	int rev, changed, r;
	uint32_t bad;
	struct nk_err e;

	if (size > sizeof out)
		return 0;
	r = nk_fcaps_shift(data, out, size, up, NULL, &rev, &changed, &bad, &e);
	if (r == -EINVAL && e.msg[0] == '\0')
		__builtin_trap();
	if (r == 0) {
		if (memcmp(out, data, size < 20 ? size : 20) != 0 || (rev != 3 && changed) ||
		    (rev != 3 && memcmp(out, data, size) != 0))
			__builtin_trap();
		if (nk_fcaps_shift(out, back, size, down, NULL, &rev, &changed, &bad, &e) != 0 ||
		    memcmp(back, data, size) != 0)
			__builtin_trap();
	}
	return 0;
}
