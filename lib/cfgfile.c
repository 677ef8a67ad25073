#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include "cfgfile.h"
#include "paths.h"

unsigned nk_cfg_flags(const char *root)
{
	return root ? 0 : NK_CFG_FOLLOW;
}

int nk_cfg_open_parent(const char *path, int oflags, int *dfd, char **name, struct nk_err *e)
{
	NK_AUTOFREE char *d = strdup(path), *b = strdup(path);

	*dfd = -1;
	*name = NULL;
	if (!d || !b)
		return nk_syserr(e, ENOMEM, "cannot read %s", path);
	*dfd = open(dirname(d), oflags | O_DIRECTORY | O_CLOEXEC);
	if (*dfd < 0)
		return errno == ENOENT ? 0 : nk_syserr(e, errno, "cannot read %s", path);
	*name = strdup(basename(b));
	if (!*name) {
		close(*dfd);
		*dfd = -1;
		return nk_syserr(e, ENOMEM, "cannot read %s", path);
	}
	return 0;
}

int nk_cfg_opendir(const char *root, int *fd, struct nk_err *e)
{
	NK_AUTOCLOSE int rfd = -1;
	struct stat st;

	*fd = -1;
	if (!root) {
		*fd = open(nk_sysconfdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return *fd < 0 ? nk_syserr(e, errno, "cannot open %s", nk_sysconfdir()) : 0;
	}
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return nk_syserr(e, errno, "cannot open %s", root);
	*fd = openat(rfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	if ((errno == ELOOP || errno == ENOTDIR) &&
	    fstatat(rfd, "etc", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return nk_errf(e, ELOOP, "cannot use %s/etc: it is a symbolic link (--root follows no links below DIR)",
			       root);
	return nk_syserr(e, errno, "cannot open %s/etc", root);
}

static int not_regular(const char *path, const struct stat *st, size_t max, struct nk_err *e)
{
	if (S_ISLNK(st->st_mode))
		return nk_errf(e, ELOOP, "cannot read %s: it is a symbolic link (replace it with the file)",
			       path);
	if (!S_ISREG(st->st_mode))
		return nk_errf(e, EINVAL, "cannot read %s: not a regular file", path);
	if ((uint64_t)st->st_size > max)
		return nk_errf(e, EFBIG, "cannot read %s: larger than %zu MiB, the limit for this file",
			       path, max >> 20);
	return 0;
}

/* Read FD whole into *OUT (*N bytes, room for a NUL after them), never
 * past MAX bytes even if the file grew past the SIZE fstat gave. */
static int read_capped(int fd, const char *path, size_t size, size_t max, char **out, size_t *n,
		       struct nk_err *e)
{
	/* Room for the size fstat gave, and one byte more to see the end. */
	size_t cap = size + 1;
	char *b = malloc(cap + 1);

	*n = 0;
	if (!b)
		return nk_syserr(e, ENOMEM, "cannot read %s", path);
	*out = b;
	for (;;) {
		ssize_t got;

		if (*n == cap) {
			size_t nc = cap * 2 > max + 1 ? max + 1 : cap * 2;

			if (nc <= cap)
				return nk_errf(e, EFBIG, "cannot read %s: larger than %zu MiB, the limit for this file",
					       path, max >> 20);
			b = realloc(*out, nc + 1);
			if (!b)
				return nk_syserr(e, ENOMEM, "cannot read %s", path);
			*out = b;
			cap = nc;
		}
		got = read(fd, *out + *n, cap - *n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return nk_syserr(e, errno, "cannot read %s", path);
		if (got == 0)
			break;
		*n += (size_t)got;
	}
	if (*n > max)
		return nk_errf(e, EFBIG, "cannot read %s: larger than %zu MiB, the limit for this file",
			       path, max >> 20);
	return 0;
}

int nk_cfg_read_at(int dfd, const char *name, const char *path, unsigned flags, size_t max,
		   char **buf, size_t *len, struct stat *st, struct nk_err *e)
{
	int nofollow = flags & NK_CFG_FOLLOW ? 0 : O_NOFOLLOW;
	NK_AUTOCLOSE int pfd = -1, fd = -1;
	NK_AUTOFREE char *b = NULL;
	struct stat ps, rs;
	size_t n = 0;
	int r;

	*buf = NULL;
	*len = 0;
	/* O_PATH opens nothing: a FIFO or a device is only looked at. */
	pfd = openat(dfd, name, O_PATH | nofollow | O_CLOEXEC);
	if (pfd < 0)
		return nk_syserr(e, errno, "cannot read %s", path);
	if (fstat(pfd, &ps) < 0)
		return nk_syserr(e, errno, "cannot read %s", path);
	if ((r = not_regular(path, &ps, max, e)) < 0)
		return r;
	fd = openat(dfd, name, O_RDONLY | nofollow | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return nk_errf(e, ELOOP, "cannot read %s: it is a symbolic link (replace it with the file)",
				       path);
		return nk_syserr(e, errno, "cannot read %s", path);
	}
	if (fstat(fd, &rs) < 0)
		return nk_syserr(e, errno, "cannot read %s", path);
	if ((r = not_regular(path, &rs, max, e)) < 0)
		return r;
	if (rs.st_dev != ps.st_dev || rs.st_ino != ps.st_ino)
		return nk_errf(e, EAGAIN, "cannot read %s: it was replaced while being opened (try again)",
			       path);
	if ((r = read_capped(fd, path, (size_t)rs.st_size, max, &b, &n, e)) < 0)
		return r;
	b[n] = '\0';
	if (st)
		*st = rs;
	*len = n;
	*buf = nk_steal(&b);
	return 0;
}
