/* Fuzz the "subid:" reading of nsswitch.conf. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "subid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), name[64];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)nk_nsswitch_subid(text, name, sizeof name);
	free(text);
	return 0;
}
