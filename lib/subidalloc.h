/* subidalloc.h - the allocator of subordinate ranges
 *
 * It works on sorted, disjoint interval arrays ("spaces") of ids that are
 * taken: every range of a file as nskit and as shadow read it (lib/subidfile.h),
 * and the real uids or gids. A first-fit search starts where the previous
 * one for the same size stopped, so allocating for N users is O(N log N)
 * overall.
 */
#ifndef NSKIT_SUBIDALLOC_H
#define NSKIT_SUBIDALLOC_H

#include <stdint.h>
#include "subidfile.h"


struct nk_iv {
	uint64_t lo, hi;      /* inclusive */
};

struct nk_space {
	struct nk_iv *iv;     /* sorted, disjoint, not adjacent */
	size_t n, cap;
	/* first-fit memo: no fitting start below hint for these parameters */
	uint64_t hint, h_min, h_max, h_count, h_align;
};

void nk_space_free(struct nk_space *s);
/* Mark [lo, hi] taken (merging). */
int nk_space_add(struct nk_space *s, uint64_t lo, uint64_t hi);
/* Every range of F that is not removed (bad lines too when their numbers
 * parse), every range shadow reads in a line that is not removed, and the
 * ids IDS[0..N) (real uids or gids). */
int nk_space_build(struct nk_space *s, const struct nk_sf *f, const uint32_t *ids, size_t n);
int nk_space_is_free(const struct nk_space *s, uint64_t start, uint64_t count);
/* Lowest START >= MIN, multiple of ALIGN (0 or 1: any), with
 * [START, START+COUNT) free and START+COUNT-1 <= MAX. -ENOSPC when none. */
int nk_space_first_fit(struct nk_space *s, uint64_t min, uint64_t max, uint64_t count,
		       uint64_t align, uint64_t *start);

struct nk_alloc_policy {
	uint64_t min, max, count, align;
	int deterministic;
	uint32_t uid_min;     /* UID_MIN, for --deterministic */
};

/* Allocate a start for a user of uid UID in space S; never past NK_ID_MAX
 * (4294967294: (uid_t)-1 is no id), whatever P->max. PREFER (or UINT64_MAX)
 * is tried first: the start of the user's range in the other file, so the
 * uid and gid ranges of one user start at the same number when both are
 * free there. On success the range is marked taken. Errors: -ENOSPC (no
 * room), -EBUSY (deterministic range taken), -ERANGE (deterministic range
 * outside MIN..MAX or uid below UID_MIN). */
int nk_alloc(struct nk_space *s, const struct nk_alloc_policy *p, uint32_t uid,
	     uint64_t prefer, uint64_t *start);

#endif
