#include <errno.h>
#include <string.h>
#include "lines.h"

void nk_lines_init(struct nk_lines *l, const char *text, size_t len)
{
	l->p = text;
	l->end = text + len;
	l->no = 0;
}

int nk_lines_view(struct nk_lines *l, const char **line, size_t *len)
{
	const char *nl;

	if (l->p >= l->end)
		return 0;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	*line = l->p;
	*len = (size_t)((nl ? nl : l->end) - l->p);
	l->p += *len + (nl ? 1 : 0);
	l->no++;
	return 1;
}

int nk_lines_next(struct nk_lines *l, char *buf, size_t size)
{
	const char *line;
	size_t len;

	if (!nk_lines_view(l, &line, &len))
		return 0;
	if (memchr(line, '\0', len))
		return -EINVAL;
	if (len >= size)
		return -E2BIG;
	memcpy(buf, line, len);
	buf[len] = '\0';
	return 1;
}

size_t nk_words(char *line, const char *sep, char **w, size_t max)
{
	char *save = NULL, *t;
	size_t n = 0;

	for (t = strtok_r(line, sep, &save); t && n < max; t = strtok_r(NULL, sep, &save))
		w[n++] = t;
	return n;
}
