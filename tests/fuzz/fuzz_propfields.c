/* Fuzz nskit's own reading of mountinfo's optional fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct nk_prop p;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (nk_prop_parse_fields(text, &p) == 0) {
		if ((p.flags & MS_SHARED) && p.peer == 0)
			__builtin_trap();
		(void)nk_prop_name(p.flags);
	}
	free(text);
	return 0;
}
