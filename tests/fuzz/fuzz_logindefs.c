/* Fuzz the login.defs reader and its strict numbers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "logindefs.h"
#include "pwdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_logindefs ld;
	struct nk_err e;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&ld, 0, sizeof ld);
	if (nk_logindefs_parse(&ld, "fuzz", text, &e) == 0) {
		static const char *names[] = { "SUB_UID_MIN", "SUB_UID_MAX", "SUB_UID_COUNT",
					       "SUB_GID_MIN", "UID_MIN", "UID_MAX" };
		uint32_t v;

		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			(void)nk_logindefs_u32(&ld, names[i], 7, &v, &e);
		nk_logindefs_free(&ld);
	}
	/* The same bytes as a passwd and a group line. */
	{
		struct nk_pwent pw;
		char *line = strdup(text);

		if (line) {
			(void)nk_pwdb_parse_line(line, 0, &pw);
			strcpy(line, text);
			(void)nk_pwdb_parse_line(line, 1, &pw);
			free(line);
		}
	}
	free(text);
	return 0;
}
