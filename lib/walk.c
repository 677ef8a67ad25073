#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <linux/openat2.h>
#include "walk.h"
#include "util.h"

/* An open directory: its fd stays open while children wait to be opened
 * from it. */
struct node {
	int fd;
	atomic_int refs;
	int byname;             /* its non-directories are handed by name (NK_WALK_BYNAME) */
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
	atomic_int stop;        /* a callback asked to stop */
	int flags;
	dev_t dev;
	uint64_t mnt_id;        /* of the top (0: unknown) */
	nk_walk_fn fn;
	nk_walk_err_fn errfn;
	void *ctx;
	atomic_uint_fast64_t entries, dirs, mounts, errors;
	/* The directories handed so far (inode numbers: one mount), so that
	 * one renamed during the walk to a name not listed yet is not handed
	 * twice. */
	pthread_mutex_t seen_lock;
	uint64_t *seen, *seen_bt;       /* inode number, birth time (ns; 0: none) */
	size_t nseen, seen_cap;
	int seen_zero;
};

/* Add directory inode INO, born at BT, to the ones handed: 1 when it is
 * new, 0 when it was handed before, -ENOMEM. Another directory that took
 * the number (another birth time) is new. An open-addressed table, half
 * full at most. */
static int seen_add(struct walk *w, uint64_t ino, uint64_t bt)
{
	int r = 1;

	pthread_mutex_lock(&w->seen_lock);
	if (ino == 0) {
		r = !w->seen_zero;
		w->seen_zero = 1;
		goto out;
	}
	if (2 * (w->nseen + 1) > w->seen_cap) {
		size_t cap = w->seen_cap ? 2 * w->seen_cap : 1024;
		uint64_t *t = calloc(cap, sizeof *t), *tb = calloc(cap, sizeof *tb);

		if (!t || !tb) {
			free(t);
			free(tb);
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < w->seen_cap; i++)
			if (w->seen[i]) {
				size_t j = (size_t)(w->seen[i] * 0x9E3779B97F4A7C15ULL) & (cap - 1);

				while (t[j])
					j = (j + 1) & (cap - 1);
				t[j] = w->seen[i];
				tb[j] = w->seen_bt[i];
			}
		free(w->seen);
		free(w->seen_bt);
		w->seen = t;
		w->seen_bt = tb;
		w->seen_cap = cap;
	}
	for (size_t j = (size_t)(ino * 0x9E3779B97F4A7C15ULL) & (w->seen_cap - 1);; j = (j + 1) & (w->seen_cap - 1)) {
		if (w->seen[j] == ino) {
			r = w->seen_bt[j] != bt;
			w->seen_bt[j] = bt;
			break;
		}
		if (!w->seen[j]) {
			w->seen[j] = ino;
			w->seen_bt[j] = bt;
			w->nseen++;
			break;
		}
	}
out:
	pthread_mutex_unlock(&w->seen_lock);
	return r;
}

static void node_put(struct node *nd)
{
	if (atomic_fetch_sub(&nd->refs, 1) == 1) {
		close(nd->fd);
		free(nd->path);
		free(nd);
	}
}

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

/* The statx NAME of DIRFD (NAME "": DIRFD itself), never following a
 * symlink or an automount, as a struct stat. */
static int stat_at(int dirfd, const char *name, struct stat *st, struct timespec *btime, int *has_btime,
		   uint64_t *mnt_id)
{
	struct statx x;
	int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT | (*name ? 0 : AT_EMPTY_PATH);

	if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID, &x) < 0)
		return -errno;
	memset(st, 0, sizeof *st);
	st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
	st->st_ino = x.stx_ino;
	st->st_mode = x.stx_mode;
	st->st_nlink = x.stx_nlink;
	st->st_uid = x.stx_uid;
	st->st_gid = x.stx_gid;
	st->st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
	st->st_size = (off_t)x.stx_size;
	st->st_blksize = (blksize_t)x.stx_blksize;
	st->st_blocks = (blkcnt_t)x.stx_blocks;
	st->st_atim = (struct timespec){ x.stx_atime.tv_sec, x.stx_atime.tv_nsec };
	st->st_mtim = (struct timespec){ x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec };
	st->st_ctim = (struct timespec){ x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec };
	if (btime) {
		*has_btime = (x.stx_mask & STATX_BTIME) != 0;
		*btime = *has_btime ? (struct timespec){ x.stx_btime.tv_sec, x.stx_btime.tv_nsec }
				    : (struct timespec){ 0, 0 };
	}
	if (mnt_id)
		*mnt_id = (x.stx_mask & STATX_MNT_ID) ? x.stx_mnt_id : 0;
	return 0;
}

int nk_fd_stat(int fd, struct stat *st, struct timespec *btime, int *has_btime, uint64_t *mnt_id)
{
	return stat_at(fd, "", st, btime, has_btime, mnt_id);
}

/* FD (just opened beneath the tree) is on the tree's mount: 1, 0 when it
 * is on another one, -errno. */
static int same_mount(int fd, uint64_t mnt_id, dev_t dev)
{
	struct stat st;
	uint64_t m;
	int r = nk_fd_stat(fd, &st, NULL, NULL, &m);

	if (r < 0)
		return r;
	if (mnt_id && m)
		return m == mnt_id;
	return st.st_dev == dev;
}

static int have_openat2 = 1;

int nk_walk_open_dir(int dirfd, const char *name, int flags, uint64_t mnt_id, dev_t dev)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | (flags & O_PATH ? 0 : O_NOCTTY)),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	int fd, r;

	if (__atomic_load_n(&have_openat2, __ATOMIC_RELAXED)) {
		fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS)
			return -errno;
		__atomic_store_n(&have_openat2, 0, __ATOMIC_RELAXED);
	}
	/* Before Linux 5.6: a single name component, no symlink followed
	 * (O_NOFOLLOW), and the mount checked after the open. */
	if (strchr(name, '/') || strcmp(name, "..") == 0)
		return -EXDEV;
	fd = openat(dirfd, name, (int)how.flags);
	if (fd < 0)
		return -errno;
	if ((r = same_mount(fd, mnt_id, dev)) != 1) {
		close(fd);
		return r < 0 ? r : -EXDEV;
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

static void stop(struct walk *w, int failed)
{
	pthread_mutex_lock(&w->lock);
	if (failed)
		w->failed = failed;
	else
		atomic_store(&w->stop, 1);
	pthread_cond_broadcast(&w->cond);
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

/* Hand ENT (its st set) to the callback: its result, or -1 when it was
 * an error (reported). */
static int hand_stated(struct walk *w, struct nk_walk_entry *ent, const char *dirpath)
{
	struct nk_err e;
	int r = w->fn(w->ctx, ent, &e);

	if (r < 0) {
		report(w, dirpath, ent->name, &e);
		return -1;
	}
	if (r == NK_WALK_STOP)
		stop(w, 0);
	return r;
}

/* The entry is on another mount than the tree's (a file bind-mounted over
 * its name is another mount's): counted, left alone. */
static int other_mount(struct walk *w, const struct stat *st, uint64_t mnt)
{
	if (w->mnt_id && mnt ? mnt != w->mnt_id : st->st_dev != w->dev) {
		atomic_fetch_add(&w->mounts, 1);
		return 1;
	}
	return 0;
}

/* Hand ENT (its fd, dirfd, name and dirpath set) to the callback; with
 * CHECK_MOUNT only when it is on the tree's mount. */
static int hand(struct walk *w, struct nk_walk_entry *ent, const char *dirpath, int check_mount)
{
	struct nk_err e;
	uint64_t mnt;
	int r;

	if ((r = nk_fd_stat(ent->fd, &ent->st, &ent->btime, &ent->has_btime, &mnt)) < 0) {
		nk_syserr(&e, -r, "cannot stat '%s/%s'", dirpath, ent->name);
		report(w, dirpath, ent->name, &e);
		return -1;
	}
	if (check_mount && other_mount(w, &ent->st, mnt))
		return 0;
	return hand_stated(w, ent, dirpath);
}

/* Hand directory ENT (its fd open) to the callback, unless it was handed
 * before (renamed during the walk to a name not listed yet): -2 then, and
 * nothing is handed. */
static int hand_dir(struct walk *w, struct nk_walk_entry *ent, const char *dirpath)
{
	struct nk_err e;
	int r;

	if ((r = nk_fd_stat(ent->fd, &ent->st, &ent->btime, &ent->has_btime, NULL)) < 0) {
		nk_syserr(&e, -r, "cannot stat '%s/%s'", dirpath, ent->name);
		report(w, dirpath, ent->name, &e);
		return -1;
	}
	if ((r = seen_add(w, ent->st.st_ino,
			  ent->has_btime ? (uint64_t)ent->btime.tv_sec * 1000000000u + (uint64_t)ent->btime.tv_nsec : 0)) <= 0) {
		if (r < 0)
			stop(w, ENOMEM);
		return -2;
	}
	atomic_fetch_add(&w->dirs, 1);
	return hand_stated(w, ent, dirpath);
}

/* A non-directory entry NAME of ND (D_TYPE from the listing): opened,
 * handed over, closed. */
static void visit_other(struct walk *w, struct node *nd, const char *name, unsigned char d_type)
{
	struct nk_walk_entry ent = { .dirfd = nd->fd, .name = name, .dirpath = nd->path, .fd = -1 };
	struct nk_err e;
	int fd = -1;

	if (d_type == DT_REG && (w->flags & NK_WALK_OPEN_FILES)) {
		fd = openat(nd->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			return;         /* gone since the listing */
	}
	/* Not a regular file, or it could not be opened as one (it became a
	 * symlink, a socket; unreadable, leased): the inode without opening
	 * it. */
	ent.fd_path = fd < 0;
	if (fd < 0 && (fd = openat(nd->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return;
		nk_syserr(&e, errno, "cannot open '%s/%s'", nd->path, name);
		report(w, nd->path, name, &e);
		return;
	}
	ent.fd = fd;
	hand(w, &ent, nd->path, 1);
	close(fd);
}

/* A non-directory NAME of ND, whose entries nobody else can change
 * (NK_WALK_BYNAME): handed by name, not opened, unless the callback asks
 * for it open. */
static void visit_byname(struct walk *w, struct node *nd, const char *name, unsigned char d_type)
{
	struct nk_walk_entry ent = { .dirfd = nd->fd, .name = name, .dirpath = nd->path, .fd = -1 };
	struct nk_err e;
	uint64_t mnt;
	int r = stat_at(nd->fd, name, &ent.st, &ent.btime, &ent.has_btime, &mnt);

	if (r == -ENOENT)
		return;
	if (r < 0) {
		nk_syserr(&e, -r, "cannot stat '%s/%s'", nd->path, name);
		report(w, nd->path, name, &e);
		return;
	}
	if (other_mount(w, &ent.st, mnt))
		return;
	if (S_ISDIR(ent.st.st_mode) || hand_stated(w, &ent, nd->path) == NK_WALK_NEED_FD)
		visit_other(w, nd, name, d_type);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Read directory ND: hand every non-directory to the callback, queue the
 * directories. Returns the entries found (counted once a directory: a
 * shared counter bumped at every file would bounce between the workers). */
static uint64_t list_entries(struct walk *w, struct node *nd)
{
	char buf[32768] __attribute__((aligned(8)));
	struct nk_err e;
	uint64_t n = 0;

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
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
		for (long off = 0; off < len && !atomic_load_explicit(&w->stop, memory_order_relaxed);) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			unsigned char type = d->d_type;

			off += d->d_reclen;
			if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
				continue;
			if (type == DT_UNKNOWN) {
				struct stat st;

				if (fstatat(nd->fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
					if (errno == ENOENT)
						continue;
					nk_syserr(&e, errno, "cannot stat '%s/%s'", nd->path, d->d_name);
					report(w, nd->path, d->d_name, &e);
					continue;
				}
				type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
			}
			n++;
			if (type != DT_DIR)
				(nd->byname ? visit_byname : visit_other)(w, nd, d->d_name, type);
			else if (push(w, nd, d->d_name) < 0) {
				stop(w, ENOMEM);
				return n;
			}
		}
	}
	return n;
}

/* A node for directory FD at PATH (a copy is made), or NULL. */
static struct node *node_new(int fd, const char *parent, const char *name)
{
	struct node *nd = calloc(1, sizeof *nd);
	size_t plen = strlen(parent) + (name ? strlen(name) + 1 : 0) + 1;

	if (!nd || !(nd->path = malloc(plen))) {
		free(nd);
		return NULL;
	}
	if (name)
		snprintf(nd->path, plen, "%s/%s", parent, name);
	else
		snprintf(nd->path, plen, "%s", parent);
	nd->fd = fd;
	atomic_init(&nd->refs, 1);
	return nd;
}

/* List ND, whose entry ENT the callback returned X for; then, for
 * NK_WALK_BYNAME, hand ENT again, after what it holds. */
static void list_dir(struct walk *w, struct node *nd, struct nk_walk_entry *ent, int x, const char *parentpath)
{
	nd->byname = x == NK_WALK_BYNAME;
	atomic_fetch_add(&w->entries, list_entries(w, nd));
	if (nd->byname && !atomic_load(&w->stop)) {
		ent->post = 1;
		hand(w, ent, parentpath, 0);
	}
}

/* Open the queued directory IT, hand it over, then list it. */
static void visit_dir(struct walk *w, struct item *it)
{
	struct nk_walk_entry ent = { .dirfd = it->parent->fd, .name = it->name, .dirpath = it->parent->path };
	struct node *nd;
	struct nk_err e;
	int fd = nk_walk_open_dir(it->parent->fd, it->name, O_RDONLY, w->mnt_id, w->dev), err = 0, x;

	if (fd == -EXDEV) {
		atomic_fetch_add(&w->mounts, 1);
		return;
	}
	if (fd == -ENOENT)
		return;
	if (fd < 0) {
		/* Unreadable (EACCES in a user namespace, say): its own inode
		 * can still be seen and changed; then the error is said. */
		err = -fd;
		fd = nk_walk_open_dir(it->parent->fd, it->name, O_PATH, w->mnt_id, w->dev);
		if (fd >= 0) {
			ent.fd = fd;
			ent.fd_path = 1;
			x = hand_dir(w, &ent, it->parent->path);
			close(fd);
			if (x == -2)
				return;
		}
		nk_syserr(&e, err, "cannot open directory '%s/%s'", it->parent->path, it->name);
		report(w, it->parent->path, it->name, &e);
		return;
	}
	ent.fd = fd;
	x = hand_dir(w, &ent, it->parent->path);
	if (x == -2 || atomic_load(&w->stop)) {
		close(fd);
		return;
	}
	if (!(nd = node_new(fd, it->parent->path, it->name))) {
		close(fd);
		stop(w, ENOMEM);
		return;
	}
	list_dir(w, nd, &ent, x, it->parent->path);
	node_put(nd);
}

static void *worker(void *arg)
{
	struct walk *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct item it;

		while (w->n == 0 && w->busy > 0 && !w->failed && !atomic_load(&w->stop))
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->n == 0 || w->failed || atomic_load(&w->stop)) {
			pthread_cond_broadcast(&w->cond);
			break;
		}
		it = w->stack[--w->n];
		w->busy++;
		pthread_mutex_unlock(&w->lock);
		visit_dir(w, &it);
		node_put(it.parent);
		free(it.name);
		pthread_mutex_lock(&w->lock);
		w->busy--;
		if (w->n == 0 && w->busy == 0)
			pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The top directory: its own entry, then its contents. */
static int walk_top(struct walk *w, int rootfd, const char *rootpath, struct nk_err *e)
{
	struct nk_walk_entry ent = { .dirfd = -1, .name = ".", .dirpath = rootpath };
	struct node *top;
	int fd, x;

	/* A description of its own: a dup would share the directory offset. */
	if ((fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nk_syserr(e, errno, "cannot open '%s'", rootpath);
	if (!(top = node_new(fd, rootpath, NULL))) {
		close(fd);
		return nk_errf(e, ENOMEM, "out of memory");
	}
	ent.fd = fd;
	atomic_fetch_add(&w->entries, 1);
	x = hand_dir(w, &ent, rootpath);
	w->busy = 1;
	if (!atomic_load(&w->stop))
		list_dir(w, top, &ent, x, rootpath);
	node_put(top);
	w->busy = 0;
	return 0;
}

int nk_walk(int rootfd, const char *rootpath, unsigned threads, int flags, nk_walk_fn fn,
	    nk_walk_err_fn errfn, void *ctx, struct nk_walk_stats *stats, struct nk_err *e)
{
	struct walk w;
	struct stat st;
	pthread_t *tid;
	unsigned started = 0;
	int r;

	memset(&w, 0, sizeof w);
	memset(stats, 0, sizeof *stats);
	if ((r = nk_fd_stat(rootfd, &st, NULL, NULL, &w.mnt_id)) < 0)
		return nk_syserr(e, -r, "cannot stat '%s'", rootpath);
	if (!S_ISDIR(st.st_mode))
		return nk_errf(e, ENOTDIR, "'%s' is not a directory", rootpath);
	if (threads == 0)
		threads = 1;
	w.dev = st.st_dev;
	w.flags = flags;
	w.fn = fn;
	w.errfn = errfn;
	w.ctx = ctx;
	pthread_mutex_init(&w.lock, NULL);
	pthread_mutex_init(&w.seen_lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	if ((r = walk_top(&w, rootfd, rootpath, e)) < 0)
		return r;

	tid = calloc(threads, sizeof *tid);
	if (tid)
		for (; started < threads - 1; started++)
			if (pthread_create(&tid[started], NULL, worker, &w) != 0)
				break;
	worker(&w);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
	/* Whatever is left (after a stop or a failure) is released. */
	for (size_t i = 0; i < w.n; i++) {
		node_put(w.stack[i].parent);
		free(w.stack[i].name);
	}
	free(w.stack);
	pthread_mutex_destroy(&w.lock);
	pthread_mutex_destroy(&w.seen_lock);
	free(w.seen);
	free(w.seen_bt);
	pthread_cond_destroy(&w.cond);
	stats->entries = w.entries;
	stats->dirs = w.dirs;
	stats->mounts_skipped = w.mounts;
	stats->errors = w.errors;
	stats->stopped = atomic_load(&w.stop);
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
static atomic_int proc_fd_dir = -1;

/* /proc/self/fd, opened once: an O_PATH fd N is reached as its entry "N". */
static int proc_fds(void)
{
	int fd = atomic_load(&proc_fd_dir), expect = -1;

	if (fd >= 0)
		return fd;
	fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (!atomic_compare_exchange_strong(&proc_fd_dir, &expect, fd)) {
		close(fd);
		return expect;
	}
	return fd;
}

static void proc_name(char *buf, size_t len, int fd, int full)
{
	snprintf(buf, len, full ? "/proc/self/fd/%d" : "%d", fd);
}

ssize_t nk_fd_getxattr(int fd, int fd_path, const char *attr, void *buf, size_t size)
{
	char p[64];

	if (!fd_path)
		return fgetxattr(fd, attr, buf, size);
	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED) && proc_fds() >= 0) {
		struct nk_xattr_args a = { (uint64_t)(uintptr_t)buf, (uint32_t)size, 0 };
		long r;

		proc_name(p, sizeof p, fd, 0);
		r = syscall(SYS_getxattrat, proc_fds(), p, 0, attr, &a, sizeof a);
		if (r >= 0 || errno != ENOSYS)
			return r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	proc_name(p, sizeof p, fd, 1);
	return getxattr(p, attr, buf, size);
}

ssize_t nk_fd_listxattr(int fd, int fd_path, char *buf, size_t size)
{
	char p[64];

	if (!fd_path)
		return flistxattr(fd, buf, size);
	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED) && proc_fds() >= 0) {
		long r;

		proc_name(p, sizeof p, fd, 0);
		r = syscall(SYS_listxattrat, proc_fds(), p, 0, buf, size);
		if (r >= 0 || errno != ENOSYS)
			return r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	proc_name(p, sizeof p, fd, 1);
	return listxattr(p, buf, size);
}

int nk_fd_setxattr(int fd, int fd_path, const char *attr, const void *buf, size_t size)
{
	char p[64];

	if (!fd_path)
		return fsetxattr(fd, attr, buf, size, 0);
	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED) && proc_fds() >= 0) {
		struct nk_xattr_args a = { (uint64_t)(uintptr_t)buf, (uint32_t)size, 0 };
		long r;

		proc_name(p, sizeof p, fd, 0);
		r = syscall(SYS_setxattrat, proc_fds(), p, 0, attr, &a, sizeof a);
		if (r >= 0 || errno != ENOSYS)
			return (int)r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	proc_name(p, sizeof p, fd, 1);
	return setxattr(p, attr, buf, size, 0);
}

#ifndef SYS_removexattrat
#define SYS_removexattrat 466
#endif

int nk_fd_removexattr(int fd, int fd_path, const char *attr)
{
	char p[64];

	if (!fd_path)
		return fremovexattr(fd, attr);
	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED) && proc_fds() >= 0) {
		long r;

		proc_name(p, sizeof p, fd, 0);
		r = syscall(SYS_removexattrat, proc_fds(), p, 0, attr);
		if (r >= 0 || errno != ENOSYS)
			return (int)r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	proc_name(p, sizeof p, fd, 1);
	return removexattr(p, attr);
}

int nk_fd_chown(int fd, uid_t uid, gid_t gid)
{
	return fchownat(fd, "", uid, gid, AT_EMPTY_PATH);
}

int nk_fd_chmod(int fd, int fd_path, mode_t mode)
{
	char p[64];

	if (!fd_path)
		return fchmod(fd, mode);
	if (__atomic_load_n(&have_fchmodat2, __ATOMIC_RELAXED)) {
		long r = syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH);

		if (r >= 0 || errno != ENOSYS)
			return (int)r;
		__atomic_store_n(&have_fchmodat2, 0, __ATOMIC_RELAXED);
	}
	proc_name(p, sizeof p, fd, 1);
	return chmod(p, mode);
}

/* An entry handed by name (fd -1): the *xattrat(2) calls on NAME of its
 * directory, not following a symlink, else the l*xattr(2) calls on
 * /proc/self/fd/DIRFD/NAME. Only for directories nobody else can change:
 * the name leads to the inode that was stated. */
#ifndef AT_SYMLINK_NOFOLLOW
#define AT_SYMLINK_NOFOLLOW 0x100
#endif

static void at_name(char *buf, size_t len, const struct nk_walk_entry *en)
{
	snprintf(buf, len, "/proc/self/fd/%d/%s", en->dirfd, en->name);
}

ssize_t nk_ent_getxattr(const struct nk_walk_entry *en, const char *attr, void *buf, size_t size)
{
	char p[4200];

	if (en->fd >= 0)
		return nk_fd_getxattr(en->fd, en->fd_path, attr, buf, size);
	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED)) {
		struct nk_xattr_args a = { (uint64_t)(uintptr_t)buf, (uint32_t)size, 0 };
		long r = syscall(SYS_getxattrat, en->dirfd, en->name, AT_SYMLINK_NOFOLLOW, attr, &a, sizeof a);

		if (r >= 0 || errno != ENOSYS)
			return r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	at_name(p, sizeof p, en);
	return lgetxattr(p, attr, buf, size);
}

ssize_t nk_ent_listxattr(const struct nk_walk_entry *en, char *buf, size_t size)
{
	char p[4200];

	if (en->fd >= 0)
		return nk_fd_listxattr(en->fd, en->fd_path, buf, size);
	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED)) {
		long r = syscall(SYS_listxattrat, en->dirfd, en->name, AT_SYMLINK_NOFOLLOW, buf, size);

		if (r >= 0 || errno != ENOSYS)
			return r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	at_name(p, sizeof p, en);
	return llistxattr(p, buf, size);
}

int nk_ent_setxattr(const struct nk_walk_entry *en, const char *attr, const void *buf, size_t size)
{
	char p[4200];

	if (en->fd >= 0)
		return nk_fd_setxattr(en->fd, en->fd_path, attr, buf, size);
	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED)) {
		struct nk_xattr_args a = { (uint64_t)(uintptr_t)buf, (uint32_t)size, 0 };
		long r = syscall(SYS_setxattrat, en->dirfd, en->name, AT_SYMLINK_NOFOLLOW, attr, &a, sizeof a);

		if (r >= 0 || errno != ENOSYS)
			return (int)r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	at_name(p, sizeof p, en);
	return lsetxattr(p, attr, buf, size, 0);
}

int nk_ent_removexattr(const struct nk_walk_entry *en, const char *attr)
{
	char p[4200];

	if (en->fd >= 0)
		return nk_fd_removexattr(en->fd, en->fd_path, attr);
	if (__atomic_load_n(&have_xattrat, __ATOMIC_RELAXED)) {
		long r = syscall(SYS_removexattrat, en->dirfd, en->name, AT_SYMLINK_NOFOLLOW, attr);

		if (r >= 0 || errno != ENOSYS)
			return (int)r;
		__atomic_store_n(&have_xattrat, 0, __ATOMIC_RELAXED);
	}
	at_name(p, sizeof p, en);
	return lremovexattr(p, attr);
}

int nk_ent_chown(const struct nk_walk_entry *en, uid_t uid, gid_t gid)
{
	if (en->fd >= 0)
		return nk_fd_chown(en->fd, uid, gid);
	return fchownat(en->dirfd, en->name, uid, gid, AT_SYMLINK_NOFOLLOW);
}

int nk_ent_chmod(const struct nk_walk_entry *en, mode_t mode)
{
	if (en->fd >= 0)
		return nk_fd_chmod(en->fd, en->fd_path, mode);
	if (__atomic_load_n(&have_fchmodat2, __ATOMIC_RELAXED)) {
		long r = syscall(SYS_fchmodat2, en->dirfd, en->name, mode, AT_SYMLINK_NOFOLLOW);

		if (r >= 0 || errno != ENOSYS)
			return (int)r;
		__atomic_store_n(&have_fchmodat2, 0, __ATOMIC_RELAXED);
	}
	/* fchmodat(2) follows a symlink: none is changed this way. */
	if (S_ISLNK(en->st.st_mode)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return fchmodat(en->dirfd, en->name, mode, 0);
}
