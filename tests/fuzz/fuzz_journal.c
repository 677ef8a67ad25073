/* Fuzz idmap-shift's journal record parser: refused, or accepted and the
 * record formats back to a line that parses to the same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char in[ISH_LINE_MAX], out[ISH_LINE_MAX], again[ISH_LINE_MAX];
static struct ish_record r, r2;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;

	if (size >= sizeof in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (ish_record_parse(in, &r) < 0)
		return 0;
	ish_record_format(&r, out, sizeof out);
	n = strlen(out);
	if (n == 0 || out[n - 1] != '\n')
		abort();
	out[n - 1] = '\0';
	if (ish_record_parse(out, &r2) < 0)
		abort();
	ish_record_format(&r2, again, sizeof again);
	again[strlen(again) - 1] = '\0';
	if (strcmp(out, again) != 0)
		abort();
	return 0;
}
