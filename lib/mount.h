/* mount.h - mount table and propagation, through libmount
 *
 * The mount table is read with libmount's table API (mountinfo parsing,
 * escaping, propagation flags from the optional fields); propagation is
 * changed with mount_setattr(2) (MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE,
 * what `mount --make-rshared` sets) on a descriptor of the object that was
 * checked, never on a path looked up again. Paths handed to the lookups must be
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

/* A TARGET pinned for a change. nk_mount_target_open() resolves the path
 * once, opens what it resolved to and checks that object against the mount
 * table; every change is then made through fd (mount_setattr(2),
 * open_tree(2) and move_mount(2) on the descriptor), never through the path
 * again. A path swapped for a symbolic link or another mount after the
 * check cannot redirect the change: the object checked is the object
 * changed. */
struct nk_mount_target {
	char *path;              /* canonical, for messages */
	int fd;                  /* O_PATH; after nk_mount_target_bind_self() the new mount's root */
	bool mount_point;        /* fd is the root of the mount the table lists at path */
	struct libmnt_fs *fs;    /* that mount, or the mount that holds path; owned by the table */
};
#define NK_MOUNT_TARGET_INIT { NULL, -1, false, NULL }

/* Resolve arg (realpath), open the result with O_PATH|O_NOFOLLOW and no
 * symbolic link on the way, and check with statx(2) (the mount id and
 * STATX_ATTR_MOUNT_ROOT) that the object opened is the one tb lists at that
 * path: the root of the mount at path, or, when tb lists no mount there, an
 * object on the mount that holds path. Anything else was replaced after the
 * table was read: an error, nothing is changed. */
int nk_mount_target_open(struct libmnt_table *tb, const char *arg,
			 struct nk_mount_target *t, struct nk_err *e);
/* Close fd and free path; t may be closed again. */
void nk_mount_target_close(struct nk_mount_target *t);
/* Bind the target onto itself (recursively, so mounts below it stay
 * visible), which makes it a mount point whose propagation can be set; fd
 * then refers to the root of the new mount. */
int nk_mount_target_bind_self(struct nk_mount_target *t, struct nk_err *e);
/* Set the propagation (one of MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE)
 * of the mount t->fd is the root of, and of every mount below it when
 * recursive. The message says why the kernel refused and what to do. */
int nk_mount_target_set_propagation(const struct nk_mount_target *t,
				    unsigned long type, bool recursive,
				    struct nk_err *e);
/* Detached mounts made from a descriptor, for idmap-shift: the object the
 * tool checked is the object mounted, never a path looked up again.
 * Clone: a detached copy of the mount at FD (open_tree(2) OPEN_TREE_CLONE,
 * with RECURSIVE the mounts below it too), its descriptor, or -errno
 * ("cannot clone the mount of 'PATH'"). Set: mount_setattr(2) ATTR_SET
 * (MOUNT_ATTR_*) on TREE and, with RECURSIVE, below it; USERNS_FD for
 * MOUNT_ATTR_IDMAP, else -1 ("cannot make an idmapped mount of 'PATH'"
 * for MOUNT_ATTR_IDMAP, "cannot set the attributes of a copy of 'PATH'"
 * otherwise). Attach: move_mount(2) TREE onto the directory DESTFD
 * ("cannot mount on 'DEST'"). */
int nk_mount_clone(int fd, const char *path, bool recursive, struct nk_err *e);
int nk_mount_set_attr(int tree, const char *path, bool recursive, uint64_t attr_set, int userns_fd,
		      struct nk_err *e);
int nk_mount_attach(int tree, int destfd, const char *dest, struct nk_err *e);

/* For tests only (tests/helpers/mnt-race.c), NULL in the tools: called by
 * nk_mount_target_open() with the resolved path, after realpath() and
 * before the path is opened. */
extern void (*nk_mount_target_test_hook)(const char *path);

#endif
