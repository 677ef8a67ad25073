/* walk.h - a descriptor walk of one tree, in several threads, that hands
 * every entry over open
 *
 * Directories are opened from their parent's descriptor with openat2(2)
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV (Linux 5.6;
 * before that openat O_NOFOLLOW and a mount check), every other entry with
 * openat O_NOFOLLOW and a mount check (statx STATX_MNT_ID, Linux 5.8; else
 * the device). The callback gets each entry as a descriptor of its own and
 * the statx of that descriptor: what it reads and changes through it is
 * that inode, whatever the name has become meanwhile (a symlink, a
 * hardlink of a file outside the tree, another directory). A name swapped
 * for a symlink is the link itself, never followed; another mount is never
 * entered (counted and left alone), a bind-mounted file included.
 *
 * Which descriptor: a directory O_RDONLY (one that cannot be read, O_PATH,
 * then the error is reported); a regular file, with NK_WALK_OPEN_FILES,
 * O_RDONLY|O_NONBLOCK|O_NOCTTY; anything else O_PATH. NK_WALK_OPEN_FILES is
 * for trees on a nodev mount only: a name swapped for a device node between
 * the listing and the open must never open a device. The nk_fd_* calls
 * below work on either kind.
 *
 * Memory: one record per directory found and not yet opened (a LIFO, so
 * about depth x width of the pending part), never one per file.
 */
#ifndef NSKIT_WALK_H
#define NSKIT_WALK_H

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include "err.h"

struct nk_walk_entry {
	int dirfd;              /* the directory the entry is in (-1: the top) */
	const char *name;       /* its name there ("." for the top itself) */
	const char *dirpath;    /* the directory's path, for messages */
	int fd;                 /* the entry itself, open (the walk's: dup to keep it);
				 * -1: handed by name (NK_WALK_BYNAME) */
	int fd_path;            /* 1: fd is O_PATH (see nk_fd_*) */
	struct stat st;         /* statx of fd */
	struct timespec btime;  /* its birth time, when has_btime */
	int has_btime;
	int post;               /* a NK_WALK_BYNAME directory, handed again after what it holds */
};

#define NK_WALK_OPEN_FILES 1    /* regular files O_RDONLY (a nodev mount only) */

/* What a callback returns besides 0 and a negative errno. */
#define NK_WALK_STOP 1          /* stop the walk: no further entry is handed */
/* For a directory: nobody but the caller can change its entries (it alone
 * may write to it, and will not until the walk is done with it). Its
 * non-directories are then handed by name, unopened (fd -1, st from
 * statx of DIRFD and NAME, never following a symlink; on another mount:
 * left alone), and the directory is handed again (post 1) once they are
 * done. The callback may return NK_WALK_NEED_FD for such an entry: it is
 * then opened and handed as usual. */
#define NK_WALK_BYNAME 2
#define NK_WALK_NEED_FD 3

/* Called for every entry, the top directory first and every directory
 * (open) before what it holds (and, NK_WALK_BYNAME, after), from any
 * worker thread. Return 0, a
 * negative errno with E filled (counted as an error, the walk goes on), or
 * NK_WALK_STOP. */
typedef int (*nk_walk_fn)(void *ctx, const struct nk_walk_entry *ent, struct nk_err *e);
/* Called (serialized) for each error: PATH, the message. */
typedef void (*nk_walk_err_fn)(void *ctx, const char *path, const struct nk_err *e);

struct nk_walk_stats {
	uint64_t entries, dirs, mounts_skipped, errors;
	int stopped;            /* a callback returned NK_WALK_STOP */
};

/* Walk the tree below ROOTFD (an O_DIRECTORY descriptor; ROOTPATH for
 * messages) with THREADS workers (>= 1). 0 when the walk ran (errors are
 * counted in STATS and reported through ERRFN), or a negative errno when it
 * could not start. */
int nk_walk(int rootfd, const char *rootpath, unsigned threads, int flags, nk_walk_fn fn,
	    nk_walk_err_fn errfn, void *ctx, struct nk_walk_stats *stats, struct nk_err *e);

/* Open directory NAME beneath DIRFD the way the walk does: no symlink, no
 * other mount (MNT_ID: the mount id of DIRFD, 0 for unknown; DEV: its
 * device). FLAGS O_RDONLY or O_PATH. A descriptor, or a negative errno
 * (-EXDEV for another mount). */
int nk_walk_open_dir(int dirfd, const char *name, int flags, uint64_t mnt_id, dev_t dev);

/* The statx of FD as a struct stat, its birth time (*HAS_BTIME 0 where the
 * file system keeps none) and mount id (0: unknown). 0 or -errno. */
int nk_fd_stat(int fd, struct stat *st, struct timespec *btime, int *has_btime, uint64_t *mnt_id);

/* The xattrs, owner and mode of the inode behind FD, never following a
 * symlink. FD_PATH 0: f*xattr(2), fchown, fchmod. FD_PATH 1 (O_PATH, where
 * f*xattr(2) fail with EBADF): the *xattrat(2) calls (Linux 6.13) on the
 * name FD in /proc/self/fd, else the *xattr(2) calls on /proc/self/fd/FD,
 * which lead to that very inode (a symlink's O_PATH descriptor leads to the
 * link: symlinks carry none of the xattrs idmap-shift changes); chown by
 * fchownat AT_EMPTY_PATH, chmod by fchmodat2 AT_EMPTY_PATH (Linux 6.6),
 * else chmod on /proc/self/fd/FD. Return as the syscalls do (length, or -1
 * with errno). */
ssize_t nk_fd_getxattr(int fd, int fd_path, const char *attr, void *buf, size_t size);
ssize_t nk_fd_listxattr(int fd, int fd_path, char *buf, size_t size);
int nk_fd_setxattr(int fd, int fd_path, const char *attr, const void *buf, size_t size);
int nk_fd_removexattr(int fd, int fd_path, const char *attr);
int nk_fd_chown(int fd, uid_t uid, gid_t gid);
int nk_fd_chmod(int fd, int fd_path, mode_t mode);

/* The same for an entry as the walk hands it: through its fd, or, handed
 * by name, NAME of DIRFD (*xattrat(2), fchownat and fchmodat2 with
 * AT_SYMLINK_NOFOLLOW; before Linux 6.13 the l*xattr(2) calls on
 * /proc/self/fd/DIRFD/NAME). */
ssize_t nk_ent_getxattr(const struct nk_walk_entry *en, const char *attr, void *buf, size_t size);
ssize_t nk_ent_listxattr(const struct nk_walk_entry *en, char *buf, size_t size);
int nk_ent_setxattr(const struct nk_walk_entry *en, const char *attr, const void *buf, size_t size);
int nk_ent_removexattr(const struct nk_walk_entry *en, const char *attr);
int nk_ent_chown(const struct nk_walk_entry *en, uid_t uid, gid_t gid);
int nk_ent_chmod(const struct nk_walk_entry *en, mode_t mode);

#endif
