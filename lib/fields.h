/* fields.h - the KEY=VALUE fields of a record (the slice and session
 * records): a table of key, parser and field offset, looked up by key
 */
#ifndef NSKIT_FIELDS_H
#define NSKIT_FIELDS_H

#include <stddef.h>

/* Parse the text V into the field at DST: 0, or -EINVAL. */
typedef int (*nk_field_parse_fn)(const char *v, void *dst);

struct nk_field {
	const char *key;
	nk_field_parse_fn parse;
	size_t off;             /* offsetof() the field in the record */
	unsigned flag;          /* set in *SEEN when read (0: an optional field) */
};

/* The parsers of the record formats' values (lib/num.h's rules). */
int nk_field_id(const char *v, void *dst);       /* uint32_t, an id (not -1) */
int nk_field_count(const char *v, void *dst);    /* uint32_t, 1 or more */
int nk_field_u64(const char *v, void *dst);      /* uint64_t */
int nk_field_i64(const char *v, void *dst);      /* int64_t, 0 or more */
int nk_field_pid(const char *v, void *dst);      /* pid_t, 1 or more */
int nk_field_pid32(const char *v, void *dst);    /* uint32_t, a pid */

/* Set the field KEY of REC (one of the N of T) from VAL and add its flag
 * to *SEEN: 0; 1 when no field has that key (the reader's to skip: a
 * newer version's field); -EINVAL when VAL is not a valid value. */
int nk_field_set(const struct nk_field *t, size_t n, void *rec, const char *key, const char *val,
		 unsigned *seen);

#endif
