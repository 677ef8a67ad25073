#include <string.h>
#include <fcntl.h>
#include <signal.h>   /* kill(pid, 0) */
#include <shadow.h>
#include <sys/stat.h>
#include <time.h>
#include "paths.h"
#include "subidfile.h"
#include "cfgfile.h"
#include "num.h"
#include "util.h"

static ssize_t io_write(int fd, const void *buf, size_t len) { return write(fd, buf, len); }
static int io_fsync(int fd) { return fsync(fd); }
static int io_renameat(int d, const char *a, int d2, const char *b) { return renameat(d, a, d2, b); }
static int io_linkat(int d, const char *a, int d2, const char *b, int fl) { return linkat(d, a, d2, b, fl); }

struct nk_sf_io nk_sf_io = { io_write, io_fsync, io_renameat, io_linkat };

/* --- parsing -------------------------------------------------------------- */

static int parse_num(const char *s, size_t len, uint64_t *out)
{
	char buf[32];

	if (len == 0 || len >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return nk_parse_u64(buf, UINT64_MAX, out);
}

static void add_how(char *how, size_t howlen, const char *what)
{
	size_t n = strlen(how);

	snprintf(how + n, howlen - n, "%s%s", n ? ", " : "", what);
}

int nk_sf_shadow_num(const char *s, size_t len, uint64_t *v, char *how, size_t howlen)
{
	char buf[1024], *end;
	const char *p;
	unsigned long val;

	if (howlen)
		how[0] = '\0';
	/* shadow's getulong(): strtoul(s, &end, 0), the whole field, no error.
	 * strtoul is used on purpose here: it is what shadow runs. */
	if (len == 0 || len >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	val = strtoul(buf, &end, 0);
	if (*end != '\0' || errno != 0 || end == buf)
		return -EINVAL;
	*v = val;
	p = buf;
	if (*p == ' ' || (*p >= '\t' && *p <= '\r')) {
		add_how(how, howlen, "leading blank");
		while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
			p++;
	}
	if (*p == '+')
		add_how(how, howlen, "plus sign");
	else if (*p == '-')
		add_how(how, howlen, "minus sign");
	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		add_how(how, howlen, "hexadecimal");
	else if (p[0] == '0' && p[1] != '\0')
		add_how(how, howlen, "octal");
	return 0;
}

/* subordinate_parse() of shadow 4.13 after commonio's NIS check: lines
 * under 1024 bytes, not starting with '+' or '-', split at the first two
 * colons, the third field ending at the next colon, no field empty. */
static void shadow_parse(const char *text, struct nk_sf_line *l)
{
	const char *c1, *c2, *c3, *end;
	char how[64];

	l->sh_ok = 0;
	if (strlen(text) >= 1024 || text[0] == '+' || text[0] == '-')
		return;
	c1 = strchr(text, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || c1 == text)
		return;
	c3 = strchr(c2 + 1, ':');
	end = c3 ? c3 : c2 + 1 + strlen(c2 + 1);
	if (nk_sf_shadow_num(c1 + 1, (size_t)(c2 - c1 - 1), &l->sh_start, how, sizeof how) < 0 ||
	    nk_sf_shadow_num(c2 + 1, (size_t)(end - c2 - 1), &l->sh_count, how, sizeof how) < 0)
		return;
	l->sh_ok = 1;
}

int nk_sf_parse_line(const char *text, struct nk_sf_line *l)
{
	const char *c1, *c2, *c3, *end = text + strlen(text);
	const char *p = text;

	memset(l, 0, sizeof *l);
	l->text = strdup(text);
	if (!l->text)
		return -ENOMEM;
	shadow_parse(text, l);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		l->kind = NK_SF_BLANK;
		return 0;
	}
	if (*p == '#') {
		l->kind = NK_SF_COMMENT;
		return 0;
	}
	l->kind = NK_SF_BAD;
	c1 = strchr(text, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	c3 = c2 ? strchr(c2 + 1, ':') : NULL;
	l->owner = strndup(text, c1 ? (size_t)(c1 - text) : strlen(text));
	if (!l->owner)
		return -ENOMEM;
	if (!c2) {
		l->why = "not owner:start:count";
		return 0;
	}
	if (parse_num(c1 + 1, (size_t)(c2 - c1 - 1), &l->start) < 0 ||
	    parse_num(c2 + 1, (size_t)((c3 ? c3 : end) - c2 - 1), &l->count) < 0) {
		l->why = "start or count is not a decimal number";
		return 0;
	}
	if (l->count > 0)
		l->has_range = 1;
	if (c3) {
		l->why = "more than three fields";
		return 0;
	}
	if (l->owner[0] == '\0') {
		l->why = "empty owner";
		return 0;
	}
	if (strpbrk(l->owner, " \t")) {
		l->why = "blank in the owner";
		return 0;
	}
	if (l->count == 0) {
		l->why = "count is 0";
		return 0;
	}
	l->kind = NK_SF_RANGE;
	return 0;
}

static void line_free(struct nk_sf_line *l)
{
	free(l->text);
	free(l->owner);
}

void nk_sf_free(struct nk_sf *f)
{
	if (f->locked)
		nk_sf_unlock(f);
	for (size_t i = 0; i < f->n; i++)
		line_free(&f->lines[i]);
	free(f->lines);
	free(f->path);
	free(f->name);
	if (f->have_dfd)
		close(f->dfd);
	memset(f, 0, sizeof *f);
}

static int grow(struct nk_sf *f)
{
	return nk_grow(&f->lines, f->n, &f->cap, sizeof *f->lines, 64);
}

int nk_sf_parse(struct nk_sf *f, const char *path, const char *buf, size_t len,
		struct nk_err *e)
{
	const char *p = buf, *end = buf + len;
	NK_AUTOFREE char *tmp = NULL;
	size_t tmpcap = 0;
	unsigned lineno = 0;

	if (!f->path)
		f->path = strdup(path);
	if (!f->path)
		return nk_syserr(e, ENOMEM, "cannot read %s", path);
	f->final_newline = len == 0 || buf[len - 1] == '\n';
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((eol ? eol : end) - p);

		if (l + 1 > tmpcap) {
			char *t = realloc(tmp, l + 1);
			if (!t)
				return nk_syserr(e, ENOMEM, "cannot read %s", path);
			tmp = t;
			tmpcap = l + 1;
		}
		memcpy(tmp, p, l);
		tmp[l] = '\0';
		if (memchr(p, '\0', l))
			return nk_errf(e, EINVAL, "cannot read %s: NUL byte on line %u",
				       path, lineno + 1);
		if (grow(f) < 0 || nk_sf_parse_line(tmp, &f->lines[f->n]) < 0)
			return nk_syserr(e, ENOMEM, "cannot read %s", path);
		f->lines[f->n].lineno = ++lineno;
		f->n++;
		p = eol ? eol + 1 : end;
	}
	return 0;
}

int nk_sf_opendir(const char *root, int *fd, struct nk_err *e)
{
	return nk_cfg_opendir(root, fd, e);
}

int nk_sf_init_at(struct nk_sf *f, int dfd, const char *name, const char *path,
		  struct nk_err *e)
{
	memset(f, 0, sizeof *f);
	f->final_newline = 1;
	f->dfd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	if (f->dfd < 0)
		return nk_syserr(e, errno, "cannot open the folder of %s", path);
	f->have_dfd = 1;
	f->name = strdup(name);
	f->path = strdup(path);
	if (!f->name || !f->path)
		return nk_syserr(e, ENOMEM, "cannot read %s", path);
	return 0;
}

static void lines_free(struct nk_sf *f)
{
	for (size_t i = 0; i < f->n; i++)
		line_free(&f->lines[i]);
	free(f->lines);
	f->lines = NULL;
	f->n = f->cap = 0;
}

int nk_sf_read(struct nk_sf *f, struct nk_err *e)
{
	NK_AUTOFREE char *buf = NULL;
	size_t len = 0;
	int r;

	lines_free(f);
	f->exists = 0;
	f->final_newline = 1;
	f->changed = 0;
	/* Never a link, even in the real /etc: the file is replaced by
	 * rename, and a link there would be written through. */
	r = nk_cfg_read_at(f->dfd, f->name, f->path, f->cfg_flags, NK_CFG_MAX_DB, &buf, &len, &f->st, e);
	if (r == -ENOENT) {
		nk_err_clear(e);
		return 0;
	}
	if (r < 0)
		return r;
	f->exists = 1;
	return nk_sf_parse(f, f->path, buf, len, e);
}

int nk_sf_load(struct nk_sf *f, const char *path, struct nk_err *e)
{
	NK_AUTOFREE char *name = NULL;
	NK_AUTOCLOSE int dfd = -1;

	memset(f, 0, sizeof *f);
	if (nk_cfg_open_parent(path, O_RDONLY, &dfd, &name, e) < 0)
		return -e->code;
	if (dfd < 0) {
		f->final_newline = 1;
		f->path = strdup(path);
		return f->path ? 0 : nk_syserr(e, ENOMEM, "cannot read %s", path);
	}
	if (nk_sf_init_at(f, dfd, name, path, e) < 0)
		return -e->code;
	return nk_sf_read(f, e);
}

int nk_sf_line_agreed(const struct nk_sf_line *l)
{
	return l->kind == NK_SF_RANGE && !l->removed && l->sh_ok && l->sh_start == l->start &&
	       l->sh_count == l->count;
}

int nk_sf_line_is(const struct nk_sf_line *l, const char *name, uint32_t uid)
{
	char num[16];

	if (l->removed || !l->owner || l->kind == NK_SF_COMMENT || l->kind == NK_SF_BLANK)
		return 0;
	if (strcmp(l->owner, name) == 0)
		return 1;
	snprintf(num, sizeof num, "%u", uid);
	return strcmp(l->owner, num) == 0;
}

int nk_sf_reserve(struct nk_sf *f, size_t extra)
{
	struct nk_sf_line *l;

	if (f->cap - f->n >= extra)
		return 0;
	l = realloc(f->lines, (f->n + extra) * sizeof *l);
	if (!l)
		return -ENOMEM;
	f->lines = l;
	f->cap = f->n + extra;
	return 0;
}

int nk_sf_add(struct nk_sf *f, const char *owner, uint64_t start, uint64_t count)
{
	struct nk_sf_line *l;

	if (grow(f) < 0)
		return -ENOMEM;
	l = &f->lines[f->n];
	memset(l, 0, sizeof *l);
	l->owner = strdup(owner);
	if (!l->owner)
		return -ENOMEM;
	l->start = start;
	l->count = count;
	l->has_range = 1;
	l->kind = NK_SF_RANGE;
	f->n++;
	f->changed = 1;
	return 0;
}

size_t nk_sf_remove_user(struct nk_sf *f, const char *name, uint32_t uid)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->lines[i].has_range && nk_sf_line_is(&f->lines[i], name, uid)) {
			f->lines[i].removed = 1;
			n++;
		}
	if (n)
		f->changed = 1;
	return n;
}

char *nk_sf_render(const struct nk_sf *f, size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);

	if (!m)
		return NULL;
	for (size_t i = 0; i < f->n; i++) {
		const struct nk_sf_line *l = &f->lines[i];
		if (l->removed)
			continue;
		if (l->text)
			fprintf(m, "%s\n", l->text);
		else
			fprintf(m, "%s:%llu:%llu\n", l->owner, (unsigned long long)l->start,
				(unsigned long long)l->count);
	}
	/* A last line without newline stays without one when nothing follows
	 * it; once something is appended, it needs its newline. */
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	if (!f->final_newline && *len > 0 && f->n > 0 && !f->lines[f->n - 1].removed &&
	    f->lines[f->n - 1].text)
		buf[--*len] = '\0';
	return buf;
}

/* --- writing ------------------------------------------------------------- */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t r = nk_sf_io.write(fd, buf, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

static int sibling(const struct nk_sf *f, const char *suffix, char **out)
{
	return asprintf(out, "%s%s", f->name, suffix) < 0 ? -ENOMEM : 0;
}

/* Write FILE+ (a new file: a stale one is removed first), fsynced. */
static int prepare(struct nk_sf *f, struct nk_err *e)
{
	NK_AUTOFREE char *buf = NULL, *tmp = NULL, *tpath = NULL;
	NK_AUTOCLOSE int fd = -1;
	size_t len = 0;
	int r;

	if (!f->have_dfd)
		return nk_syserr(e, ENOENT, "cannot write %s", f->path);
	buf = nk_sf_render(f, &len);
	if (!buf || sibling(f, "+", &tmp) < 0 || asprintf(&tpath, "%s+", f->path) < 0)
		return nk_syserr(e, ENOMEM, "cannot write %s", f->path);
	if (unlinkat(f->dfd, tmp, 0) < 0 && errno != ENOENT)
		return nk_syserr(e, errno, "cannot remove the stale %s", tpath);
	fd = openat(f->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return nk_syserr(e, errno, "cannot write %s", tpath);
	/* Owner and mode of the file we replace (0644 root for a new one, as
	 * useradd creates it). */
	if (fchown(fd, f->exists ? f->st.st_uid : 0, f->exists ? f->st.st_gid : 0) < 0 &&
	    (f->exists || geteuid() == 0)) {
		r = nk_syserr(e, errno, "cannot write %s: cannot set owner", tpath);
		goto fail;
	}
	if (fchmod(fd, f->exists ? (f->st.st_mode & 07777) : 0644) < 0) {
		r = nk_syserr(e, errno, "cannot write %s: cannot set mode", tpath);
		goto fail;
	}
	r = write_all(fd, buf, len);
	if (r < 0) {
		r = nk_syserr(e, -r, "cannot write %s", tpath);
		goto fail;
	}
	if (nk_sf_io.fsync(fd) < 0) {
		r = nk_syserr(e, errno, "cannot write %s: fsync", tpath);
		goto fail;
	}
	if (close(nk_steal_fd(&fd)) < 0) {
		r = nk_syserr(e, errno, "cannot write %s", tpath);
		goto fail;
	}
	f->prepared = 1;
	return 0;
fail:
	unlinkat(f->dfd, tmp, 0);
	return r;
}

static void unprepare(struct nk_sf *f)
{
	NK_AUTOFREE char *tmp = NULL;

	if (f->prepared && sibling(f, "+", &tmp) == 0)
		unlinkat(f->dfd, tmp, 0);
	f->prepared = 0;
}

/* The previous version becomes FILE- (a hard link: no copy, and the old
 * inode stays whole whatever happens next), FILE+ becomes FILE. */
static int commit(struct nk_sf *f, struct nk_err *e)
{
	NK_AUTOFREE char *tmp = NULL, *bak = NULL;

	if (sibling(f, "+", &tmp) < 0 || sibling(f, "-", &bak) < 0)
		return nk_syserr(e, ENOMEM, "cannot write %s", f->path);
	if (f->exists) {
		if (unlinkat(f->dfd, bak, 0) < 0 && errno != ENOENT)
			return nk_syserr(e, errno, "cannot replace backup %s-", f->path);
		if (nk_sf_io.linkat(f->dfd, f->name, f->dfd, bak, 0) < 0)
			return nk_syserr(e, errno, "cannot keep backup %s-", f->path);
	}
	if (nk_sf_io.renameat(f->dfd, tmp, f->dfd, f->name) < 0)
		return nk_syserr(e, errno, "cannot rename %s+ to %s", f->path, f->path);
	f->prepared = 0;
	f->replaced = 1;
	if (nk_sf_io.fsync(f->dfd) < 0)
		return nk_syserr(e, errno, "cannot sync the folder of %s", f->path);
	return 0;
}

/* Undo a commit: FILE- linked to FILE+ and renamed over FILE (FILE- stays),
 * or FILE removed when there was none. */
static void restore(struct nk_sf *f)
{
	NK_AUTOFREE char *tmp = NULL, *bak = NULL;

	if (!f->replaced || sibling(f, "+", &tmp) < 0 || sibling(f, "-", &bak) < 0)
		return;
	if (!f->exists) {
		unlinkat(f->dfd, f->name, 0);
	} else {
		unlinkat(f->dfd, tmp, 0);
		if (linkat(f->dfd, bak, f->dfd, tmp, 0) < 0)
			return;
		if (renameat(f->dfd, tmp, f->dfd, f->name) < 0) {
			unlinkat(f->dfd, tmp, 0);
			return;
		}
	}
	fsync(f->dfd);
	f->replaced = 0;
}

int nk_sf_write2(struct nk_sf *a, struct nk_sf *b, struct nk_err *e)
{
	struct nk_sf *v[2] = { a && a->changed ? a : NULL, b && b->changed ? b : NULL };
	int r = 0;

	for (int i = 0; i < 2 && r == 0; i++)
		if (v[i])
			r = prepare(v[i], e);
	for (int i = 0; i < 2 && r == 0; i++)
		if (v[i]) {
			v[i]->replaced = 0;
			r = commit(v[i], e);
		}
	if (r < 0) {
		for (int i = 0; i < 2; i++)
			if (v[i]) {
				unprepare(v[i]);
				restore(v[i]);
			}
		return r;
	}
	for (int i = 0; i < 2; i++)
		if (v[i]) {
			v[i]->changed = 0;
			v[i]->replaced = 0;
		}
	return 0;
}

int nk_sf_write(struct nk_sf *f, struct nk_err *e)
{
	return nk_sf_write2(f, NULL, e);
}

/* --- locking -------------------------------------------------------------- */

/* ROOT/etc/.pwd.lock: an existing regular file, or a new one (O_EXCL);
 * never a link. It is not removed afterwards: others lock the same inode. */
static int open_pwlock(int etcfd)
{
	struct stat st;

	for (int i = 0; i < 10; i++) {
		int fd = openat(etcfd, ".pwd.lock",
				O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			fd = openat(etcfd, ".pwd.lock",
				    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
				    0600);
		if (fd < 0 && errno == EEXIST)
			continue;   /* created by someone else meanwhile */
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return -EINVAL;
		}
		return fd;
	}
	return -EEXIST;
}

/* glibc's lckpwdf() takes a blocking fcntl lock and gives up after 15 s,
 * with alarm(2) and a SIGALRM handler. libnskit installs no handler (the
 * map writers are clone(CLONE_VM) children sharing our memory): the lock
 * is tried without blocking, every 10 ms, for as long. EAGAIN when it
 * stays taken. */
static int setlk_wait(int fd, struct flock *fl, int seconds)
{
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	for (;;) {
		if (fcntl(fd, F_SETLK, fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -errno;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return -EAGAIN;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
}

int nk_pwlock(const char *root, int etcfd, int *fd, struct nk_err *e)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int r;

	*fd = -1;
	if (!root) {
		if (lckpwdf() < 0)
			return nk_syserr(e, errno ? errno : EAGAIN,
					 "cannot lock the password files (/etc/.pwd.lock)");
		return 0;
	}
	r = open_pwlock(etcfd);
	if (r == -ELOOP)
		return nk_errf(e, ELOOP, "cannot lock %s/etc/.pwd.lock: it is a symbolic link (remove it)",
			       root);
	if (r == -EINVAL)
		return nk_errf(e, EINVAL, "cannot lock %s/etc/.pwd.lock: not a regular file (remove it)",
			       root);
	if (r < 0)
		return nk_syserr(e, -r, "cannot lock %s/etc/.pwd.lock", root);
	*fd = r;
	r = setlk_wait(*fd, &fl, 15);
	if (r < 0) {
		close(*fd);
		*fd = -1;
		return nk_syserr(e, -r, "cannot lock %s/etc/.pwd.lock", root);
	}
	return 0;
}

void nk_pwunlock(int fd)
{
	if (fd >= 0)
		close(fd);
	else
		ulckpwdf();
}

/* One attempt of shadow's do_lock_file() in the folder DFD: 1 taken, 0 busy
 * (*holder set), negative errno. FILE (FILE.PID) is created new: a stale
 * one (a dead process with our pid) is removed first. */
static int lock_once(int dfd, const char *file, const char *lock, pid_t *holder)
{
	char buf[32];
	struct stat st;
	int fd, len;
	ssize_t r;
	pid_t pid;

	*holder = 0;
	if (unlinkat(dfd, file, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dfd, file, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof buf, "%lu", (unsigned long)getpid());
	if (write(fd, buf, (size_t)len) != len || close(fd) < 0) {
		int err = errno ? errno : EIO;
		unlinkat(dfd, file, 0);
		return -err;
	}
	if (linkat(dfd, file, dfd, lock, 0) == 0) {
		int ok = fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_nlink == 2;
		unlinkat(dfd, file, 0);
		return ok ? 1 : -EBUSY;
	}
	if (errno != EEXIST) {
		int err = errno;
		unlinkat(dfd, file, 0);
		return -err;
	}
	fd = openat(dfd, lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		unlinkat(dfd, file, 0);
		if (err == ELOOP)
			return -ENOLCK;
		return err == ENOENT ? 0 : -err;  /* just released: retry */
	}
	r = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof buf - 1) : -1;
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
		buf[--r] = '\0';
	if (r <= 0 || nk_parse_pid(buf, &pid) < 0) {
		unlinkat(dfd, file, 0);
		return -ENOLCK;
	}
	if (kill(pid, 0) == 0 || errno != ESRCH) {
		*holder = pid;
		unlinkat(dfd, file, 0);
		return 0;
	}
	/* The holder is dead: the lock is stale (shadow removes it too). */
	if (unlinkat(dfd, lock, 0) < 0 && errno != ENOENT) {
		int err = errno;
		unlinkat(dfd, file, 0);
		return -err;
	}
	if (linkat(dfd, file, dfd, lock, 0) == 0) {
		int ok = fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_nlink == 2;
		unlinkat(dfd, file, 0);
		return ok ? 1 : -EBUSY;
	}
	unlinkat(dfd, file, 0);
	return 0;
}

int nk_sf_lock(struct nk_sf *f, int tries, struct nk_err *e)
{
	NK_AUTOFREE char *file = NULL, *lock = NULL;
	const char *path = f->path;
	pid_t holder = 0;

	if (!f->have_dfd)
		return nk_syserr(e, ENOENT, "cannot lock %s", path);
	if (asprintf(&file, "%s.%lu", f->name, (unsigned long)getpid()) < 0 ||
	    asprintf(&lock, "%s.lock", f->name) < 0)
		return nk_syserr(e, ENOMEM, "cannot lock %s", path);
	for (int i = 0; i < tries; i++) {
		int r = lock_once(f->dfd, file, lock, &holder);
		if (r == 1) {
			f->locked = 1;
			return 0;
		}
		if (r == -ENOLCK)
			return nk_errf(e, ENOLCK, "cannot lock %s: %s.lock holds no valid pid (remove it if no useradd or usermod runs)",
				       path, path);
		if (r == -ELOOP)
			return nk_errf(e, ELOOP, "cannot lock %s: %s.%lu is a symbolic link (remove it)",
				       path, path, (unsigned long)getpid());
		if (r < 0)
			return nk_syserr(e, -r, "cannot lock %s", path);
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	return nk_errf(e, EBUSY, "cannot lock %s: locked by process %ld (%s.lock) (try again when it is done)",
		       path, (long)holder, path);
}

void nk_sf_unlock(struct nk_sf *f)
{
	NK_AUTOFREE char *lock = NULL;

	if (!f->locked || !f->have_dfd)
		return;
	if (asprintf(&lock, "%s.lock", f->name) >= 0)
		unlinkat(f->dfd, lock, 0);
	f->locked = 0;
}
