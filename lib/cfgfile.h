/* cfgfile.h - read a configuration file from a folder someone else may own
 *
 * subid-alloc and subid-check --root DIR run as root on DIR/etc, which the
 * owner of an image may have filled with anything. Every file they only
 * read (login.defs, passwd, group, nsswitch.conf, subuid, subgid) is read
 * here, from an fd of its folder:
 *   - first opened O_PATH, which opens nothing (no FIFO waits for a writer,
 *     no device is started) and, with O_NOFOLLOW, no symbolic link is
 *     followed: the link itself is found and refused;
 *   - fstat: a regular file no larger than a cap chosen per file;
 *   - then opened for reading, O_NOFOLLOW|O_NONBLOCK|O_NOCTTY|O_CLOEXEC,
 *     and required to be the very file just checked (device and inode);
 *   - read whole, never past the cap even if the file grows meanwhile.
 * The system's own /etc (no --root) is root's: a final link there is
 * followed (NK_CFG_FOLLOW), as glibc and shadow follow it; the type and
 * the size are checked all the same.
 */
#ifndef NSKIT_CFGFILE_H
#define NSKIT_CFGFILE_H

#include <stddef.h>
#include <sys/stat.h>
#include "err.h"

#define NK_CFG_FOLLOW 1u       /* follow a final symbolic link (the real /etc) */

/* The caps, in bytes (shown in messages in MiB). 100,000 users take about
 * 6 MiB of passwd and 3 MiB of subuid; Debian's login.defs is 12 KiB. */
#define NK_CFG_MAX_DB    ((size_t)64 << 20)   /* passwd, group, subuid, subgid */
#define NK_CFG_MAX_SMALL ((size_t)1 << 20)    /* login.defs, nsswitch.conf */

/* The flags for a file of ROOT/etc (ROOT NULL: the real /etc). */
unsigned nk_cfg_flags(const char *root);

/* The folder ROOT/etc, opened O_RDONLY|O_DIRECTORY into *FD: /etc when ROOT
 * is NULL; otherwise ROOT (the caller's own argument) is followed, but
 * ROOT/etc must be a folder and not a symbolic link. */
int nk_cfg_opendir(const char *root, int *fd, struct nk_err *e);

/* The folder of PATH, opened OFLAGS|O_DIRECTORY|O_CLOEXEC (O_PATH or
 * O_RDONLY), into *DFD, and PATH's last part into *NAME (malloc'd): 0. 0
 * with *DFD -1 and *NAME NULL when the folder does not exist (nor the file,
 * then); -errno with E filled ("cannot read PATH") otherwise. The start of
 * loading a file named by its path (login.defs, a subuid file). */
int nk_cfg_open_parent(const char *path, int oflags, int *dfd, char **name, struct nk_err *e);

/* Read the file NAME of the folder DFD whole: *BUF (malloc'd, with a NUL
 * after the *LEN bytes), *ST its fstat when ST is not NULL. PATH names it
 * in messages. -ENOENT, with E filled, when there is no such file; -ELOOP
 * for a symbolic link (unless NK_CFG_FOLLOW), -EINVAL for anything but a
 * regular file, -EFBIG past MAX bytes. */
int nk_cfg_read_at(int dfd, const char *name, const char *path, unsigned flags, size_t max,
		   char **buf, size_t *len, struct stat *st, struct nk_err *e);

#endif
