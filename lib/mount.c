#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
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

int nk_mount_set_propagation(const char *target, unsigned long type,
			     bool recursive, struct nk_err *e)
{
	const char *name = nk_prop_type_name(type);

	if (!name)
		return nk_errf(e, EINVAL, "bad propagation type %#lx", type);
	if (mount("none", target, NULL, type | (recursive ? MS_REC : 0), NULL) == 0)
		return 0;
	switch (errno) {
	case EPERM:
		return nk_syserr(e, EPERM, "cannot make '%s' %s: " NK_NOPRIV_HINT,
				 target, name);
	case EINVAL:
		/* do_change_type(): not the root of a mount, or a mount of
		 * another mount namespace. */
		return nk_syserr(e, EINVAL, "cannot make '%s' %s: not a mount point "
				 "of this mount namespace", target, name);
	default:
		return nk_syserr(e, errno, "cannot make '%s' %s", target, name);
	}
}

int nk_mount_bind_self(const char *target, struct nk_err *e)
{
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) == 0)
		return 0;
	switch (errno) {
	case EPERM:
		return nk_syserr(e, EPERM, "cannot bind '%s' onto itself: " NK_NOPRIV_HINT,
				 target);
	case EINVAL:
		/* do_loopback(): the source's mount is unbindable, or not in
		 * our mount namespace. */
		return nk_syserr(e, EINVAL, "cannot bind '%s' onto itself: its mount is "
				 "unbindable or not in this mount namespace", target);
	default:
		return nk_syserr(e, errno, "cannot bind '%s' onto itself", target);
	}
}
