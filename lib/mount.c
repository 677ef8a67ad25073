#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include "mount.h"
#include "num.h"

/* What to do when the kernel says EPERM to a mount(2) call: the caller has
 * no CAP_SYS_ADMIN in the user namespace that owns its mount namespace
 * (may_mount() in fs/namespace.c). */
#define NK_NOPRIV_HINT \
	"no privilege over this mount namespace (run as root, or inside a user " \
	"and mount namespace of your own: 'unshare -Urm' or 'nsenter-user')"

int nk_prop_parse_fields(const char *fields, struct nk_prop *p)
{
	struct nk_prop r = { 0, 0, 0 };
	const char *s = fields ? fields : "";

	while (*s) {
		char tok[64];
		size_t len;
		uint32_t n;

		while (*s == ' ' || *s == '\t')
			s++;
		len = strcspn(s, " \t");
		if (len == 0)
			break;
		if (len >= sizeof tok) {
			s += len;  /* no tag we know is that long */
			continue;
		}
		memcpy(tok, s, len);
		tok[len] = '\0';
		s += len;
		if (strncmp(tok, "shared:", 7) == 0) {
			if (nk_parse_u32(tok + 7, UINT32_MAX, &n) < 0 || n == 0)
				return -EINVAL;
			r.flags |= MS_SHARED;
			r.peer = n;
		} else if (strncmp(tok, "master:", 7) == 0) {
			if (nk_parse_u32(tok + 7, UINT32_MAX, &n) < 0 || n == 0)
				return -EINVAL;
			r.flags |= MS_SLAVE;
			r.master = n;
		} else if (strcmp(tok, "unbindable") == 0) {
			r.flags |= MS_UNBINDABLE;
		}
		/* propagate_from:N and anything newer: not a propagation type */
	}
	if (!(r.flags & (MS_SHARED | MS_SLAVE | MS_UNBINDABLE)))
		r.flags = MS_PRIVATE;
	*p = r;
	return 0;
}

int nk_prop_of_fs(struct libmnt_fs *fs, struct nk_prop *p, struct nk_err *e)
{
	unsigned long flags = 0;
	struct nk_prop r;
	int rc;

	/* libmount decides the type; the group numbers come from the same
	 * optional fields, which libmount hands out but does not parse. */
	rc = mnt_fs_get_propagation(fs, &flags);
	if (rc < 0)
		return nk_syserr(e, rc, "cannot read the propagation of '%s'",
				 mnt_fs_get_target(fs) ? mnt_fs_get_target(fs) : "?");
	if (nk_prop_parse_fields(mnt_fs_get_optional_fields(fs), &r) < 0)
		return nk_errf(e, EINVAL, "bad optional fields '%s' for '%s'",
			       mnt_fs_get_optional_fields(fs),
			       mnt_fs_get_target(fs) ? mnt_fs_get_target(fs) : "?");
	/* libmount adds MS_PRIVATE to a slave that is not shared; keep
	 * MS_PRIVATE for "none of the others" only, as the kernel means it. */
	flags &= MS_SHARED | MS_SLAVE | MS_UNBINDABLE;
	r.flags = flags ? flags : MS_PRIVATE;
	if (!(r.flags & MS_SHARED))
		r.peer = 0;
	if (!(r.flags & MS_SLAVE))
		r.master = 0;
	*p = r;
	return 0;
}

const char *nk_prop_name(unsigned long flags)
{
	/* The strings of findmnt's PROPAGATION column (misc-utils/findmnt.c). */
	bool sh = flags & MS_SHARED;

	if (flags & MS_SLAVE)
		return (flags & MS_UNBINDABLE) ? (sh ? "shared,slave,unbindable" : "private,slave,unbindable")
					       : (sh ? "shared,slave" : "private,slave");
	if (flags & MS_UNBINDABLE)
		return sh ? "shared,unbindable" : "private,unbindable";
	return sh ? "shared" : "private";
}

const char *nk_prop_type_name(unsigned long ms_flag)
{
	switch (ms_flag) {
	case MS_SHARED:
		return "shared";
	case MS_SLAVE:
		return "slave";
	case MS_PRIVATE:
		return "private";
	case MS_UNBINDABLE:
		return "unbindable";
	}
	return NULL;
}

struct parse_state {
	int bad_line;
};

static int parser_errcb(struct libmnt_table *tb, const char *filename NK_UNUSED, int line)
{
	struct parse_state *st = mnt_table_get_userdata(tb);

	if (st && st->bad_line == 0)
		st->bad_line = line;
	return -EINVAL;  /* fail closed: never act on half a table */
}

int nk_mount_table_read(const char *path, struct libmnt_table **out,
			struct nk_err *e)
{
	struct parse_state st = { 0 };
	struct libmnt_table *tb;
	int rc;

	if (!path)
		path = "/proc/self/mountinfo";
	if (access(path, R_OK) != 0)
		return nk_syserr(e, errno, "cannot read the mount table '%s'", path);
	tb = mnt_new_table();
	if (!tb)
		return nk_syserr(e, ENOMEM, "cannot read the mount table '%s'", path);
	mnt_table_set_userdata(tb, &st);
	mnt_table_set_parser_errcb(tb, parser_errcb);
	rc = mnt_table_parse_file(tb, path);
	mnt_table_set_userdata(tb, NULL);
	if (rc < 0 || st.bad_line) {
		mnt_unref_table(tb);
		if (st.bad_line)
			return nk_errf(e, EINVAL, "cannot parse the mount table '%s': bad line %d",
				       path, st.bad_line);
		return nk_syserr(e, rc, "cannot read the mount table '%s'", path);
	}
	*out = tb;
	return 0;
}

struct libmnt_fs *nk_mount_find_target(struct libmnt_table *tb, const char *path)
{
	/* Backward: of mounts stacked on one point, the last listed is on top. */
	return mnt_table_find_target(tb, path, MNT_ITER_BACKWARD);
}

struct libmnt_fs *nk_mount_find_containing(struct libmnt_table *tb, const char *path)
{
	/* Walk up the path by string until a mount point matches. Not
	 * mnt_table_find_mountpoint(): that one stat()s the path first, and
	 * this lookup must work on any table, also one read from a file. */
	NK_AUTOFREE char *p = strdup(path);
	struct libmnt_fs *fs;
	char *slash;

	if (!p || p[0] != '/')
		return NULL;
	for (;;) {
		fs = nk_mount_find_target(tb, p);
		if (fs || strcmp(p, "/") == 0)
			return fs;
		slash = strrchr(p, '/');
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

bool nk_path_is_under(const char *path, const char *top)
{
	size_t n = strlen(top);

	if (strcmp(top, "/") == 0)
		return path[0] == '/';
	while (n > 1 && top[n - 1] == '/')
		n--;
	return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

char *nk_mount_source(struct libmnt_fs *fs)
{
	const char *spec = mnt_fs_get_srcpath(fs);
	const char *root = mnt_fs_get_root(fs);
	char *s = NULL;

	if (!spec)
		spec = mnt_fs_get_source(fs);
	if (!spec)
		spec = "none";
	if (root && strcmp(root, "/") != 0) {
		if (asprintf(&s, "%s[%s]", spec, root) < 0)
			return NULL;
		return s;
	}
	return strdup(spec);
}

int nk_mount_canonicalize(const char *path, char **out, struct nk_err *e)
{
	char *r;

	if (!path)
		return nk_errf(e, EINVAL, "no target");
	r = realpath(path, NULL);
	if (!r) {
		int err = errno;

		if (err == ENOENT)
			return nk_errf(e, ENOENT, "'%s' does not exist", path);
		return nk_syserr(e, err, "cannot resolve '%s'", path);
	}
	*out = r;
	return 0;
}

void (*nk_mount_target_test_hook)(const char *path);

/* Why a target is refused when what was opened is not what was checked. */
static int replaced(struct nk_err *e, const char *path)
{
	return nk_errf(e, EAGAIN, "'%s' was replaced while it was being checked "
		       "(run the command again)", path);
}

/* Open a canonical path with no symbolic link anywhere on the way:
 * realpath() resolved them all, so one found now was put there since.
 * O_NOFOLLOW: a trailing symbolic link is opened itself, and refused by the
 * caller. */
static int open_resolved(const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);

	if (fd < 0 && errno == ENOSYS)  /* before Linux 5.6: the checks below still hold */
		fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

static struct libmnt_fs *find_id(struct libmnt_table *tb, uint64_t id)
{
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_BACKWARD);
	struct libmnt_fs *fs, *found = NULL;

	if (!it)
		return NULL;
	while (!found && mnt_table_next_fs(tb, it, &fs) == 0)
		if (mnt_fs_get_id(fs) > 0 && (uint64_t)mnt_fs_get_id(fs) == id)
			found = fs;
	mnt_free_iter(it);
	return found;
}

/* Is the mount with id the table entry fs, or one stacked at the same mount
 * point (the lookups take the last one listed as the top one; the kernel's
 * path walk, which opened fd, always lands on the top one)? */
static bool same_mount(struct libmnt_table *tb, struct libmnt_fs *fs, uint64_t id,
		       struct libmnt_fs **match)
{
	struct libmnt_fs *other;

	if (mnt_fs_get_id(fs) > 0 && (uint64_t)mnt_fs_get_id(fs) == id) {
		*match = fs;
		return true;
	}
	other = find_id(tb, id);
	if (!other || !mnt_fs_get_target(other) || !mnt_fs_get_target(fs) ||
	    strcmp(mnt_fs_get_target(other), mnt_fs_get_target(fs)) != 0)
		return false;
	*match = other;
	return true;
}

int nk_mount_target_open(struct libmnt_table *tb, const char *arg,
			 struct nk_mount_target *t, struct nk_err *e)
{
	struct nk_mount_target r = NK_MOUNT_TARGET_INIT;
	struct libmnt_fs *fs;
	struct statx sx;
	bool root;
	int rc;

	rc = nk_mount_canonicalize(arg, &r.path, e);
	if (rc < 0)
		return rc;
	if (nk_mount_target_test_hook)
		nk_mount_target_test_hook(r.path);
	r.fd = open_resolved(r.path);
	if (r.fd < 0) {
		int err = errno;

		if (err == ELOOP)
			rc = replaced(e, r.path);
		else if (err == ENOENT || err == ENOTDIR)
			rc = nk_errf(e, ENOENT, "'%s' does not exist", arg);
		else
			rc = nk_syserr(e, err, "cannot open '%s'", r.path);
		goto fail;
	}
	if (statx(r.fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
		  STATX_TYPE | STATX_MNT_ID, &sx) < 0) {
		rc = nk_syserr(e, errno, "cannot check '%s'", r.path);
		goto fail;
	}
	if (!(sx.stx_mask & STATX_MNT_ID) ||
	    !(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
		rc = nk_errf(e, ENOSYS, "cannot check '%s': the kernel does not say which "
			     "mount it is on (Linux 5.8 or later is needed)", r.path);
		goto fail;
	}
	if (S_ISLNK(sx.stx_mode)) {
		rc = replaced(e, r.path);
		goto fail;
	}
	root = sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
	fs = nk_mount_find_target(tb, r.path);
	if (fs) {
		/* the root of the mount the table lists at path */
		if (!root || !same_mount(tb, fs, sx.stx_mnt_id, &r.fs)) {
			rc = replaced(e, r.path);
			goto fail;
		}
		r.mount_point = true;
	} else {
		/* not a mount point: an object on the mount that holds path */
		fs = nk_mount_find_containing(tb, r.path);
		if (!fs) {
			rc = nk_errf(e, ENOENT, "'%s' is not on any mount of this mount namespace",
				     arg);
			goto fail;
		}
		if (root || !same_mount(tb, fs, sx.stx_mnt_id, &r.fs)) {
			rc = replaced(e, r.path);
			goto fail;
		}
	}
	*t = r;
	return 0;
fail:
	nk_mount_target_close(&r);
	return rc;
}

void nk_mount_target_close(struct nk_mount_target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->path);
	t->fd = -1;
	t->path = NULL;
	t->fs = NULL;
}

int nk_mount_target_set_propagation(const struct nk_mount_target *t,
				    unsigned long type, bool recursive,
				    struct nk_err *e)
{
	const char *name = nk_prop_type_name(type);
	struct mount_attr attr = { .propagation = type };

	if (!name)
		return nk_errf(e, EINVAL, "bad propagation type %#lx", type);
	if (t->fd < 0 || !t->path)
		return nk_errf(e, EBADF, "no target");
	if (mount_setattr(t->fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
			  &attr, sizeof attr) == 0)
		return 0;
	switch (errno) {
	case EPERM:
		return nk_syserr(e, EPERM, "cannot make '%s' %s: " NK_NOPRIV_HINT,
				 t->path, name);
	case EINVAL:
		/* do_mount_setattr(): not the root of a mount, or a mount of
		 * another mount namespace (or no longer mounted). */
		return nk_syserr(e, EINVAL, "cannot make '%s' %s: not a mount point "
				 "of this mount namespace", t->path, name);
	default:
		return nk_syserr(e, errno, "cannot make '%s' %s", t->path, name);
	}
}

static int bind_error(const char *path, int err, struct nk_err *e)
{
	switch (err) {
	case EPERM:
		return nk_syserr(e, EPERM, "cannot bind '%s' onto itself: " NK_NOPRIV_HINT,
				 path);
	case EINVAL:
		/* __do_loopback(): the source's mount is unbindable, or not in
		 * our mount namespace. */
		return nk_syserr(e, EINVAL, "cannot bind '%s' onto itself: its mount is "
				 "unbindable or not in this mount namespace", path);
	default:
		return nk_syserr(e, err, "cannot bind '%s' onto itself", path);
	}
}

int nk_mount_target_bind_self(struct nk_mount_target *t, struct nk_err *e)
{
	int tree;

	if (t->fd < 0 || !t->path)
		return nk_errf(e, EBADF, "no target");
	/* A detached recursive copy of what fd refers to (mount --rbind's
	 * source), attached on fd itself: both ends are the object checked. */
	tree = open_tree(t->fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
			 AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		return bind_error(t->path, errno, e);
	if (move_mount(tree, "", t->fd, "", MOVE_MOUNT_F_EMPTY_PATH |
		       MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		int err = errno;

		close(tree);
		return bind_error(t->path, err, e);
	}
	/* tree now refers to the root of the new mount, attached at path */
	close(t->fd);
	t->fd = tree;
	t->mount_point = true;
	return 0;
}

int nk_mount_clone(int fd, const char *path, bool recursive, struct nk_err *e)
{
	int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
			     (recursive ? AT_RECURSIVE : 0));

	if (tree < 0)
		return nk_syserr(e, errno, "cannot clone the mount of '%s'", path);
	return tree;
}

int nk_mount_set_attr(int tree, const char *path, bool recursive, uint64_t attr_set, int userns_fd,
		      struct nk_err *e)
{
	struct mount_attr a = { .attr_set = attr_set };

	if (userns_fd >= 0)
		a.userns_fd = (uint64_t)userns_fd;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) == 0)
		return 0;
	if (attr_set & MOUNT_ATTR_IDMAP)
		return nk_syserr(e, errno, "cannot make an idmapped mount of '%s'", path);
	return nk_syserr(e, errno, "cannot set the attributes of a copy of '%s'", path);
}

int nk_mount_attach(int tree, int destfd, const char *dest, struct nk_err *e)
{
	if (move_mount(tree, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return nk_syserr(e, errno, "cannot mount on '%s'", dest);
	return 0;
}
