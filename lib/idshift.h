/* idshift.h - moving ids from one map to another, and the xattrs that hold ids
 *
 * A tree "in" map FROM stores, for an id I inside the namespace, the id
 * FROM(I) (what this namespace sees). Shifting it to map TO stores TO(I)
 * instead. nk_shift_build() composes the two into one table of direct
 * ranges (stored id -> new id), sorted, searched in O(log n).
 *
 * Two xattrs carry ids the owner change does not touch:
 *  - system.posix_acl_access / system.posix_acl_default: the kernel's
 *    posix_acl_xattr layout (version 2, then {tag u16, perm u16, id u32}
 *    little-endian). ACL_USER and ACL_GROUP entries carry ids; every other
 *    byte is kept as it was. Raw xattrs rather than libacl: no dependency,
 *    and an entry libacl does not know stays byte for byte.
 *  - security.capability: vfs_cap_data. Revisions 1 and 2 carry no id;
 *    revision 3 carries the rootid the capabilities are valid for, shifted
 *    like an owner.
 */
#ifndef NSKIT_IDSHIFT_H
#define NSKIT_IDSHIFT_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "idmap.h"

struct nk_shift_range {
	uint32_t src, dst, count;
};

struct nk_shift {
	size_t n[2];
	struct nk_shift_range *r[2];   /* [NK_UID], [NK_GID], sorted by src */
};

/* Compose: for every id inside FROM's outer side whose inner id TO maps.
 * Both maps are validated first (no overlaps). */
int nk_shift_build(struct nk_shift *s, const struct nk_maps *from, const struct nk_maps *to,
		   struct nk_err *e);
void nk_shift_free(struct nk_shift *s);
/* 0 and *out, or -ENOENT when ID is outside the table. */
int nk_shift_id(const struct nk_shift *s, enum nk_idtype t, uint32_t id, uint32_t *out);
/* 1 when some id of the table becomes ID (ID is in the image), else 0. */
int nk_shift_in_image(const struct nk_shift *s, enum nk_idtype t, uint32_t id);

/* Maps FROM of this namespace's ids: identity over the inner side of M (a
 * process in our own namespace sees its ids unchanged). */
int nk_maps_identity_of(const struct nk_maps *m, struct nk_maps *out);

/* How an id is translated by the blob shifters: 0 and *out, or a negative
 * errno (the shifters stop and return it). */
typedef int (*nk_id_fn)(void *ctx, enum nk_idtype t, uint32_t id, uint32_t *out);

#define NK_XATTR_ACL_ACCESS "system.posix_acl_access"
#define NK_XATTR_ACL_DEFAULT "system.posix_acl_default"
#define NK_XATTR_CAPS "security.capability"

/* Shift the ids of a posix_acl xattr of LEN bytes from IN into OUT (same
 * length; OUT may be IN, or NULL to only check). *CHANGED: entries whose id
 * changed. -EINVAL (message) for a malformed blob; FN's error otherwise,
 * with *BAD set to the id it refused and *BADTYPE its type. */
int nk_acl_shift(const void *in, void *out, size_t len, nk_id_fn fn, void *ctx,
		 unsigned *changed, uint32_t *bad, enum nk_idtype *badtype, struct nk_err *e);

/* Shift a security.capability blob. *REV: 1, 2 or 3. Only a revision 3
 * rootid goes through FN; *CHANGED is 1 when it changed. */
int nk_fcaps_shift(const void *in, void *out, size_t len, nk_id_fn fn, void *ctx,
		   int *rev, int *changed, uint32_t *bad, struct nk_err *e);

/* A revision 2 blob (20 bytes) as revision 3 with ROOTID (24 bytes into
 * OUT): what a v2 capability means when read inside a user namespace, where
 * the kernel shows a v3 whose rootid is that namespace's root as v2. 0, or
 * -EINVAL when IN is not revision 2. */
int nk_fcaps_v2_to_v3(const void *in, size_t len, uint32_t rootid, void *out);

#endif
