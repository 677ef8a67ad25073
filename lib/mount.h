/* mount.h - mount table and propagation, through libmount
 *
 * The mount table is read with libmount's table API (mountinfo parsing,
 * escaping, propagation flags from the optional fields); propagation is
 * changed with mount(2) MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, the
 * call `mount --make-rshared` makes. Paths handed to the lookups must be
 * canonical (nk_mount_canonicalize): mountinfo lists canonical paths and the
 * lookups compare strings, they never touch the file system.
 */
#ifndef NSKIT_MOUNT_H
#define NSKIT_MOUNT_H

#include <stdbool.h>
#include <libmount.h>
#include "err.h"

/* The propagation of one mount as the kernel reports it in mountinfo. */
struct nk_prop {
	unsigned long flags;    /* MS_SHARED|MS_SLAVE|MS_UNBINDABLE bits; MS_PRIVATE when none */
	unsigned int peer;      /* shared:N, the peer group; 0 when not shared */
	unsigned int master;    /* master:N, the master's peer group; 0 when not a slave */
};

/* Parse mountinfo's optional fields ("shared:1 master:2 propagate_from:2",
 * "unbindable", "" for private). Unknown tags are ignored, as the kernel may
 * add some; a known tag with a bad number is -EINVAL. */
int nk_prop_parse_fields(const char *fields, struct nk_prop *p);
/* The propagation of a mount read from mountinfo. */
int nk_prop_of_fs(struct libmnt_fs *fs, struct nk_prop *p, struct nk_err *e);
/* The name findmnt gives in its PROPAGATION column: "shared", "private",
 * "private,slave", "shared,slave", "private,unbindable". */
const char *nk_prop_name(unsigned long flags);
/* The name of a propagation type to set: "shared", "slave", "private",
 * "unbindable" (one MS_ flag). NULL for anything else. */
const char *nk_prop_type_name(unsigned long ms_flag);

/* Read a mount table in mountinfo format; path NULL is /proc/self/mountinfo.
 * A line libmount cannot parse is an error naming the file and line. */
int nk_mount_table_read(const char *path, struct libmnt_table **tb,
			struct nk_err *e);
/* The mount whose mount point is exactly path (the top one when several are
 * stacked there), or NULL. */
struct libmnt_fs *nk_mount_find_target(struct libmnt_table *tb, const char *path);
/* The mount that holds path: path's own mount or the nearest above it. */
struct libmnt_fs *nk_mount_find_containing(struct libmnt_table *tb, const char *path);
/* True when path is top or a path below top ("/a/b" is below "/a", "/ab" is not). */
bool nk_path_is_under(const char *path, const char *top);
/* The SOURCE column of findmnt: the device or source, with "[root]"
 * appended for a bind mount of a folder. Newly allocated, NULL on ENOMEM. */
char *nk_mount_source(struct libmnt_fs *fs);

/* realpath() with a message: "'/x' does not exist". */
int nk_mount_canonicalize(const char *path, char **out, struct nk_err *e);
/* Set the propagation (one of MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE)
 * of the mount at target, and of every mount below it when recursive. The
 * message says why the kernel refused and what to do. */
int nk_mount_set_propagation(const char *target, unsigned long type,
			     bool recursive, struct nk_err *e);
/* Bind target onto itself (recursively, so mounts below it stay visible),
 * which makes it a mount point whose propagation can be set. */
int nk_mount_bind_self(const char *target, struct nk_err *e);

#endif
