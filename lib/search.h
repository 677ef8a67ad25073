/* search.h - binary search over a sorted array (the users by name and by
 * uid, the groups by gid, the taken subordinate ids)
 */
#ifndef NSKIT_SEARCH_H
#define NSKIT_SEARCH_H

#include <stddef.h>

/* Is ELEM (an element of the array) ordered before KEY? */
typedef int (*nk_below_fn)(const void *elem, const void *key);

/* The first of the N elements of SIZE bytes at BASE that is not BELOW KEY
 * (N when there is none): where KEY is, or would go. The array is sorted
 * so that every element BELOW KEY comes before every other. */
size_t nk_lower_bound(const void *base, size_t n, size_t size, const void *key, nk_below_fn below);

#endif
