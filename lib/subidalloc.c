#include <string.h>
#include "num.h"
#include "search.h"
#include "subidalloc.h"
#include "util.h"

void nk_space_free(struct nk_space *s)
{
	free(s->iv);
	memset(s, 0, sizeof *s);
}

static int iv_below(const void *elem, const void *key)
{
	return ((const struct nk_iv *)elem)->hi < *(const uint64_t *)key;
}

/* First interval with hi >= X. */
static size_t lower(const struct nk_space *s, uint64_t x)
{
	return nk_lower_bound(s->iv, s->n, sizeof *s->iv, &x, iv_below);
}

int nk_space_add(struct nk_space *s, uint64_t lo, uint64_t hi)
{
	size_t i = lower(s, lo ? lo - 1 : 0), j = i;

	/* [i, j) are the intervals that overlap or touch [lo, hi]. */
	while (j < s->n && s->iv[j].lo <= (hi == UINT64_MAX ? hi : hi + 1))
		j++;
	if (i < j) {
		if (s->iv[i].lo < lo)
			lo = s->iv[i].lo;
		if (s->iv[j - 1].hi > hi)
			hi = s->iv[j - 1].hi;
		s->iv[i].lo = lo;
		s->iv[i].hi = hi;
		memmove(&s->iv[i + 1], &s->iv[j], (s->n - j) * sizeof *s->iv);
		s->n -= j - i - 1;
		return 0;
	}
	if (nk_grow(&s->iv, s->n, &s->cap, sizeof *s->iv, 64) < 0)
		return -ENOMEM;
	memmove(&s->iv[i + 1], &s->iv[i], (s->n - i) * sizeof *s->iv);
	s->iv[i].lo = lo;
	s->iv[i].hi = hi;
	s->n++;
	return 0;
}

static int cmp_iv(const void *a, const void *b)
{
	const struct nk_iv *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int nk_space_build(struct nk_space *s, const struct nk_sf *f, const uint32_t *ids, size_t n)
{
	size_t total = n + (f ? 2 * f->n : 0), k = 0, out = 0;
	struct nk_iv *v;

	memset(s, 0, sizeof *s);
	v = malloc((total + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; f && i < f->n; i++) {
		const struct nk_sf_line *l = &f->lines[i];
		if (l->removed)
			continue;
		if (l->has_range && l->count > 0) {
			v[k].lo = l->start;
			v[k].hi = l->start + l->count - 1 < l->start ? UINT64_MAX : l->start + l->count - 1;
			k++;
		}
		/* What shadow grants: [first, first + count - 1] in unsigned
		 * long arithmetic, nothing when that wraps below first (so
		 * "x:0:0" is everything, as find_range() sees it). */
		if (l->sh_ok && l->sh_start + l->sh_count - 1 >= l->sh_start) {
			v[k].lo = l->sh_start;
			v[k].hi = l->sh_start + l->sh_count - 1;
			k++;
		}
	}
	for (size_t i = 0; i < n; i++, k++)
		v[k].lo = v[k].hi = ids[i];
	qsort(v, k, sizeof *v, cmp_iv);
	for (size_t i = 0; i < k; i++) {
		if (out > 0 && v[i].lo <= v[out - 1].hi + 1 && v[out - 1].hi != UINT64_MAX) {
			if (v[i].hi > v[out - 1].hi)
				v[out - 1].hi = v[i].hi;
			continue;
		}
		if (out > 0 && v[out - 1].hi == UINT64_MAX)
			break;
		v[out++] = v[i];
	}
	s->iv = v;
	s->n = out;
	s->cap = total + 1;
	return 0;
}

int nk_space_is_free(const struct nk_space *s, uint64_t start, uint64_t count)
{
	size_t i;

	if (count == 0 || start + count - 1 < start)
		return 0;
	i = lower(s, start);
	return i == s->n || s->iv[i].lo > start + count - 1;
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	if (a <= 1)
		return x;
	if (x % a == 0)
		return x;
	if (x > UINT64_MAX - a)
		return UINT64_MAX;
	return x - x % a + a;
}

int nk_space_first_fit(struct nk_space *s, uint64_t min, uint64_t max, uint64_t count,
		       uint64_t align, uint64_t *start)
{
	uint64_t low = min;
	size_t i;

	if (count == 0 || max < min || max - min + 1 < count)
		return -ENOSPC;
	if (s->h_min == min && s->h_max == max && s->h_count == count && s->h_align == align &&
	    s->hint > low)
		low = s->hint;
	low = align_up(low, align);
	i = lower(s, low);
	for (;;) {
		if (low > max || max - low + 1 < count)
			return -ENOSPC;
		if (i == s->n || s->iv[i].lo > low + count - 1)
			break;
		if (s->iv[i].hi >= max)
			return -ENOSPC;
		low = align_up(s->iv[i].hi + 1, align);
		i++;
		while (i < s->n && s->iv[i].hi < low)
			i++;
	}
	s->hint = low;
	s->h_min = min;
	s->h_max = max;
	s->h_count = count;
	s->h_align = align;
	*start = low;
	return 0;
}

int nk_alloc(struct nk_space *s, const struct nk_alloc_policy *p, uint32_t uid,
	     uint64_t prefer, uint64_t *start)
{
	uint64_t st, max = p->max > NK_ID_MAX ? NK_ID_MAX : p->max;
	int r;

	if (p->count == 0)
		return -ERANGE;
	if (p->deterministic) {
		if (uid < p->uid_min)
			return -ERANGE;
		st = p->min + (uint64_t)(uid - p->uid_min) * p->count;
		if (st + p->count - 1 > max)
			return -ERANGE;
		if (!nk_space_is_free(s, st, p->count))
			return -EBUSY;
	} else if (prefer != UINT64_MAX && prefer >= p->min && prefer <= max &&
		   max - prefer + 1 >= p->count &&
		   (p->align <= 1 || prefer % p->align == 0) &&
		   nk_space_is_free(s, prefer, p->count)) {
		st = prefer;
	} else {
		r = nk_space_first_fit(s, p->min, max, p->count, p->align, &st);
		if (r < 0)
			return r;
	}
	r = nk_space_add(s, st, st + p->count - 1);
	if (r < 0)
		return r;
	*start = st;
	return 0;
}
