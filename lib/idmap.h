/* idmap.h - id maps: extent lists, the map stream, validation, /proc
 *
 * An extent maps COUNT ids starting at INNER (inside the namespace) onto
 * ids starting at OUTER (in the parent namespace): the order of the kernel's
 * /proc/PID/uid_map and of newuidmap's arguments.
 *
 * The map stream, the text that carries maps between nskit tools:
 *     # comment
 *     u 0 1000 1          uid extent: inside outside count
 *     g 0 1000 1          gid extent
 *     b 1 100000 65536    both
 */
#ifndef NSKIT_IDMAP_H
#define NSKIT_IDMAP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "err.h"

/* The kernel's limit on extents in one map (UID_GID_MAP_MAX_EXTENTS, 4.15+). */
#define NK_MAP_MAX_EXTENTS 340

enum nk_idtype { NK_UID = 0, NK_GID = 1 };

struct nk_extent {
	uint32_t inner;
	uint32_t outer;
	uint32_t count;
};

struct nk_map {
	size_t n, cap;
	struct nk_extent *ext;
};

/* Both maps of a namespace, indexed by enum nk_idtype. */
struct nk_maps {
	struct nk_map map[2];
};

const char *nk_idtype_name(enum nk_idtype t);            /* "uid" / "gid" */
struct nk_map *nk_maps_get(struct nk_maps *m, enum nk_idtype t);

void nk_map_init(struct nk_map *m);
void nk_map_free(struct nk_map *m);
void nk_maps_free(struct nk_maps *m);
int nk_map_add(struct nk_map *m, uint32_t inner, uint32_t outer, uint32_t count);
int nk_map_copy(struct nk_map *dst, const struct nk_map *src);
int nk_map_equal(const struct nk_map *a, const struct nk_map *b);

/* "INNER:OUTER:COUNT" (podman's --uidmap order). */
int nk_spec_parse(const char *spec, struct nk_extent *out, struct nk_err *e);
/* Add a spec to uid (which=='u'), gid ('g') or both ('b') maps. */
int nk_maps_add_spec(struct nk_maps *m, char which, const char *spec, struct nk_err *e);

/* Parse a map stream; NAME is used in messages ("map.txt:3: ..."). Extents
 * are appended to *m. */
int nk_mapstream_parse(const char *text, size_t len, const char *name,
		       struct nk_maps *m, struct nk_err *e);
/* Read a whole map stream from a file ("-" for stdin). */
int nk_mapstream_read(const char *path, struct nk_maps *m, struct nk_err *e);
/* Print as a map stream; extents equal in both maps are printed as "b". */
int nk_mapstream_print(FILE *f, const struct nk_maps *m);

/* Check what the kernel would refuse, with a message naming the extents:
 * count 0, ranges past 4294967295, overlapping inside or outside ranges,
 * more than 340 extents, text of the map longer than the kernel takes in one
 * write (a page). */
int nk_map_validate(const struct nk_map *m, enum nk_idtype t, struct nk_err *e);

/* "inner outer count\n" lines, as written to /proc/PID/uid_map.
 * Returns the length, or -ENOSPC when it does not fit in len bytes. */
ssize_t nk_map_format(const struct nk_map *m, char *buf, size_t len);

/* Parse the kernel's text (whitespace separated, as /proc shows it). */
int nk_map_parse_kernel(const char *text, struct nk_map *m, struct nk_err *e);
/* Read /proc/PID/uid_map or gid_map (pid 0: self). */
int nk_map_read_proc(pid_t pid, enum nk_idtype t, struct nk_map *m, struct nk_err *e);
int nk_maps_read_proc(pid_t pid, struct nk_maps *m, struct nk_err *e);

/* Translate one id. Return 0 and set *out, or -ENOENT when unmapped. */
int nk_map_to_outer(const struct nk_map *m, uint32_t inner, uint32_t *out);
int nk_map_to_inner(const struct nk_map *m, uint32_t outer, uint32_t *out);
/* Does one extent of M cover [outer, outer+count) on its INNER side (the
 * kernel's rule for a child map: each child extent must fit inside a single
 * extent of the parent)? Returns the index or -1. */
ssize_t nk_map_find_inner_range(const struct nk_map *m, uint32_t first, uint32_t count);

/* Total number of ids mapped. */
uint64_t nk_map_total(const struct nk_map *m);

/* --- the standard maps (from a user's subordinate ranges, lib/subid) ---- */

struct nk_ranges;

/* Default rootless map: SELF to 0, then every range in order of start,
 * inside ids contiguous from 1 (what podman unshare maps). */
int nk_map_build_auto(uint32_t self, const struct nk_ranges *sub, struct nk_map *out,
		      struct nk_err *e);
/* keep-id: SELF to SELF, subordinate ids filling 0..SELF-1 and SELF+1..
 * (podman's --userns=keep-id, composed into one map). */
int nk_map_build_keepid(uint32_t self, const struct nk_ranges *sub, struct nk_map *out,
			struct nk_err *e);

/* The standard maps for a user with uid/gid, the same in every tool:
 * AUTO and KEEPID from USER's subordinate ranges (none is an error naming
 * the file, of kind NK_ERRK_NO_SUBIDS, with ALT, the caller's other way
 * out, kept in e->alt: ", or use --map-root"), ROOT
 * only uid and gid to 0. Appends to *out. */
enum nk_mapkind { NK_MAPS_AUTO, NK_MAPS_KEEPID, NK_MAPS_ROOT };
int nk_maps_build(enum nk_mapkind kind, const char *user, uint32_t uid, uint32_t gid,
		  const char *alt, struct nk_maps *out, struct nk_err *e);

#endif
