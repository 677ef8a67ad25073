#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <linux/openat2.h>
#include "walk.h"

/* An open directory: its fd stays open while children wait to be opened
 * from it. */
struct node {
	int fd;
	atomic_int refs;
	char *path;
};

struct item {
	struct node *parent;
	char *name;
};

struct walk {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *stack;
	size_t n, cap;
	unsigned busy;          /* workers holding a directory */
	int failed;             /* out of memory: stop */
	dev_t dev;
	nk_walk_fn fn;
	nk_walk_err_fn errfn;
	void *ctx;
	atomic_uint_fast64_t entries, dirs, mounts, errors;
};

static void node_put(struct node *nd)
{
	if (atomic_fetch_sub(&nd->refs, 1) == 1) {
		close(nd->fd);
		free(nd->path);
		free(nd);
	}
}

static int have_openat2 = 1;

int nk_walk_open_dir(int dirfd, const char *name, dev_t dev)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd;

	if (__atomic_load_n(&have_openat2, __ATOMIC_RELAXED)) {
		fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS)
			return -errno;
		__atomic_store_n(&have_openat2, 0, __ATOMIC_RELAXED);
	}
	/* Before Linux 5.6: a single name component, no symlink followed
	 * (O_NOFOLLOW), and the device checked after the open. */
	if (strchr(name, '/'))
		return -EXDEV;
	fd = openat(dirfd, name, (int)how.flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_dev != dev) {
		int r = errno && st.st_dev == dev ? -errno : -EXDEV;

		close(fd);
		return r;
	}
	return fd;
}

static void report(struct walk *w, const char *dir, const char *name, struct nk_err *e)
{
	char path[4096];

	atomic_fetch_add(&w->errors, 1);
	if (!w->errfn)
		return;
	if (name && strcmp(name, ".") != 0)
		snprintf(path, sizeof path, "%s/%s", dir, name);
	else
		snprintf(path, sizeof path, "%s", dir);
	pthread_mutex_lock(&w->lock);
	w->errfn(w->ctx, path, e);
	pthread_mutex_unlock(&w->lock);
}

static int push(struct walk *w, struct node *parent, const char *name)
{
	char *n = strdup(name);

	if (!n)
		return -ENOMEM;
	atomic_fetch_add(&parent->refs, 1);
	pthread_mutex_lock(&w->lock);
	if (nk_grow(&w->stack, w->n, &w->cap, sizeof *w->stack, 64) < 0) {
		pthread_mutex_unlock(&w->lock);
		atomic_fetch_sub(&parent->refs, 1);
		free(n);
		return -ENOMEM;
	}
	w->stack[w->n++] = (struct item){ parent, n };
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Read directory ND and hand every entry to the callback. Returns the
 * entries handed (counted once a directory: a shared counter bumped at
 * every file would bounce between the workers). */
static uint64_t list_entries(struct walk *w, struct node *nd)
{
	char buf[32768] __attribute__((aligned(8)));
	struct nk_walk_entry ent = { .dirfd = nd->fd, .dirpath = nd->path };
	struct nk_err e;
	uint64_t n = 0;

	for (;;) {
		long len = syscall(SYS_getdents64, nd->fd, buf, sizeof buf);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			nk_syserr(&e, errno, "cannot read directory '%s'", nd->path);
			report(w, nd->path, NULL, &e);
			return n;
		}
		if (len == 0)
			return n;
		for (long off = 0; off < len;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);

			off += d->d_reclen;
			if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
				continue;
			if (fstatat(nd->fd, d->d_name, &ent.st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					continue;     /* gone since the listing */
				nk_syserr(&e, errno, "cannot stat '%s/%s'", nd->path, d->d_name);
				report(w, nd->path, d->d_name, &e);
				continue;
			}
			if (S_ISDIR(ent.st.st_mode) && ent.st.st_dev != w->dev) {
				atomic_fetch_add(&w->mounts, 1);
				continue;
			}
			n++;
			ent.name = d->d_name;
			if (w->fn(w->ctx, &ent, &e) < 0)
				report(w, nd->path, d->d_name, &e);
			if (S_ISDIR(ent.st.st_mode) && push(w, nd, d->d_name) < 0) {
				pthread_mutex_lock(&w->lock);
				w->failed = ENOMEM;
				pthread_cond_broadcast(&w->cond);
				pthread_mutex_unlock(&w->lock);
				return n;
			}
		}
	}
}

static void list_dir(struct walk *w, struct node *nd)
{
	atomic_fetch_add(&w->entries, list_entries(w, nd));
}

static void *worker(void *arg)
{
	struct walk *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct item it;
		struct node *nd;
		struct nk_err e;
		int fd;
		size_t plen;

		while (w->n == 0 && w->busy > 0 && !w->failed)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->n == 0 || w->failed) {
			pthread_cond_broadcast(&w->cond);
			break;
		}
		it = w->stack[--w->n];
		w->busy++;
		pthread_mutex_unlock(&w->lock);

		fd = nk_walk_open_dir(it.parent->fd, it.name, w->dev);
		nd = NULL;
		if (fd >= 0 && (nd = calloc(1, sizeof *nd))) {
			plen = strlen(it.parent->path) + strlen(it.name) + 2;
			nd->path = malloc(plen);
			if (nd->path) {
				snprintf(nd->path, plen, "%s/%s", it.parent->path, it.name);
				nd->fd = fd;
				atomic_init(&nd->refs, 1);
			} else {
				free(nd);
				nd = NULL;
			}
		}
		if (fd < 0) {
			if (fd == -EXDEV)
				atomic_fetch_add(&w->mounts, 1);
			else if (fd != -ENOENT) {
				nk_syserr(&e, -fd, "cannot open directory '%s/%s'", it.parent->path, it.name);
				report(w, it.parent->path, it.name, &e);
			}
		} else if (!nd) {
			close(fd);
			pthread_mutex_lock(&w->lock);
			w->failed = ENOMEM;
			pthread_mutex_unlock(&w->lock);
		}
		node_put(it.parent);
		free(it.name);
		if (nd) {
			atomic_fetch_add(&w->dirs, 1);
			list_dir(w, nd);
			node_put(nd);
		}
		pthread_mutex_lock(&w->lock);
		w->busy--;
		if (w->n == 0 && w->busy == 0)
			pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int nk_walk(int rootfd, const char *rootpath, unsigned threads, nk_walk_fn fn,
	    nk_walk_err_fn errfn, void *ctx, struct nk_walk_stats *stats, struct nk_err *e)
{
	struct walk w;
	struct node *top;
	struct nk_walk_entry ent;
	pthread_t *tid;
	unsigned started = 0;
	int fd;

	memset(&w, 0, sizeof w);
	memset(stats, 0, sizeof *stats);
	if (fstat(rootfd, &ent.st) < 0)
		return nk_syserr(e, errno, "cannot stat '%s'", rootpath);
	if (!S_ISDIR(ent.st.st_mode))
		return nk_errf(e, ENOTDIR, "'%s' is not a directory", rootpath);
	if (threads == 0)
		threads = 1;
	w.dev = ent.st.st_dev;
	w.fn = fn;
	w.errfn = errfn;
	w.ctx = ctx;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);

	/* The top directory: its own entry, then its contents. */
	/* A description of its own: a dup would share the directory offset. */
	if ((fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nk_syserr(e, errno, "cannot open '%s'", rootpath);
	if (!(top = calloc(1, sizeof *top)) || !(top->path = strdup(rootpath))) {
		free(top);
		close(fd);
		return nk_errf(e, ENOMEM, "out of memory");
	}
	top->fd = fd;
	atomic_init(&top->refs, 1);
	ent.dirfd = fd;
	ent.name = ".";
	ent.dirpath = rootpath;
	atomic_fetch_add(&w.entries, 1);
	atomic_fetch_add(&w.dirs, 1);
	{
		struct nk_err ce;

		if (fn(ctx, &ent, &ce) < 0)
			report(&w, rootpath, NULL, &ce);
	}
	w.busy = 1;
	list_dir(&w, top);
	node_put(top);
	w.busy = 0;

	tid = calloc(threads, sizeof *tid);
	if (tid)
		for (; started < threads - 1; started++)
			if (pthread_create(&tid[started], NULL, worker, &w) != 0)
				break;
	worker(&w);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
	/* Whatever is left (only after a failure) is released. */
	for (size_t i = 0; i < w.n; i++) {
		node_put(w.stack[i].parent);
		free(w.stack[i].name);
	}
	free(w.stack);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	stats->entries = w.entries;
	stats->dirs = w.dirs;
	stats->mounts_skipped = w.mounts;
	stats->errors = w.errors;
	if (w.failed)
		return nk_errf(e, ENOMEM, "out of memory walking '%s'", rootpath);
	return 0;
}

/* include/uapi/linux/xattr.h, Linux 6.13; the numbers are the same on
 * every architecture that has them (the unified syscall table). */
struct nk_xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};
#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#define SYS_getxattrat 464
#define SYS_listxattrat 465
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static int have_xattrat = 1, have_fchmodat2 = 1;

static void proc_path(char *buf, size_t len, int dirfd, const char *name)
{
	snprintf(buf, len, "/proc/self/fd/%d/%s", dirfd, name);
}

ssize_t nk_getxattr_at(int dirfd, const char *name, const char *attr, void *buf, size_t size)
{
	char path[4200];

	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED)) {
		struct nk_xattr_args a = { (uint64_t)(uintptr_t)buf, (uint32_t)size, 0 };
		long r = syscall(SYS_getxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr, &a, sizeof a);

		if (r >= 0 || errno != ENOSYS)
			return r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	proc_path(path, sizeof path, dirfd, name);
	return lgetxattr(path, attr, buf, size);
}

ssize_t nk_listxattr_at(int dirfd, const char *name, char *buf, size_t size)
{
	char path[4200];

	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED)) {
		long r = syscall(SYS_listxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, buf, size);

		if (r >= 0 || errno != ENOSYS)
			return r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	proc_path(path, sizeof path, dirfd, name);
	return llistxattr(path, buf, size);
}

int nk_setxattr_at(int dirfd, const char *name, const char *attr, const void *buf, size_t size)
{
	char path[4200];

	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED)) {
		struct nk_xattr_args a = { (uint64_t)(uintptr_t)buf, (uint32_t)size, 0 };
		long r = syscall(SYS_setxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr, &a, sizeof a);

		if (r >= 0 || errno != ENOSYS)
			return (int)r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	proc_path(path, sizeof path, dirfd, name);
	return lsetxattr(path, attr, buf, size, 0);
}

int nk_chmod_at(int dirfd, const char *name, mode_t mode)
{
	if (__atomic_load_n(&have_fchmodat2, __ATOMIC_RELAXED)) {
		long r = syscall(SYS_fchmodat2, dirfd, name, mode, AT_SYMLINK_NOFOLLOW);

		if (r >= 0 || errno != ENOSYS)
			return (int)r;
		__atomic_store_n(&have_fchmodat2, 0, __ATOMIC_RELAXED);
	}
	return fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW);
}
