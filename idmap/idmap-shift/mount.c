/* --mount: DEST becomes an idmapped bind mount of PATH, with a user
 * namespace whose maps are the shift (stored id -> shown id). Everything
 * works on descriptors: PATH as open_top opened and checked it, DEST
 * opened once with no symlink on the way. */
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include "mount.h"
#include "shift.h"
#include "tool.h"
#include "userns.h"
#include "util.h"

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#define OVERLAYFS_MAGIC 0x794c7630
#define FUSE_SUPER_MAGIC 0x65735546
#define MOUNT_HINT "--mount needs root; use chown mode, without --mount"

/* The kernel refused to idmap the clone TFD (ERR): why, in one line, and
 * what to do instead. */
static int mount_refused(int tfd, int err, struct nk_err *e)
{
	struct statfs sfs;
	long type = fstatfs(tfd, &sfs) == 0 ? (long)sfs.f_type : 0;
	const char *why = "the file system does not support idmapped mounts; use chown mode, without --mount";

	if (err == EPERM)
		why = "it needs root over the file system's mount; use chown mode, without --mount";
	else if (err == EINVAL && type == OVERLAYFS_MAGIC)
		why = "overlay mounts cannot be idmapped; shift the layer directories in chown mode, without --mount";
	else if (err == EINVAL && type == FUSE_SUPER_MAGIC)
		why = "this FUSE file system does not support idmapped mounts; use chown mode, without --mount";
	return nk_err_hint(e, "%s", why);
}

/* The user namespace of the mount: its maps are the shift. */
static int mount_userns(const struct nk_shift *s, struct nk_err *e)
{
	struct nk_maps m = { { { 0, 0, NULL }, { 0, 0, NULL } } };
	int fd;

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		for (size_t i = 0; i < s->n[t]; i++)
			if (nk_map_add(&m.map[t], s->r[t][i].src, s->r[t][i].dst, s->r[t][i].count) < 0) {
				nk_maps_free(&m);
				return nk_errf(e, ENOMEM, "out of memory");
			}
	fd = nk_userns_open_mapped(&m, e);
	nk_maps_free(&m);
	if (fd < 0 && e->code == EPERM) {
		nk_syserr(e, EPERM, "cannot write the maps of the mount's user namespace");
		return nk_err_hint(e, MOUNT_HINT);
	}
	if (fd < 0)
		return nk_err_prefix(e, "the mount's user namespace");
	return fd;
}

/* DEST, opened once: a directory reached without any symlink. */
static int open_dest(const char *dest, struct nk_err *e)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, dest, &how, sizeof how);

	if (fd < 0 && errno == ENOSYS)
		fd = open(dest, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ELOOP)
		return nk_errf(e, ELOOP, "cannot mount on '%s': a symlink is on the way (give the path without it)", dest);
	return nk_syserr(e, errno, "cannot mount on '%s'", dest);
}

int ish_mount(struct ish_run *r, int topfd, const char *src, const char *dest, struct nk_err *e)
{
	NK_AUTOCLOSE int usfd = mount_userns(&r->shift, e);
	NK_AUTOCLOSE int tfd = -1, dfd = -1;

	if (usfd < 0)
		return usfd;
	if ((tfd = nk_mount_clone(topfd, src, false, e)) < 0)
		return e->code == EPERM ? nk_err_hint(e, MOUNT_HINT) : tfd;
	if (nk_mount_set_attr(tfd, src, false, MOUNT_ATTR_IDMAP, usfd, e) < 0)
		return mount_refused(tfd, e->code, e);
	if ((dfd = open_dest(dest, e)) < 0)
		return dfd;
	return nk_mount_attach(tfd, dfd, dest, e);
}
