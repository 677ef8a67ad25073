/* walk.h - a directory-descriptor walk of one tree, in several threads
 *
 * Every directory is opened from its parent's descriptor with openat2(2)
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV (Linux 5.6;
 * before that openat O_NOFOLLOW and a device check): a directory swapped
 * for a symlink during the walk is refused, never followed, and the walk
 * never leaves the tree or its mount. Entries are handed to the callback
 * as (directory fd, name, lstat): the callback works on them with *at
 * calls and AT_SYMLINK_NOFOLLOW, so a name that turns into a symlink is
 * the link itself. Directories on another device (mount points) are
 * counted and left alone.
 *
 * Memory: one record per directory found and not yet opened (a LIFO, so
 * about depth x width of the pending part), never one per file.
 */
#ifndef NSKIT_WALK_H
#define NSKIT_WALK_H

#include <stdint.h>
#include <sys/stat.h>
#include "err.h"

struct nk_walk_entry {
	int dirfd;              /* the directory the entry is in */
	const char *name;       /* its name there ("." for the top itself) */
	const char *dirpath;    /* the directory's path, for messages */
	struct stat st;         /* lstat of the entry */
};

/* Called for every entry, the top directory first and every directory
 * before what it holds, from any worker thread. Return 0, or a negative
 * errno with E filled: counted as an error, the walk goes on. */
typedef int (*nk_walk_fn)(void *ctx, const struct nk_walk_entry *ent, struct nk_err *e);
/* Called (serialized) for each error: PATH, the message. */
typedef void (*nk_walk_err_fn)(void *ctx, const char *path, const struct nk_err *e);

struct nk_walk_stats {
	uint64_t entries, dirs, mounts_skipped, errors;
};

/* Walk the tree below ROOTFD (an O_DIRECTORY descriptor; ROOTPATH for
 * messages) with THREADS workers (>= 1). 0 when the walk ran (errors are
 * counted in STATS and reported through ERRFN), or a negative errno when it
 * could not start. */
int nk_walk(int rootfd, const char *rootpath, unsigned threads, nk_walk_fn fn,
	    nk_walk_err_fn errfn, void *ctx, struct nk_walk_stats *stats, struct nk_err *e);

/* Open directory NAME beneath DIRFD the way the walk does: no symlink, no
 * other mount (DEV: the tree's device). */
int nk_walk_open_dir(int dirfd, const char *name, dev_t dev);

#endif

/* The xattrs of entry NAME in DIRFD, never following a symlink:
 * getxattrat(2), listxattrat(2), setxattrat(2) (Linux 6.13), else the
 * l*xattr(2) calls on /proc/self/fd/DIRFD/NAME. Return as the syscalls do
 * (length, or -1 with errno). Chmod without following: fchmodat2(2)
 * (Linux 6.6), else glibc's fchmodat, which refuses symlinks too. */
ssize_t nk_getxattr_at(int dirfd, const char *name, const char *attr, void *buf, size_t size);
ssize_t nk_listxattr_at(int dirfd, const char *name, char *buf, size_t size);
int nk_setxattr_at(int dirfd, const char *name, const char *attr, const void *buf, size_t size);
int nk_chmod_at(int dirfd, const char *name, mode_t mode);
