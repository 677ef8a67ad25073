#include <shadow/subid.h>
#include <string.h>
#include "subid.h"
#include "num.h"

void nk_ranges_free(struct nk_ranges *r)
{
	free(r->r);
	r->r = NULL;
	r->n = 0;
}

int nk_ranges_add(struct nk_ranges *r, uint32_t start, uint32_t count)
{
	struct nk_range *x = realloc(r->r, (r->n + 1) * sizeof *x);

	if (!x)
		return -ENOMEM;
	r->r = x;
	r->r[r->n++] = (struct nk_range){ start, count };
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct nk_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->count < y->count ? -1 : x->count > y->count;
}

void nk_ranges_sort(struct nk_ranges *r)
{
	if (r->n > 1)
		qsort(r->r, r->n, sizeof *r->r, cmp_range);
}

int nk_ranges_cover(const struct nk_ranges *r, uint32_t first, uint32_t count)
{
	uint64_t cur = first, end = (uint64_t)first + count;
	int progress = 1;

	/* Ranges may be unsorted and adjacent (newuidmap accepts an extent
	 * spread over adjacent ranges): advance until no range extends cur. */
	while (cur < end && progress) {
		progress = 0;
		for (size_t i = 0; i < r->n; i++) {
			uint64_t s = r->r[i].start, e = s + r->r[i].count;

			if (cur >= s && cur < e) {
				cur = e;
				progress = 1;
			}
		}
	}
	return cur >= end;
}

const char *nk_subid_file(enum nk_idtype t)
{
	return t == NK_UID ? "/etc/subuid" : "/etc/subgid";
}

static void subid_quiet(void)
{
	static int done;

	/* libsubid prints its own complaints to stderr unless told otherwise;
	 * nskit reports errors itself. The stream is close-on-exec so that it
	 * never reaches a command we run. */
	if (!done) {
		FILE *f = fopen("/dev/null", "we");

		if (f)
			subid_init("nskit", f);
		done = 1;
	}
}

int nk_subid_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
		    struct nk_err *e)
{
	struct subid_range *r = NULL;
	int n;

	subid_quiet();
	out->n = 0;
	out->r = NULL;
	n = t == NK_UID ? subid_get_uid_ranges(user, &r) : subid_get_gid_ranges(user, &r);
	if (n < 0) {
		free(r);
		return nk_errf(e, EIO, "cannot read the subordinate %s ranges of '%s' through libsubid "
			       "(check %s and the 'subid:' line of /etc/nsswitch.conf)",
			       nk_idtype_name(t), user, nk_subid_file(t));
	}
	for (int i = 0; i < n; i++) {
		if (r[i].count == 0)
			continue;
		if (r[i].start > NK_ID_MAX || r[i].count > UINT32_MAX ||
		    r[i].start + r[i].count - 1 > NK_ID_MAX) {
			free(r);
			nk_ranges_free(out);
			return nk_errf(e, ERANGE, "subordinate %s range %lu:%lu of '%s' goes past %lu (fix it in %s)",
				       nk_idtype_name(t), r[i].start, r[i].count, user, NK_ID_MAX,
				       nk_subid_file(t));
		}
		if (nk_ranges_add(out, (uint32_t)r[i].start, (uint32_t)r[i].count) < 0) {
			free(r);
			nk_ranges_free(out);
			return nk_errf(e, ENOMEM, "out of memory");
		}
	}
	free(r);
	return 0;
}

int nk_map_build_auto(uint32_t self, const struct nk_ranges *sub, struct nk_map *out,
		      struct nk_err *e)
{
	struct nk_ranges sorted = { 0, NULL };
	uint64_t next = 1;

	nk_map_init(out);
	if (nk_map_add(out, 0, self, 1) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	if (sub->n) {
		sorted.r = malloc(sub->n * sizeof *sorted.r);
		if (!sorted.r)
			return nk_errf(e, ENOMEM, "out of memory");
		memcpy(sorted.r, sub->r, sub->n * sizeof *sorted.r);
		sorted.n = sub->n;
		nk_ranges_sort(&sorted);
	}
	for (size_t i = 0; i < sorted.n; i++) {
		if (next + sorted.r[i].count - 1 > NK_ID_MAX) {
			nk_ranges_free(&sorted);
			nk_map_free(out);
			return nk_errf(e, ERANGE, "the subordinate ranges hold more ids than a namespace can map");
		}
		if (nk_map_add(out, (uint32_t)next, sorted.r[i].start, sorted.r[i].count) < 0) {
			nk_ranges_free(&sorted);
			nk_map_free(out);
			return nk_errf(e, ENOMEM, "out of memory");
		}
		next += sorted.r[i].count;
	}
	nk_ranges_free(&sorted);
	return 0;
}

static int cmp_ext_inner(const void *a, const void *b)
{
	const struct nk_extent *x = a, *y = b;

	return x->inner < y->inner ? -1 : x->inner > y->inner;
}

int nk_map_build_keepid(uint32_t self, const struct nk_ranges *sub, struct nk_map *out,
			struct nk_err *e)
{
	struct nk_ranges sorted = { 0, NULL };
	uint64_t next = 0;

	nk_map_init(out);
	if (nk_map_add(out, self, self, 1) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	if (sub->n) {
		sorted.r = malloc(sub->n * sizeof *sorted.r);
		if (!sorted.r)
			return nk_errf(e, ENOMEM, "out of memory");
		memcpy(sorted.r, sub->r, sub->n * sizeof *sorted.r);
		sorted.n = sub->n;
		nk_ranges_sort(&sorted);
	}
	for (size_t i = 0; i < sorted.n; i++) {
		uint64_t start = sorted.r[i].start, left = sorted.r[i].count;

		while (left > 0) {
			uint64_t chunk = left;

			if (next == self)
				next++;
			if (next < self && next + chunk > self)
				chunk = self - next;
			if (next + chunk - 1 > NK_ID_MAX) {
				nk_ranges_free(&sorted);
				nk_map_free(out);
				return nk_errf(e, ERANGE, "the subordinate ranges hold more ids than a namespace can map");
			}
			if (nk_map_add(out, (uint32_t)next, (uint32_t)start, (uint32_t)chunk) < 0) {
				nk_ranges_free(&sorted);
				nk_map_free(out);
				return nk_errf(e, ENOMEM, "out of memory");
			}
			next += chunk;
			start += chunk;
			left -= chunk;
		}
	}
	nk_ranges_free(&sorted);
	qsort(out->ext, out->n, sizeof *out->ext, cmp_ext_inner);
	return 0;
}
