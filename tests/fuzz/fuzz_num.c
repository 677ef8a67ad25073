/* Fuzz the strict number parser against a reference reading. */
#include <stdint.h>
#include <string.h>
#include "num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[64];
	uint64_t v, ref = 0;
	int digits = size > 0, overflow = 0;

	if (size >= sizeof buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	size = strlen(buf);     /* the parsers see a C string */
	digits = size > 0;
	for (size_t i = 0; i < size; i++) {
		if (buf[i] < '0' || buf[i] > '9') {
			digits = 0;
			break;
		}
		if (ref > (UINT64_MAX - (uint64_t)(buf[i] - '0')) / 10)
			overflow = 1;
		else
			ref = ref * 10 + (uint64_t)(buf[i] - '0');
	}
	int r = nk_parse_u64(buf, UINT64_MAX, &v);
	if (!digits && r != -EINVAL)
		__builtin_trap();
	if (digits && overflow && r != -ERANGE)
		__builtin_trap();
	if (digits && !overflow && (r != 0 || v != ref))
		__builtin_trap();
	uint32_t id;
	r = nk_parse_id(buf, &id);
	if (r == 0 && (!digits || overflow || ref > NK_ID_MAX || id != ref))
		__builtin_trap();
	return 0;
}
