/* logindefs.h - read /etc/login.defs the way shadow-utils does
 *
 * "NAME VALUE" lines, '#' comments, blank lines ignored; a value may be in
 * double quotes. A missing file is not an error: every lookup then gives
 * the caller's default, which is what useradd does.
 */
#ifndef NSKIT_LOGINDEFS_H
#define NSKIT_LOGINDEFS_H

#include <stdint.h>
#include "err.h"

struct nk_ld_item {
	char *name;
	char *value;
	unsigned lineno;
};

struct nk_logindefs {
	char *path;
	struct nk_ld_item *items;
	size_t n;
};

/* Load the file NAME of the folder DFD (PATH in messages) as
 * nk_cfg_read_at() reads it (FLAGS: NK_CFG_FOLLOW or 0; at most
 * NK_CFG_MAX_SMALL bytes); a missing file gives an empty set. */
int nk_logindefs_load_at(struct nk_logindefs *ld, int dfd, const char *name, const char *path,
			 unsigned flags, struct nk_err *e);
/* The same for PATH, a final link followed (the real /etc). */
int nk_logindefs_load(struct nk_logindefs *ld, const char *path, struct nk_err *e);
/* Parse a buffer (for tests); PATH is only used in messages. */
int nk_logindefs_parse(struct nk_logindefs *ld, const char *path, const char *buf,
		       struct nk_err *e);
void nk_logindefs_free(struct nk_logindefs *ld);
/* The value of NAME (the last one wins, as in shadow), or NULL. */
const char *nk_logindefs_get(const struct nk_logindefs *ld, const char *name);
/* A number 0..UINT32_MAX: DEF when NAME is absent, an error naming the file
 * and line when the value is not a decimal number. */
int nk_logindefs_u32(const struct nk_logindefs *ld, const char *name, uint32_t def,
		     uint32_t *out, struct nk_err *e);

#endif
