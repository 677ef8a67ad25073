#include <endian.h>
#include <errno.h>
#include <string.h>
#include "idshift.h"

static int range_cmp(const void *a, const void *b)
{
	const struct nk_shift_range *x = a, *y = b;

	return x->src < y->src ? -1 : x->src > y->src;
}

void nk_shift_free(struct nk_shift *s)
{
	for (int t = 0; t < 2; t++) {
		free(s->r[t]);
		s->r[t] = NULL;
		s->n[t] = 0;
	}
}

int nk_shift_build(struct nk_shift *s, const struct nk_maps *from, const struct nk_maps *to,
		   struct nk_err *e)
{
	memset(s, 0, sizeof *s);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		const struct nk_map *f = &from->map[t];
		const struct nk_map *d = &to->map[t];
		size_t cap = 0;
		int r;

		if ((r = nk_map_validate(f, t, e)) < 0 ||
		    (r = nk_map_validate(d, t, e)) < 0) {
			nk_shift_free(s);
			return r;
		}
		for (size_t i = 0; i < f->n; i++)
			for (size_t j = 0; j < d->n; j++) {
				const struct nk_extent *a = &f->ext[i], *b = &d->ext[j];
				uint64_t lo = a->inner > b->inner ? a->inner : b->inner;
				uint64_t ha = (uint64_t)a->inner + a->count, hb = (uint64_t)b->inner + b->count;
				uint64_t hi = ha < hb ? ha : hb;

				if (lo >= hi)
					continue;
				if (nk_grow(&s->r[t], s->n[t], &cap, sizeof *s->r[t], 8) < 0) {
					nk_shift_free(s);
					return nk_errf(e, ENOMEM, "out of memory");
				}
				s->r[t][s->n[t]++] = (struct nk_shift_range){
					(uint32_t)(a->outer + (lo - a->inner)),
					(uint32_t)(b->outer + (lo - b->inner)),
					(uint32_t)(hi - lo) };
			}
		qsort(s->r[t], s->n[t], sizeof *s->r[t], range_cmp);
	}
	return 0;
}

int nk_shift_id(const struct nk_shift *s, enum nk_idtype t, uint32_t id, uint32_t *out)
{
	const struct nk_shift_range *r = s->r[t];
	size_t lo = 0, hi = s->n[t];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (id < r[mid].src)
			hi = mid;
		else if (id - r[mid].src >= r[mid].count)
			lo = mid + 1;
		else {
			*out = r[mid].dst + (id - r[mid].src);
			return 0;
		}
	}
	return -ENOENT;
}

int nk_shift_in_image(const struct nk_shift *s, enum nk_idtype t, uint32_t id)
{
	for (size_t i = 0; i < s->n[t]; i++)
		if (id >= s->r[t][i].dst && id - s->r[t][i].dst < s->r[t][i].count)
			return 1;
	return 0;
}

int nk_maps_identity_of(const struct nk_maps *m, struct nk_maps *out)
{
	memset(out, 0, sizeof *out);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		const struct nk_map *src = &m->map[t];
		struct nk_map *dst = &out->map[t];

		for (size_t i = 0; i < src->n; i++)
			if (nk_map_add(dst, src->ext[i].inner, src->ext[i].inner, src->ext[i].count) < 0) {
				nk_maps_free(out);
				return -ENOMEM;
			}
	}
	return 0;
}

/* The kernel's posix_acl_xattr layout (include/uapi/linux/posix_acl_xattr.h). */
#define ACL_XATTR_VERSION 0x0002
#define ACL_TAG_USER 0x02
#define ACL_TAG_GROUP 0x08

int nk_acl_shift(const void *in, void *out, size_t len, nk_id_fn fn, void *ctx,
		 unsigned *changed, uint32_t *bad, enum nk_idtype *badtype, struct nk_err *e)
{
	const unsigned char *p = in;
	uint32_t v;
	unsigned n = 0;

	*changed = 0;
	if (len < 4 || (len - 4) % 8 != 0)
		return nk_errf(e, EINVAL, "malformed ACL xattr: %zu bytes is not a header and whole entries", len);
	memcpy(&v, p, 4);
	if (le32toh(v) != ACL_XATTR_VERSION)
		return nk_errf(e, EINVAL, "malformed ACL xattr: version %u, not 2", le32toh(v));
	if (out && out != in)
		memcpy(out, in, len);
	for (size_t off = 4; off < len; off += 8) {
		uint16_t tag;
		uint32_t id, nid;
		enum nk_idtype t;
		int r;

		memcpy(&tag, p + off, 2);
		tag = le16toh(tag);
		if (tag != ACL_TAG_USER && tag != ACL_TAG_GROUP)
			continue;
		t = tag == ACL_TAG_USER ? NK_UID : NK_GID;
		memcpy(&id, p + off + 4, 4);
		id = le32toh(id);
		if ((r = fn(ctx, t, id, &nid)) < 0) {
			if (bad)
				*bad = id;
			if (badtype)
				*badtype = t;
			return r;
		}
		if (nid != id) {
			n++;
			if (out) {
				nid = htole32(nid);
				memcpy((unsigned char *)out + off + 4, &nid, 4);
			}
		}
	}
	*changed = n;
	return 0;
}

/* include/uapi/linux/capability.h */
#define CAP_REV_MASK 0xFF000000U
#define CAP_REV1 0x01000000U
#define CAP_REV2 0x02000000U
#define CAP_REV3 0x03000000U
#define CAP_SZ1 12
#define CAP_SZ2 20
#define CAP_SZ3 24

int nk_fcaps_shift(const void *in, void *out, size_t len, nk_id_fn fn, void *ctx,
		   int *rev, int *changed, uint32_t *bad, struct nk_err *e)
{
	const unsigned char *p = in;
	uint32_t magic, root, nroot;
	int r;

	*changed = 0;
	if (len < 4)
		return nk_errf(e, EINVAL, "malformed capability xattr: %zu bytes", len);
	memcpy(&magic, p, 4);
	magic = le32toh(magic);
	switch (magic & CAP_REV_MASK) {
	case CAP_REV1:
		*rev = 1;
		break;
	case CAP_REV2:
		*rev = 2;
		break;
	case CAP_REV3:
		*rev = 3;
		break;
	default:
		return nk_errf(e, EINVAL, "malformed capability xattr: unknown revision 0x%08x", magic);
	}
	if (len != (size_t)(*rev == 1 ? CAP_SZ1 : *rev == 2 ? CAP_SZ2 : CAP_SZ3))
		return nk_errf(e, EINVAL, "malformed capability xattr: %zu bytes for revision %d", len, *rev);
	if (out && out != in)
		memcpy(out, in, len);
	if (*rev != 3)
		return 0;
	memcpy(&root, p + 20, 4);
	root = le32toh(root);
	if ((r = fn(ctx, NK_UID, root, &nroot)) < 0) {
		if (bad)
			*bad = root;
		return r;
	}
	if (nroot != root) {
		*changed = 1;
		if (out) {
			nroot = htole32(nroot);
			memcpy((unsigned char *)out + 20, &nroot, 4);
		}
	}
	return 0;
}

int nk_fcaps_v2_to_v3(const void *in, size_t len, uint32_t rootid, void *out)
{
	uint32_t magic;

	if (len != CAP_SZ2)
		return -EINVAL;
	memcpy(&magic, in, 4);
	magic = le32toh(magic);
	if ((magic & CAP_REV_MASK) != CAP_REV2)
		return -EINVAL;
	memmove(out, in, CAP_SZ2);
	magic = htole32(CAP_REV3 | (magic & ~CAP_REV_MASK));
	memcpy(out, &magic, 4);
	rootid = htole32(rootid);
	memcpy((unsigned char *)out + 20, &rootid, 4);
	return 0;
}
