#include "search.h"

size_t nk_lower_bound(const void *base, size_t n, size_t size, const void *key, nk_below_fn below)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (below((const char *)base + mid * size, key))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
