/* subid.h - a user's subordinate id ranges, who owns an id, and the maps
 * built from the ranges
 *
 * The source is the "subid:" line of /etc/nsswitch.conf, read as shadow's
 * nss_init() reads it. With the files source (the default), /etc/subuid
 * and /etc/subgid are read through nskit's one parser of them
 * (lib/subidfile.h), lines owned by the user's name or numeric uid, as
 * libsubid's files backend matches them. With any other source (SSSD,
 * FreeIPA), through shadow-utils' libsubid, dlopen()ed then, so that the
 * source is honoured exactly as newuidmap honours it.
 */
#ifndef NSKIT_SUBID_H
#define NSKIT_SUBID_H

#include <stdint.h>
#include <sys/types.h>
#include "err.h"
#include "idmap.h"
#include "pwdb.h"         /* nk_user_name(), which the users of this module need */

struct nk_range {
	uint32_t start;
	uint32_t count;
};

struct nk_ranges {
	size_t n;
	struct nk_range *r;
};

void nk_ranges_free(struct nk_ranges *r);
/* Sort by start (the order podman's containers/storage maps them in). */
void nk_ranges_sort(struct nk_ranges *r);
/* Is [first, first+count) covered by the union of the ranges? */
int nk_ranges_cover(const struct nk_ranges *r, uint32_t first, uint32_t count);
int nk_ranges_add(struct nk_ranges *r, uint32_t start, uint32_t count);
/* A copy of SUB in *SORTED, sorted by start (-ENOMEM). */
int nk_ranges_sorted(const struct nk_ranges *sub, struct nk_ranges *sorted);

/* Every range USER owns (by name or uid), in file order. With the files
 * source (no "subid:" line in /etc/nsswitch.conf, or "files"), the files are
 * read directly, as libsubid's files backend reads them; with any other
 * source, through libsubid, loaded then. No range is not an error: out->n == 0. */
int nk_subid_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
		    struct nk_err *e);
/* Forget the ranges nk_subid_ranges remembers (after the files changed). */
void nk_subid_forget(void);

/* The "subid:" source of ROOT/etc/nsswitch.conf (ROOT NULL: the real one),
 * read as shadow's nss_init() reads it: "files" when there is none. Read
 * from ETCFD, the folder ROOT/etc opened by nk_cfg_opendir() (the one fd
 * every file of a --root run is read from), or opened here when ETCFD is
 * -1. Returns 1 when it is not "files" (a central service such as SSSD),
 * 0 when it is, negative when the file exists but cannot be read. */
int nk_subid_source_at(int etcfd, const char *root, char *name, size_t len, struct nk_err *e);
/* The parse of it: BUF (a NUL-terminated nsswitch.conf) to NAME (LEN
 * bytes); the same return. */
int nk_nsswitch_subid(const char *buf, char *name, size_t len);
/* The same for the real root, read once a process. */
int nk_subid_source(char *name, size_t len);
/* For messages: "/etc/subuid", or "the central 'subid: sss' source". */
const char *nk_subid_where(enum nk_idtype t);
/* With a central source, who to ask for ranges ("the 'sss' service owns
 * the ranges: ask its administrator"); NULL with the files. The fix that
 * names a tool (subid-alloc) is the tool's: cli/tool.h nk_subid_fix(). */
const char *nk_subid_central_fix(void);
/* For a message about a range USER may not map, given USER's ranges SUB
 * (callers give the error kind NK_ERRK_NO_SUBIDS when there are none):
 * the ranges USER has, in
 * order of start ("alice's ranges: 100000-165535, 300000-300099"; past 8
 * ranges "... and N more"), so that the caller can map within them.
 * Written to BUF (LEN bytes), which is returned. */
const char *nk_subid_hint(const char *user, const struct nk_ranges *sub, char *buf, size_t len);
/* USER's ranges always through libsubid (loaded on first use), whatever the
 * source: what newuidmap itself would be told. */
int nk_libsubid_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
		       struct nk_err *e);

/* Who owns the subordinate id ID of type T, as the source says (the files
 * through the one parser, any other source through libsubid): 1 with the
 * owner's login name (or its uid as a number when it has none) in NAME,
 * 0 when nobody does, negative when the source cannot be read. */
int nk_subid_owner(enum nk_idtype t, uint32_t id, char *name, size_t len, struct nk_err *e);

/* The file libsubid reads for t, for messages: "/etc/subuid". */
const char *nk_subid_file(enum nk_idtype t);

#endif
