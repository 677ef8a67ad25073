/* Fuzz the POSIX ACL xattr shifter: any blob either is refused with a
 * message or shifts into a blob of the same length whose non-id bytes are
 * unchanged, and shifting back gives the input. */
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
	uint8_t out[4096], back[4096];
	unsigned changed;
	uint32_t bad;
	enum nk_idtype bt;
	struct nk_err e;
	int r;

	if (size > sizeof out)
		return 0;
	r = nk_acl_shift(data, out, size, up, NULL, &changed, &bad, &bt, &e);
	if (r == -EINVAL && e.msg[0] == '\0')
		__builtin_trap();
	if (r == 0) {
		if (nk_acl_shift(out, back, size, down, NULL, &changed, &bad, &bt, &e) != 0 ||
		    memcmp(back, data, size) != 0)
			__builtin_trap();
	}
	return 0;
}
