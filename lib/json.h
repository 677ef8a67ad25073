/* json.h - the one JSON writer of nskit
 *
 * Every --json output and the --info-fd record are written through this,
 * so strings are always escaped the same way (RFC 8259: '"', '\\' and
 * control characters). libsmartcols writes the tables' JSON itself; this
 * writes the rest. It writes to a FILE the caller passes, or into a
 * caller's buffer (for a record that must be written with one write(2)).
 *
 *     struct nk_json j;
 *     nk_json_file(&j, stdout, NK_JSON_SPACED);
 *     nk_json_obj(&j, NULL);
 *     nk_json_str(&j, "file", path);
 *     nk_json_u64(&j, "line", 3);
 *     nk_json_end(&j);                    closes the object
 *     if (nk_json_finish(&j, "\n") < 0) ...   -EIO or -ENOSPC
 *
 * Styles: compact {"a":1,"b":2}; NK_JSON_SPACED {"a": 1, "b": 2};
 * NK_JSON_LINES also starts every element of the outermost array on a
 * line of its own, indented by two spaces.
 */
#ifndef NSKIT_JSON_H
#define NSKIT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { NK_JSON_COMPACT = 0, NK_JSON_SPACED = 1, NK_JSON_LINES = 2 };

#define NK_JSON_DEPTH 16

struct nk_json {
	FILE *f;                 /* or NULL: into buf */
	char *buf;
	size_t len, pos;
	int style;
	int depth;
	int err;                 /* a negative errno once anything failed */
	unsigned char count[NK_JSON_DEPTH];   /* members written at each level (capped) */
	char close[NK_JSON_DEPTH];            /* '}' or ']' */
};

void nk_json_file(struct nk_json *j, FILE *f, int style);
/* Into BUF of LEN bytes, always NUL-terminated; -ENOSPC when it does not fit. */
void nk_json_buf(struct nk_json *j, char *buf, size_t len, int style);

/* KEY is the member's name inside an object, NULL inside an array or at
 * the top. */
void nk_json_obj(struct nk_json *j, const char *key);
void nk_json_arr(struct nk_json *j, const char *key);
void nk_json_end(struct nk_json *j);
/* VAL NULL writes null. */
void nk_json_str(struct nk_json *j, const char *key, const char *val);
void nk_json_u64(struct nk_json *j, const char *key, uint64_t val);
void nk_json_i64(struct nk_json *j, const char *key, int64_t val);
void nk_json_bool(struct nk_json *j, const char *key, int val);
/* A number with DIGITS decimals ("%.*f"). */
void nk_json_double(struct nk_json *j, const char *key, double val, int digits);
/* Close what is open, write TAIL (e.g. "\n"); 0, or the first error
 * (-EIO for a FILE in error, -ENOSPC for a full buffer, -EINVAL for
 * nesting deeper than NK_JSON_DEPTH). For a buffer, the length is j->pos. */
int nk_json_finish(struct nk_json *j, const char *tail);

#endif
