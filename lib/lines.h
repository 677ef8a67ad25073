/* lines.h - line-based text in memory: one line at a time and its words
 *
 * The one line reader of the record and map formats (the map stream,
 * the kernel's uid_map, the slice and session records, nsswitch.conf's
 * subid: line): a line ends at '\n' or at the end of
 * the text; a final '\n' starts no empty line.
 */
#ifndef NSKIT_LINES_H
#define NSKIT_LINES_H

#include <stddef.h>
#include <stdint.h>

struct nk_lines {
	const char *p, *end;
	unsigned no;           /* the number of the line last read, from 1 */
};

/* Read TEXT, LEN bytes (a NUL byte inside is the caller's to refuse). */
void nk_lines_init(struct nk_lines *l, const char *text, size_t len);
/* The next line, in place: its start in *LINE and its length, without
 * the '\n', in *LEN. 1, or 0 at the end. */
int nk_lines_view(struct nk_lines *l, const char **line, size_t *len);
/* The next line copied into BUF (SIZE bytes) as a string: 1, 0 at the
 * end, -EINVAL when it holds a NUL byte, -E2BIG when it does not fit
 * (l->no is its number either way). */
int nk_lines_next(struct nk_lines *l, char *buf, size_t size);

/* Split LINE in place into words separated by any of SEP (empty words
 * skipped): at most MAX of them in W; the number found, MAX when there
 * are more. */
size_t nk_words(char *line, const char *sep, char **w, size_t max);

#endif
