/* idmap-shift - shift the owners of a tree from one id map to another
 *
 * What containers/storage does the first time an image is used under a new
 * mapping, without what it loses: setuid/setgid bits and file capabilities
 * (chown clears them, even as root, even to the same owner: read before,
 * restored after), the ids in POSIX ACLs and in v3 capabilities (shifted
 * like the owners), and owners outside the map (refused before anything
 * changes, unless --unmapped says otherwise).
 *
 * The walk (lib/walk.c) holds directory descriptors and works with *at
 * calls that never follow a symlink; the ids of xattrs are shifted by
 * lib/idshift.c on the raw blobs.
 *
 * Interrupted runs: before the first change a journal records the start
 * time T (and waits until the coarse clock, which stamps ctimes, is past
 * it). Every change sets the inode's ctime past T, so a re-run of the same
 * command after a kill knows which inodes are done, whatever the two maps
 * overlap. An inode that needs several changes (owner and ACL, owner and
 * capability or setuid bit) gets a journal record of its end state before
 * the first one, and a re-run finishes it from there. The journal is
 * removed when the shift is complete.
 */
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mount.h>
#include "idmap.h"
#include "idshift.h"
#include "json.h"
#include "nsinfo.h"
#include "num.h"
#include "proc.h"
#include "subid.h"
#include "tool.h"
#include "walk.h"

#define OVERLAYFS_MAGIC 0x794c7630
#define MAX_OFFENDERS 10

enum { OPT_TO_PID = 256, OPT_FROM_PID, OPT_UNMAPPED, OPT_CHECK, OPT_MOUNT, OPT_PROGRESS,
       OPT_NO_PROGRESS, OPT_JSON, OPT_STATE_DIR };
enum unmapped { UNMAPPED_FAIL, UNMAPPED_KEEP, UNMAPPED_OVERFLOW };
enum phase { PHASE_SCAN, PHASE_SHIFT };

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options] PATH...\n"
	       "\n"
	       "Shift the owners of the trees at PATH from one id map to another.\n"
	       "\n"
	       "Options:\n"
	       " -t, --to FILE|-             the map the tree must end up in (map stream)\n"
	       " -u, --uid INNER:OUTER:COUNT a uid extent of --to (repeatable)\n"
	       " -g, --gid INNER:OUTER:COUNT a gid extent of --to (repeatable)\n"
	       " -m, --map INNER:OUTER:COUNT a uid and gid extent of --to (repeatable)\n"
	       "     --to-pid PID            --to is the maps of PID's user namespace\n"
	       " -a, --auto[=USER]           --to is the default rootless map of USER (you)\n"
	       " -f, --from FILE|-           the map the tree is in now (default: identity)\n"
	       "     --from-pid PID          --from is the maps of PID's user namespace\n"
	       " -r, --reverse               swap --from and --to\n"
	       "     --unmapped fail|keep|overflow\n"
	       "                             an owner outside --from: refuse before anything\n"
	       "                             changes (default), leave it, or the overflow id\n"
	       " -n, --dry-run               report what would change; change nothing\n"
	       "     --check                 exit 0 when every id lies inside --from\n"
	       " -j, --jobs N                worker threads (default: the CPUs usable)\n"
	       " -x, --one-file-system       never cross into another mount (always)\n"
	       "     --mount DEST            no chown: DEST becomes an idmapped bind mount\n"
	       "     --progress              progress on stderr (default: when it is a terminal)\n"
	       "     --no-progress           no progress\n"
	       "     --json                  print a JSON summary\n"
	       "     --state-dir DIR         where the journal of a running shift is kept\n"
	       "\n"
	       " -h, --help                  display this help\n"
	       " -V, --version               display version\n"
	       "\n"
	       "For more details see idmap-shift(1).\n", nk_progname);
	exit(0);
}

/* A (dev, ino) set, with an optional record per inode. */
struct inoent {
	dev_t dev;
	ino_t ino;
	char *rec;
};

struct inoset {
	pthread_mutex_t lock;
	struct inoent *t;
	size_t n, cap;          /* cap: a power of two, or 0 */
	size_t max;             /* 0, or the most it may hold */
};

static size_t ino_hash(dev_t d, ino_t i)
{
	uint64_t h = (uint64_t)i * 0x9E3779B97F4A7C15ULL ^ (uint64_t)d * 0xC2B2AE3D27D4EB4FULL;

	return (size_t)(h ^ (h >> 29));
}

static struct inoent *ino_slot(struct inoent *t, size_t cap, dev_t d, ino_t i)
{
	size_t k = ino_hash(d, i) & (cap - 1);

	while (t[k].ino || t[k].dev) {
		if (t[k].dev == d && t[k].ino == i)
			return &t[k];
		k = (k + 1) & (cap - 1);
	}
	return &t[k];
}

/* 1 when present already, 0 when added, -ENOMEM, or -E2BIG when full. */
static int inoset_add(struct inoset *s, dev_t d, ino_t i, char *rec)
{
	struct inoent *x;

	pthread_mutex_lock(&s->lock);
	if (s->max && s->n >= s->max) {
		pthread_mutex_unlock(&s->lock);
		return -E2BIG;
	}
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		struct inoent *nt = calloc(nc, sizeof *nt);

		if (!nt) {
			pthread_mutex_unlock(&s->lock);
			return -ENOMEM;
		}
		for (size_t k = 0; k < s->cap; k++)
			if (s->t[k].ino || s->t[k].dev)
				*ino_slot(nt, nc, s->t[k].dev, s->t[k].ino) = s->t[k];
		free(s->t);
		s->t = nt;
		s->cap = nc;
	}
	x = ino_slot(s->t, s->cap, d, i);
	if (x->ino || x->dev) {
		pthread_mutex_unlock(&s->lock);
		return 1;
	}
	*x = (struct inoent){ d, i, rec };
	s->n++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The record of (D, I), or NULL. Only for a set that nobody changes while
 * it is read (the journal's records, loaded before the walk): no lock, as
 * it is asked about every file. */
static const char *inoset_get(const struct inoset *s, dev_t d, ino_t i)
{
	const struct inoent *x;

	if (!s->n)
		return NULL;
	x = ino_slot(s->t, s->cap, d, i);
	if (!x->ino && !x->dev)
		return NULL;
	return x->rec ? x->rec : "";
}

static void inoset_free(struct inoset *s)
{
	for (size_t k = 0; k < s->cap; k++)
		free(s->t[k].rec);
	free(s->t);
	s->t = NULL;
	s->n = s->cap = 0;
}

/* Counters of the run. The ones counted for every file are kept one slot
 * a thread and summed when read: one shared atomic would move its cache
 * line between the workers at every file. */
enum counter { C_FILES, C_CHANGED, C_ACLS, C_CAPS, C_LINKS, C_DONE_BEFORE, C_UNMAPPED, C_NCOUNTERS };
#define COUNTER_SLOTS 64
static struct counter_slot {
	atomic_uint_fast64_t v[C_NCOUNTERS];
} __attribute__((aligned(64))) counter_slots[COUNTER_SLOTS];
static atomic_uint counter_next;
static _Thread_local int counter_mine = -1;

static void count(enum counter c)
{
	if (counter_mine < 0)
		counter_mine = (int)(atomic_fetch_add(&counter_next, 1) % COUNTER_SLOTS);
	atomic_fetch_add_explicit(&counter_slots[counter_mine].v[c], 1, memory_order_relaxed);
}

static unsigned long long counted(enum counter c)
{
	uint64_t n = 0;

	for (int k = 0; k < COUNTER_SLOTS; k++)
		n += atomic_load_explicit(&counter_slots[k].v[c], memory_order_relaxed);
	return (unsigned long long)n;
}

/* The run. */
static struct nk_shift shift;
static enum unmapped unmapped = UNMAPPED_FAIL;
static uint32_t overflow[2];
static int dry, check, json;
static enum phase phase;
static struct timespec tstart;     /* journal start: ctime past it = done */
static int resuming, jfd = -1, init_userns;
static struct inoset links, pending;
static atomic_uint_fast64_t n_checked, n_errors, n_offenders, n_skipped;
/* What the --unmapped fail pre-scan learnt, for the shift that follows:
 * the inodes that have an ACL or a capability (up to XATTR_INODES_MAX),
 * as of TSCAN. An inode whose ctime is not past TSCAN has not changed
 * since the scan listed its xattrs (setting or removing one moves the
 * ctime, as do link and rename on Linux's file systems): when it is not
 * in the set, the shift need not list them again. */
#define XATTR_INODES_MAX 16384
static struct inoset xattr_inodes;
static struct timespec tscan;
static int xattr_known;
static atomic_int xattr_lost;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void entry_path(char *buf, size_t len, const struct nk_walk_entry *en)
{
	if (strcmp(en->name, ".") == 0)
		snprintf(buf, len, "%s", en->dirpath);
	else
		snprintf(buf, len, "%s/%s", en->dirpath, en->name);
}

/* An id outside --from, seen by the scan (--check, the --unmapped fail
 * pre-scan) or by the shift itself. */
static void offender(const struct nk_walk_entry *en, const char *what, enum nk_idtype t, uint32_t id)
{
	char path[4200];

	if (atomic_fetch_add(&n_offenders, 1) >= MAX_OFFENDERS)
		return;
	entry_path(path, sizeof path, en);
	pthread_mutex_lock(&out_lock);
	if (check)
		printf("%s: %s %s %u is outside --from\n", path, what, nk_idtype_name(t), id);
	else
		nk_warnx("'%s': %s %s %u is outside --from", path, what, nk_idtype_name(t), id);
	pthread_mutex_unlock(&out_lock);
}

static int map_id(void *ctx, enum nk_idtype t, uint32_t id, uint32_t *out)
{
	(void)ctx;
	if (nk_shift_id(&shift, t, id, out) == 0)
		return 0;
	if (phase == PHASE_SCAN || unmapped == UNMAPPED_FAIL)
		return -ENOENT;
	count(C_UNMAPPED);
	*out = unmapped == UNMAPPED_KEEP ? id : overflow[t];
	return 0;
}

static int ctime_after(const struct stat *st, const struct timespec *t)
{
	return st->st_ctim.tv_sec > t->tv_sec || (st->st_ctim.tv_sec == t->tv_sec && st->st_ctim.tv_nsec > t->tv_nsec);
}

static int ctime_after_start(const struct stat *st)
{
	return ctime_after(st, &tstart);
}

/* Wait until the coarse clock that stamps inode ctimes is past T: every
 * change from the return on is stamped after T. */
static void clock_mark_wait(const struct timespec *t)
{
	for (int i = 0; i < 1000; i++) {
		struct timespec c, d = { 0, 1000000 };

		clock_gettime(CLOCK_REALTIME_COARSE, &c);
		if (c.tv_sec > t->tv_sec || (c.tv_sec == t->tv_sec && c.tv_nsec > t->tv_nsec))
			break;
		nanosleep(&d, NULL);
	}
}

/* Now, in *T, once every later change is stamped after it. */
static void clock_mark(struct timespec *t)
{
	clock_gettime(CLOCK_REALTIME, t);
	clock_mark_wait(t);
}

/* What an inode must become. Only the scalars are set up front: the
 * buffers (8 KiB) are written when an xattr is read. */
struct target {
	uint32_t uid, gid;
	mode_t mode;
	int chown, chmod;
	int acl_changed, cap_changed;
	unsigned char acl[2][4100], cap[24];
	ssize_t acl_len[2], cap_len;  /* -1: none to write */
};

static const char *const acl_names[2] = { NK_XATTR_ACL_ACCESS, NK_XATTR_ACL_DEFAULT };

static void target_init(struct target *tg, const struct stat *st)
{
	tg->uid = st->st_uid;
	tg->gid = st->st_gid;
	tg->mode = st->st_mode & 07777;
	tg->chown = tg->chmod = tg->acl_changed = tg->cap_changed = 0;
	tg->acl_len[0] = tg->acl_len[1] = tg->cap_len = -1;
}

static void hex(char *out, const unsigned char *p, ssize_t n)
{
	static const char d[] = "0123456789abcdef";

	if (n < 0) {
		strcpy(out, "-");
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		*out++ = d[p[i] >> 4];
		*out++ = d[p[i] & 15];
	}
	*out = '\0';
}

static ssize_t unhex(const char *s, unsigned char *p, size_t max)
{
	size_t n = strlen(s);

	if (strcmp(s, "-") == 0)
		return -1;
	if (n % 2 || n / 2 > max)
		return -2;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -2;
		p[i] = (unsigned char)v;
	}
	return (ssize_t)(n / 2);
}

/* The end state of one inode, as a journal line. */
static char *target_record(const struct stat *st, const struct target *tg)
{
	size_t len = 128 + 2 * (sizeof tg->acl + sizeof tg->cap);
	char *r = malloc(len), a0[8210], a1[8210], c[64];

	if (!r)
		return NULL;
	hex(a0, tg->acl[0], tg->acl_len[0]);
	hex(a1, tg->acl[1], tg->acl_len[1]);
	hex(c, tg->cap, tg->cap_len);
	snprintf(r, len, "p %llu %llu %u %u %o %d %d %s %s %s\n", (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino, tg->uid, tg->gid, (unsigned)tg->mode, tg->chown, tg->chmod,
		 a0, a1, c);
	return r;
}

static int apply(const struct nk_walk_entry *en, const struct target *tg, struct nk_err *e)
{
	char path[4200];

	if (tg->chown && fchownat(en->dirfd, en->name, tg->uid, tg->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		int err = errno;

		entry_path(path, sizeof path, en);
		if (err == EINVAL)
			return nk_errf(e, EINVAL, "cannot chown '%s' to %u:%u: not mapped in this user namespace",
				       path, tg->uid, tg->gid);
		return nk_syserr(e, err, "cannot chown '%s' to %u:%u", path, tg->uid, tg->gid);
	}
	for (int k = 0; k < 2; k++)
		if (tg->acl_len[k] >= 0 &&
		    nk_setxattr_at(en->dirfd, en->name, acl_names[k], tg->acl[k], (size_t)tg->acl_len[k]) < 0) {
			int err = errno;

			entry_path(path, sizeof path, en);
			return nk_syserr(e, err, "cannot write %s of '%s'", acl_names[k], path);
		}
	if (tg->chmod && nk_chmod_at(en->dirfd, en->name, tg->mode) < 0) {
		int err = errno;

		entry_path(path, sizeof path, en);
		return nk_syserr(e, err, "cannot restore mode %04o of '%s'", (unsigned)tg->mode, path);
	}
	if (tg->cap_len >= 0 &&
	    nk_setxattr_at(en->dirfd, en->name, NK_XATTR_CAPS, tg->cap, (size_t)tg->cap_len) < 0) {
		int err = errno;

		entry_path(path, sizeof path, en);
		return nk_syserr(e, err, "cannot restore the file capabilities of '%s'", path);
	}
	return 0;
}

/* A journal record back into a target. */
static int parse_record(const char *rec, struct target *tg)
{
	unsigned long long dev, ino;
	unsigned mode;
	char a0[8210], a1[8210], c[64];

	memset(tg, 0, sizeof *tg);
	if (sscanf(rec, "p %llu %llu %u %u %o %d %d %8209s %8209s %63s", &dev, &ino, &tg->uid, &tg->gid,
		   &mode, &tg->chown, &tg->chmod, a0, a1, c) != 10)
		return -EINVAL;
	tg->mode = mode;
	if ((tg->acl_len[0] = unhex(a0, tg->acl[0], sizeof tg->acl[0])) < -1 ||
	    (tg->acl_len[1] = unhex(a1, tg->acl[1], sizeof tg->acl[1])) < -1 ||
	    (tg->cap_len = unhex(c, tg->cap, sizeof tg->cap)) < -1)
		return -EINVAL;
	return 0;
}

static int read_xattr(const struct nk_walk_entry *en, const char *attr, unsigned char *buf, size_t size,
		      ssize_t *len, struct nk_err *e)
{
	char path[4200];
	int err;

	*len = nk_getxattr_at(en->dirfd, en->name, attr, buf, size);
	if (*len >= 0)
		return 0;
	if (errno == ENODATA || errno == EOPNOTSUPP) {
		*len = -1;
		return 0;
	}
	err = errno;
	entry_path(path, sizeof path, en);
	if (err == ERANGE)
		return nk_errf(e, ERANGE, "%s of '%s' is larger than any ACL", attr, path);
	return nk_syserr(e, err, "cannot read %s of '%s'", attr, path);
}

/* An id of EN is outside --from: the shift leaves it alone. */
static int unmapped_error(const struct nk_walk_entry *en, struct nk_err *e)
{
	char path[4200];

	entry_path(path, sizeof path, en);
	return nk_errf(e, ENOENT, "cannot shift '%s': an id is outside --from (left unchanged)", path);
}

/* 1 when EN is a hardlink of an inode seen already (shifted once, there),
 * 0 when not, or a negative errno. */
static int hardlink_seen(const struct nk_walk_entry *en, struct nk_err *e)
{
	int r;

	if (S_ISDIR(en->st.st_mode) || en->st.st_nlink < 2)
		return 0;
	r = inoset_add(&links, en->st.st_dev, en->st.st_ino, NULL);
	if (r < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	if (r == 1 && phase == PHASE_SHIFT)
		count(C_LINKS);
	return r;
}

/* 1 when this shift cannot have made ST's owner or group what it is: an
 * id inside --from that no id becomes (nor the overflow id). A ctime past
 * the start then means a change by someone else (an ACL set while the
 * tree was being shifted, say), not this shift: the inode is shifted. */
static int not_shifted(const struct stat *st)
{
	const uint32_t id[2] = { st->st_uid, st->st_gid };
	uint32_t x;

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (nk_shift_id(&shift, t, id[t], &x) == 0 && !nk_shift_in_image(&shift, t, id[t]) &&
		    !(unmapped == UNMAPPED_OVERFLOW && id[t] == overflow[t]))
			return 1;
	return 0;
}

/* What the journal says about EN: 1 when it has to be shifted from what it
 * is now, else 0 (done before, or finished from its record here) or a
 * negative errno. A "p" record: the end state, written before the first
 * change (applying it again is harmless). An "f" record: the inode failed
 * last time (and a fix since, chmod or chattr, moved its ctime): shifted
 * from what it is now. Else a ctime past the start: done. */
static int resume_entry(const struct nk_walk_entry *en, struct nk_err *e)
{
	const struct stat *st = &en->st;
	const char *rec = inoset_get(&pending, st->st_dev, st->st_ino);
	struct target tg;

	if (rec && rec[0] == 'p') {
		if (phase == PHASE_SCAN)
			return 0;
		count(C_DONE_BEFORE);
		if (dry)
			return 0;
		if (parse_record(rec, &tg) < 0)
			return nk_errf(e, EINVAL, "a journal record is corrupt");
		return apply(en, &tg, e);
	}
	if (!(rec && rec[0] == 'f') && ctime_after_start(st) && !not_shifted(st)) {
		if (phase == PHASE_SHIFT)
			count(C_DONE_BEFORE);
		return 0;
	}
	return 1;
}

/* What the target_* functions return for an id outside --from (in the
 * shift; the scan only reports it). */
#define UNMAPPED 1

/* The owner and group of EN in TG: 0 or UNMAPPED. */
static int target_owners(const struct nk_walk_entry *en, struct target *tg)
{
	if (map_id(NULL, NK_UID, en->st.st_uid, &tg->uid) < 0) {
		offender(en, "owner", NK_UID, en->st.st_uid);
		if (phase != PHASE_SCAN)
			return UNMAPPED;
		tg->uid = en->st.st_uid;
	}
	if (map_id(NULL, NK_GID, en->st.st_gid, &tg->gid) < 0) {
		offender(en, "group", NK_GID, en->st.st_gid);
		if (phase != PHASE_SCAN)
			return UNMAPPED;
		tg->gid = en->st.st_gid;
	}
	return 0;
}

/* Which of the xattrs that hold ids EN has: HAS[0], HAS[1] the access and
 * default ACLs, HAS[2] a capability. One listxattr, with a small buffer
 * first (the kernel allocates what it is given, at every call). */
static int xattrs_present(const struct nk_walk_entry *en, int has[3], struct nk_err *e)
{
	char list[256], *names = list, path[4200];
	NK_AUTOFREE char *big = NULL;
	ssize_t n;

	has[0] = has[1] = has[2] = 0;
	/* Symlinks carry no ACL and no capability. */
	if (S_ISLNK(en->st.st_mode))
		return 0;
	if (phase == PHASE_SHIFT && xattr_known && !ctime_after(&en->st, &tscan) &&
	    !inoset_get(&xattr_inodes, en->st.st_dev, en->st.st_ino))
		return 0;
	n = nk_listxattr_at(en->dirfd, en->name, list, sizeof list);
	if (n < 0 && errno == ERANGE) {
		n = nk_listxattr_at(en->dirfd, en->name, NULL, 0);
		if (n > 0 && (big = malloc((size_t)n)))
			n = nk_listxattr_at(en->dirfd, en->name, big, (size_t)n);
		names = big;
	}
	if (n < 0 && errno != EOPNOTSUPP && errno != ENOTSUP) {
		int err = errno;

		entry_path(path, sizeof path, en);
		return nk_syserr(e, err, "cannot list the xattrs of '%s'", path);
	}
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
		const char *a = names + off;

		if (strcmp(a, NK_XATTR_ACL_ACCESS) == 0)
			has[0] = 1;
		else if (strcmp(a, NK_XATTR_ACL_DEFAULT) == 0)
			has[1] = 1;
		else if (strcmp(a, NK_XATTR_CAPS) == 0 && S_ISREG(en->st.st_mode))
			has[2] = 1;
	}
	if (phase == PHASE_SCAN && (has[0] || has[1] || has[2]) && !atomic_load(&xattr_lost) &&
	    inoset_add(&xattr_inodes, en->st.st_dev, en->st.st_ino, NULL) < 0)
		atomic_store(&xattr_lost, 1);
	return 0;
}

/* ACL K (access, default) of EN, shifted into TG. */
static int target_acl(const struct nk_walk_entry *en, int k, struct target *tg, struct nk_err *e)
{
	char path[4200];
	unsigned changed;
	uint32_t bad;
	enum nk_idtype bt;
	int r;

	if ((r = read_xattr(en, acl_names[k], tg->acl[k], sizeof tg->acl[k], &tg->acl_len[k], e)) < 0)
		return r;
	if (tg->acl_len[k] < 0)
		return 0;
	r = nk_acl_shift(tg->acl[k], tg->acl[k], (size_t)tg->acl_len[k], map_id, NULL, &changed, &bad, &bt, e);
	if (r == -ENOENT) {
		offender(en, k ? "default ACL entry" : "ACL entry", bt, bad);
		return phase == PHASE_SCAN ? 0 : UNMAPPED;
	}
	if (r < 0) {
		entry_path(path, sizeof path, en);
		return nk_err_prefix(e, "'%s'", path);
	}
	if (changed)
		tg->acl_changed = 1;
	else
		tg->acl_len[k] = -1;
	return 0;
}

/* The capability of EN, shifted into TG (a v3 rootid moves like an owner). */
static int target_cap(const struct nk_walk_entry *en, struct target *tg, struct nk_err *e)
{
	char path[4200];
	int rev, r;
	uint32_t bad;

	if ((r = read_xattr(en, NK_XATTR_CAPS, tg->cap, sizeof tg->cap, &tg->cap_len, e)) < 0)
		return r;
	/* Inside a user namespace, v2 is how the kernel shows a v3 whose
	 * rootid is our root (what setcap writes here): shift it as such. */
	if (tg->cap_len == 20 && !init_userns && nk_fcaps_v2_to_v3(tg->cap, 20, 0, tg->cap) == 0)
		tg->cap_len = 24;
	if (tg->cap_len < 0)
		return 0;
	r = nk_fcaps_shift(tg->cap, tg->cap, (size_t)tg->cap_len, map_id, NULL, &rev, &tg->cap_changed, &bad, e);
	if (r == -ENOENT) {
		offender(en, "capability rootid", NK_UID, bad);
		if (phase == PHASE_SHIFT)
			return UNMAPPED;
		tg->cap_len = -1;
	} else if (r < 0) {
		entry_path(path, sizeof path, en);
		return nk_err_prefix(e, "'%s'", path);
	}
	return 0;
}

/* Everything EN must become, in TG: 0, UNMAPPED or a negative errno. */
static int target_of(const struct nk_walk_entry *en, struct target *tg, struct nk_err *e)
{
	int has[3], r;

	target_init(tg, &en->st);
	if ((r = target_owners(en, tg)) != 0 || (r = xattrs_present(en, has, e)) != 0)
		return r;
	for (int k = 0; k < 2; k++)
		if (has[k] && (r = target_acl(en, k, tg, e)) != 0)
			return r;
	if (has[2] && (r = target_cap(en, tg, e)) != 0)
		return r;
	return 0;
}

/* Make EN what TG says: the journal record first when it takes more than
 * one change. */
static int target_commit(const struct nk_walk_entry *en, struct target *tg, struct nk_err *e)
{
	const struct stat *st = &en->st;
	int nmut;

	tg->chown = tg->uid != st->st_uid || tg->gid != st->st_gid;
	/* chown clears setuid, setgid (of a non-directory) and the capability. */
	tg->chmod = tg->chown && !S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode) && (st->st_mode & 06000);
	if (!tg->chown && !tg->cap_changed)
		tg->cap_len = -1;
	nmut = tg->chown + (tg->acl_len[0] >= 0) + (tg->acl_len[1] >= 0) + tg->chmod + (tg->cap_len >= 0);
	if (nmut == 0)
		return 0;
	count(C_CHANGED);
	if (tg->acl_changed)
		count(C_ACLS);
	if (tg->cap_len >= 0)
		count(C_CAPS);
	if (dry)
		return 0;
	if (nmut > 1 && jfd >= 0) {
		NK_AUTOFREE char *rec = target_record(st, tg);

		if (!rec || nk_write_full(jfd, rec, strlen(rec)) < 0)
			return nk_syserr(e, rec ? errno : ENOMEM, "cannot write the journal");
	}
	return apply(en, tg, e);
}

/* One entry of the walk: scanned (PHASE_SCAN) or shifted. */
static int visit_entry(const struct nk_walk_entry *en, struct nk_err *e)
{
	struct target tg;
	int r;

	if (phase == PHASE_SHIFT)
		count(C_FILES);
	if ((r = hardlink_seen(en, e)) != 0)
		return r < 0 ? r : 0;
	if (resuming && (r = resume_entry(en, e)) != 1)
		return r;
	r = target_of(en, &tg, e);
	if (r == UNMAPPED)
		return unmapped_error(en, e);
	if (r < 0 || phase == PHASE_SCAN)
		return r;
	return target_commit(en, &tg, e);
}

static int visit(void *ctx, const struct nk_walk_entry *en, struct nk_err *e)
{
	int r = visit_entry(en, e);

	(void)ctx;
	if (r < 0 && phase == PHASE_SHIFT && jfd >= 0) {
		char rec[64];

		/* Recorded as failed: a re-run shifts it whatever its ctime. */
		snprintf(rec, sizeof rec, "f %llu %llu\n", (unsigned long long)en->st.st_dev,
			 (unsigned long long)en->st.st_ino);
		if (nk_write_full(jfd, rec, strlen(rec)) < 0)
			nk_err_hint(e, "and it could not be recorded in the journal: %s", strerror(errno));
	}
	return r;
}

static void walk_error(void *ctx, const char *path, const struct nk_err *e)
{
	(void)ctx;
	(void)path;
	atomic_fetch_add(&n_errors, 1);
	if (atomic_load(&n_errors) <= MAX_OFFENDERS)
		nk_err_print(e);
}

/* Progress on stderr while the walk runs, until progress_stop is set:
 * PROGRESS_DONE ends with a last line, PROGRESS_QUIET (the walk failed:
 * its error is what is said) without. */
enum { PROGRESS_DONE = 1, PROGRESS_QUIET };
static atomic_int progress_stop;
static uint64_t progress_total;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *progress_main(void *arg)
{
	double t0 = now_s();

	(void)arg;
	while (!atomic_load(&progress_stop)) {
		struct timespec d = { 0, 250000000 };
		double el;
		uint64_t f;

		nanosleep(&d, NULL);
		el = now_s() - t0;
		f = counted(C_FILES);
		if (progress_total && f && f <= progress_total)
			fprintf(stderr, "\r%s: %llu/%llu files, %.0f files/s, %.0f s left ", nk_progname,
				(unsigned long long)f, (unsigned long long)progress_total, (double)f / el,
				(double)(progress_total - f) / ((double)f / el));
		else
			fprintf(stderr, "\r%s: %llu files, %.0f files/s ", nk_progname, (unsigned long long)f,
				el > 0 ? (double)f / el : 0.0);
	}
	if (atomic_load(&progress_stop) == PROGRESS_DONE)
		fprintf(stderr, "\r%s: %llu files in %.1f s \n", nk_progname, counted(C_FILES),
			now_s() - t0);
	return NULL;
}

/* A struct nk_maps freed when it goes out of scope. */
static void maps_freep(struct nk_maps *m)
{
	nk_maps_free(m);
}
#define AUTOMAPS __attribute__((cleanup(maps_freep)))

/* Our own namespace's maps as FROM maps: the kernel shows them towards
 * the parent; here their ids are themselves. */
static int own_identity(struct nk_maps *m, struct nk_err *e)
{
	AUTOMAPS struct nk_maps own = { 0 };

	if (nk_maps_read_proc(0, &own, e) < 0)
		return -e->code;
	if (nk_maps_identity_of(&own, m) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	return 0;
}

/* The maps M of PID (read for OPT) are written, and in this namespace's ids. */
static int check_pid_maps(const struct nk_maps *m, pid_t pid, const char *opt, struct nk_err *e)
{
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		const struct nk_map *x = &m->map[t];

		if (x->n == 0)
			return nk_errf(e, ENOENT, "process %d has no %s map yet (%s needs a namespace with its maps written)",
				       (int)pid, nk_idtype_name(t), opt);
		for (size_t i = 0; i < x->n; i++)
			if (x->ext[i].outer == 4294967295U)
				return nk_errf(e, ERANGE, "the %s map of process %d maps ids that are not mapped in this user namespace (run it where they are)",
					       nk_idtype_name(t), (int)pid);
	}
	return 0;
}

/* Maps of a process's user namespace, in this namespace's ids. */
static int maps_of_pid(const char *arg, const char *opt, struct nk_maps *m, struct nk_err *e)
{
	pid_t pid;
	uint64_t self, other;

	if (nk_parse_pid_e(arg, &pid, e) < 0)
		return -e->code;
	if (nk_proc_ns_ino(0, "user", &self, e) < 0)
		return nk_err_prefix(e, "%s %d", opt, (int)pid);
	/* A process we may not inspect (a sibling namespace's root) is not in
	 * our namespace: our own processes are open to us. */
	if (nk_proc_ns_ino(pid, "user", &other, e) < 0) {
		if (e->code != EACCES && e->code != EPERM)
			return nk_err_prefix(e, "%s %d", opt, (int)pid);
		other = self + 1;
	}
	if (self == other)
		return own_identity(m, e);
	if (nk_maps_read_proc(pid, m, e) < 0)
		return -e->code;
	return check_pid_maps(m, pid, opt, e);
}

/* The end of the extent of O whose inner side holds ID, or 0 when none does. */
static uint64_t inner_extent_end(const struct nk_map *o, uint64_t id)
{
	for (size_t k = 0; k < o->n; k++)
		if (id >= o->ext[k].inner && id < (uint64_t)o->ext[k].inner + o->ext[k].count)
			return (uint64_t)o->ext[k].inner + o->ext[k].count;
	return 0;
}

/* Every id of TO's outer side must be mapped here, or chown fails half way. */
static int check_mapped_here(const struct nk_maps *to, struct nk_err *e)
{
	AUTOMAPS struct nk_maps own = { 0 };

	if (nk_maps_read_proc(0, &own, e) < 0)
		return -e->code;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		for (size_t i = 0; i < to->map[t].n; i++) {
			const struct nk_extent *x = &to->map[t].ext[i];
			uint64_t id = x->outer, end = id + x->count;

			while (id < end) {
				uint64_t next = inner_extent_end(&own.map[t], id);

				if (!next)
					return nk_errf(e, ERANGE, "cannot shift to %s %llu: not mapped in this user namespace (run it where the ids of the map are mapped)",
						       nk_idtype_name(t), (unsigned long long)id);
				id = next;
			}
		}
	return 0;
}

/* A fingerprint of what the shift does, to recognize "the same command". */
static uint64_t fingerprint(void)
{
	uint64_t h = 1469598103934665603ULL;

	for (int t = 0; t < 2; t++)
		for (size_t i = 0; i < shift.n[t]; i++) {
			uint32_t v[3] = { shift.r[t][i].src, shift.r[t][i].dst, shift.r[t][i].count };
			const unsigned char *p = (const unsigned char *)v;

			for (size_t k = 0; k < sizeof v; k++)
				h = (h ^ p[k]) * 1099511628211ULL;
			h = (h ^ (uint64_t)t) * 1099511628211ULL;
		}
	h = (h ^ (uint64_t)unmapped) * 1099511628211ULL;
	h = (h ^ overflow[0]) * 1099511628211ULL;
	return (h ^ overflow[1]) * 1099511628211ULL;
}

static int mkdir_p(const char *dir, struct nk_err *e)
{
	char p[4096];

	snprintf(p, sizeof p, "%s", dir);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0700);
			*s = '/';
		}
	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		nk_syserr(e, errno, "cannot create the state directory '%s'", dir);
		return nk_err_hint(e, "give --state-dir");
	}
	return 0;
}

static void default_state_dir(char *buf, size_t len)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (x && *x == '/')
		snprintf(buf, len, "%s/nskit/idmap-shift", x);
	else if (home && *home == '/')
		snprintf(buf, len, "%s/.local/state/nskit/idmap-shift", home);
	else
		snprintf(buf, len, "/var/lib/nskit/idmap-shift");
}

/* What an existing journal says (journal_resume). */
enum journal_state {
	J_FRESH,        /* start a new one (it records another shift, complete) */
	J_RESUME,       /* an interrupted run of this shift: go on from it */
	J_DONE,         /* this very shift is complete already */
};

/* The header of the journal F at JPATH: the fingerprint of its shift in
 * *FPR, its start time in tstart. */
static int journal_header(FILE *f, const char *jpath, unsigned long long *fpr, struct nk_err *e)
{
	unsigned long long sec = 0, nsec = 0;
	char buf[256];

	if (!fgets(buf, sizeof buf, f) || strcmp(buf, "nskit-idmap-shift journal 1\n") != 0 ||
	    !fgets(buf, sizeof buf, f) || sscanf(buf, "maps %llx", fpr) != 1 ||
	    !fgets(buf, sizeof buf, f) || sscanf(buf, "start %llu %llu", &sec, &nsec) != 2)
		return nk_errf(e, EINVAL, "the journal '%s' is not one of idmap-shift's (remove it if the tree is as it was)",
			       jpath);
	tstart.tv_sec = (time_t)sec;
	tstart.tv_nsec = (long)nsec;
	return 0;
}

/* The records of the journal F into pending (when OURS: of this shift;
 * others are skipped): 1 when it ends with "done", else 0. */
static int journal_records(FILE *f, int ours, struct nk_err *e)
{
	char line[20000];

	while (fgets(line, sizeof line, f)) {
		unsigned long long d, i;
		size_t n = strlen(line);
		char *rec;
		int r;

		if (n == 0 || line[n - 1] != '\n')
			break;  /* cut short by the kill: nothing was changed for it */
		if (strcmp(line, "done\n") == 0)
			return 1;
		if (!ours || (sscanf(line, "p %llu %llu", &d, &i) != 2 && sscanf(line, "f %llu %llu", &d, &i) != 2))
			continue;
		if (!(rec = strdup(line)) || (r = inoset_add(&pending, (dev_t)d, (ino_t)i, rec)) < 0) {
			free(rec);
			return nk_errf(e, ENOMEM, "out of memory");
		}
		if (r == 1)
			free(rec);      /* the first record of an inode holds */
	}
	return 0;
}

/* Go on from the journal F of TREE (FP: this shift's fingerprint); with
 * CREATE, reopen it for the records of this run. */
static int journal_resume(FILE *f, const char *tree, const char *jpath, uint64_t fp, int create,
			  struct nk_err *e)
{
	unsigned long long fpr = 0;
	int r;

	if ((r = journal_header(f, jpath, &fpr, e)) < 0 || (r = journal_records(f, fpr == fp, e)) < 0)
		return r;
	if (r == 1) {
		inoset_free(&pending);
		if (fpr == fp && !dry && !check) {
			nk_warnx("'%s' is shifted with these maps already (journal '%s'): nothing to do (remove the journal to shift it again)",
				 tree, jpath);
			return J_DONE;
		}
		return J_FRESH; /* another shift, complete: a fresh start replaces it */
	}
	if (fpr != fp)
		return nk_errf(e, EBUSY, "an interrupted shift of '%s' with other maps is pending (run that command again to finish it, or remove '%s' if the tree was restored)",
			       tree, jpath);
	resuming = 1;
	if (create) {
		nk_warnx("resuming the interrupted shift of '%s' (journal '%s')", tree, jpath);
		jfd = open(jpath, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		if (jfd < 0)
			return nk_syserr(e, errno, "cannot open the journal '%s'", jpath);
	}
	return J_RESUME;
}

/* A new journal at JPATH for the shift FP, in jfd. Written whole under
 * another name, then renamed: a kill leaves no half journal. */
static int journal_create(const char *jpath, uint64_t fp, struct nk_err *e)
{
	char tmp[4200], buf[256];

	clock_gettime(CLOCK_REALTIME, &tstart);
	snprintf(tmp, sizeof tmp, "%s.tmp", jpath);
	jfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (jfd < 0) {
		nk_syserr(e, errno, "cannot create the journal '%s'", tmp);
		return nk_err_hint(e, "give --state-dir");
	}
	snprintf(buf, sizeof buf, "nskit-idmap-shift journal 1\nmaps %llx\nstart %llu %llu\n",
		 (unsigned long long)fp, (unsigned long long)tstart.tv_sec, (unsigned long long)tstart.tv_nsec);
	if (nk_write_full(jfd, buf, strlen(buf)) < 0 || fsync(jfd) < 0 || rename(tmp, jpath) < 0)
		return nk_syserr(e, errno, "cannot write the journal '%s'", jpath);
	/* Inode ctimes come from the coarse clock: wait until it is past the
	 * start, so that every change from here on is stamped after it. */
	clock_mark_wait(&tstart);
	resuming = 1;   /* from now on, ctime past the start means done (hardlinks, renames) */
	return 0;
}

/* Open or resume the journal of one tree. Returns its path in JPATH, and 1
 * when the journal says this very shift is complete already. A complete
 * shift leaves its journal marked "done": a run killed after its last
 * change, run again, must not shift a second time. */
static int journal_begin(const char *state_dir, const char *tree, const struct stat *top, int create,
			 char *jpath, size_t len, struct nk_err *e)
{
	uint64_t fp = fingerprint();
	NK_AUTOFCLOSE FILE *f = NULL;
	int r;

	resuming = 0;
	inoset_free(&pending);
	snprintf(jpath, len, "%s/%llu-%llu.journal", state_dir, (unsigned long long)top->st_dev,
		 (unsigned long long)top->st_ino);
	f = fopen(jpath, "re");
	if (!f && errno != ENOENT)
		return nk_syserr(e, errno, "cannot read the journal '%s'", jpath);
	if (f && (r = journal_resume(f, tree, jpath, fp, create, e)) != J_FRESH)
		return r < 0 ? r : r == J_DONE;
	if (!create)
		return 0;
	return journal_create(jpath, fp, e);
}

/* --mount: DEST becomes an idmapped bind mount of PATH. */
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
struct nk_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int write_file(const char *path, const char *text)
{
	NK_AUTOCLOSE int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || nk_write_full(fd, text, strlen(text)) < 0)
		return -errno;
	return 0;
}

#define FUSE_SUPER_MAGIC 0x65735546

/* The kernel refused to idmap the clone TFD of SRC (mount_setattr ERR):
 * why, in one line, and what to do instead. */
static int mount_refused(const char *src, int tfd, int err, struct nk_err *e)
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
	nk_syserr(e, err, "cannot make an idmapped mount of '%s'", src);
	return nk_err_hint(e, "%s", why);
}

/* Until the child PID is in a user namespace of its own. */
static int wait_userns(pid_t pid, struct nk_err *e)
{
	for (int i = 0;; i++) {
		uint64_t a, b;

		if (nk_proc_ns_ino(0, "user", &a, e) == 0 && nk_proc_ns_ino(pid, "user", &b, e) == 0 && a != b)
			return 0;
		if (i > 5000)
			return nk_errf(e, ETIMEDOUT, "the helper process did not make its user namespace");
		usleep(1000);
	}
}

/* The maps of PID's namespace are the shift itself: stored id -> shown id. */
static int write_userns_maps(pid_t pid, struct nk_err *e)
{
	char text[2][16384] = { "", "" }, path[64];
	size_t len[2] = { 0, 0 };
	int r;

	for (int t = 0; t < 2; t++)
		for (size_t i = 0; i < shift.n[t]; i++)
			len[t] += (size_t)snprintf(text[t] + len[t], sizeof text[t] - len[t], "%u %u %u\n",
						   shift.r[t][i].src, shift.r[t][i].dst, shift.r[t][i].count);
	snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
	r = write_file(path, text[0]);
	if (r == 0) {
		snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
		write_file(path, "deny");
		snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
		r = write_file(path, text[1]);
	}
	if (r < 0) {
		nk_syserr(e, -r, "cannot write the maps of the mount's user namespace");
		return nk_err_hint(e, "--mount needs root; use chown mode, without --mount");
	}
	return 0;
}

/* A user namespace whose maps are the shift, made by a child that waits
 * in it until we hold it: its descriptor. */
static int mount_userns(struct nk_err *e)
{
	NK_AUTOCLOSE int rd = -1, wr = -1;
	int pipefd[2], usfd = -1, r;
	char path[64], c;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return nk_syserr(e, errno, "cannot create a pipe");
	rd = pipefd[0];
	wr = pipefd[1];
	pid = fork();
	if (pid < 0)
		return nk_syserr(e, errno, "cannot fork");
	if (pid == 0) {
		close(wr);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		(void)!read(rd, &c, 1);   /* until the maps are written and used */
		_exit(0);
	}
	close(nk_steal_fd(&rd));
	if ((r = wait_userns(pid, e)) == 0 && (r = write_userns_maps(pid, e)) == 0) {
		snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
		if ((usfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			r = nk_syserr(e, errno, "cannot open %s", path);
	}
	if (r < 0)
		kill(pid, SIGKILL);
	close(nk_steal_fd(&wr));
	waitpid(pid, NULL, 0);
	return r < 0 ? r : usfd;
}

static int do_mount(const char *src, const char *dest, struct nk_err *e)
{
	struct nk_mount_attr attr = { MOUNT_ATTR_IDMAP, 0, 0, 0 };
	NK_AUTOCLOSE int usfd = mount_userns(e);
	NK_AUTOCLOSE int tfd = -1;

	if (usfd < 0)
		return usfd;
	tfd = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | O_CLOEXEC);
	if (tfd < 0) {
		int err = errno;

		nk_syserr(e, err, "cannot clone the mount of '%s'", src);
		if (err == EPERM)
			return nk_err_hint(e, "--mount needs root; use chown mode, without --mount");
		return -err;
	}
	attr.userns_fd = (uint64_t)usfd;
	if (syscall(SYS_mount_setattr, tfd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
		return mount_refused(src, tfd, errno, e);
	if (syscall(SYS_move_mount, tfd, "", AT_FDCWD, dest, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return nk_syserr(e, errno, "cannot mount on '%s'", dest);
	return 0;
}

static unsigned default_jobs(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof set, &set) < 0 || (n = CPU_COUNT(&set)) < 1)
		return 1;
	return (unsigned)n > 64 ? 64 : (unsigned)n;
}

/* What the command line asks for, besides the globals of the run. */
struct cmdline {
	struct nk_maps to;
	const char *to_how, *from_how, *mount_dest, *auto_user;
	const char *to_file, *from_file, *to_pid, *from_pid;
	char state_dir[4096];
	int reverse, progress;
	unsigned jobs;
	char **paths;
	int npaths;
};

/* One of --to, -u/-g/-m, --to-pid, --auto (C its option). */
static void parse_to_option(struct cmdline *cl, int c)
{
	const char *how = c == 't' ? "--to" : c == OPT_TO_PID ? "--to-pid" : c == 'a' ? "--auto" : "-u/-g/-m";
	struct nk_err e;

	if (cl->to_how && strcmp(cl->to_how, how) != 0)
		nk_usage_errorx("%s and %s are mutually exclusive (one --to map)", cl->to_how, how);
	if ((c == 't' && cl->to_file) || (c == OPT_TO_PID && cl->to_pid) || (c == 'a' && cl->to_how))
		nk_usage_errorx("%s given twice", how);
	cl->to_how = how;
	if (c == 't')
		cl->to_file = optarg;
	else if (c == OPT_TO_PID)
		cl->to_pid = optarg;
	else if (c == 'a')
		cl->auto_user = optarg;
	else if (nk_maps_add_spec(&cl->to, c == 'm' ? 'b' : (char)c, optarg, &e) < 0)
		nk_die_err(1, &e);
}

/* --from or --from-pid (C its option). */
static void parse_from_option(struct cmdline *cl, int c)
{
	if (cl->from_how)
		nk_usage_errorx("--from and --from-pid are mutually exclusive (one --from map)");
	cl->from_how = c == 'f' ? "--from" : "--from-pid";
	if (c == 'f')
		cl->from_file = optarg;
	else
		cl->from_pid = optarg;
}

static enum unmapped parse_unmapped_or_err(const char *arg)
{
	static const char *const names[] = { [UNMAPPED_FAIL] = "fail", [UNMAPPED_KEEP] = "keep",
					     [UNMAPPED_OVERFLOW] = "overflow" };

	for (size_t k = 0; k < NK_ARRAY_SIZE(names); k++)
		if (strcmp(arg, names[k]) == 0)
			return (enum unmapped)k;
	nk_usage_errorx("invalid --unmapped '%s': use fail, keep or overflow", arg);
}

static unsigned parse_jobs_or_err(const char *arg)
{
	struct nk_err e;
	uint32_t v;

	if (nk_parse_u32_e(arg, 1024, &v, "--jobs", &e) < 0)
		nk_die_err(1, &e);
	if (v == 0)
		nk_die(1, "invalid --jobs '0': at least 1 thread");
	return v;
}

/* One option C (not a map option), into CL or the run's globals. */
static void parse_option(struct cmdline *cl, int c)
{
	switch (c) {
	case 'r':
		cl->reverse = 1;
		break;
	case OPT_UNMAPPED:
		unmapped = parse_unmapped_or_err(optarg);
		break;
	case 'n':
		dry = 1;
		break;
	case OPT_CHECK:
		check = 1;
		break;
	case 'j':
		cl->jobs = parse_jobs_or_err(optarg);
		break;
	case 'x':
		break;
	case OPT_MOUNT:
		cl->mount_dest = optarg;
		break;
	case OPT_PROGRESS:
	case OPT_NO_PROGRESS:
		cl->progress = c == OPT_PROGRESS;
		break;
	case OPT_JSON:
		json = 1;
		break;
	case OPT_STATE_DIR:
		if (*optarg != '/')
			nk_die(1, "invalid --state-dir '%s': give an absolute path", optarg);
		snprintf(cl->state_dir, sizeof cl->state_dir, "%s", optarg);
		break;
	default:
		nk_std_option_or_err(c, usage);
	}
}

static void parse_options(int argc, char **argv, struct cmdline *cl)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "uid", required_argument, NULL, 'u' },
		{ "gid", required_argument, NULL, 'g' },
		{ "map", required_argument, NULL, 'm' },
		{ "to-pid", required_argument, NULL, OPT_TO_PID },
		{ "auto", optional_argument, NULL, 'a' },
		{ "from", required_argument, NULL, 'f' },
		{ "from-pid", required_argument, NULL, OPT_FROM_PID },
		{ "reverse", no_argument, NULL, 'r' },
		{ "unmapped", required_argument, NULL, OPT_UNMAPPED },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "jobs", required_argument, NULL, 'j' },
		{ "one-file-system", no_argument, NULL, 'x' },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "t:u:g:m:a::f:rnj:xhV", opts, NULL)) != -1) {
		if (c == 't' || c == 'u' || c == 'g' || c == 'm' || c == OPT_TO_PID || c == 'a')
			parse_to_option(cl, c);
		else if (c == 'f' || c == OPT_FROM_PID)
			parse_from_option(cl, c);
		else
			parse_option(cl, c);
	}
	if (optind == argc)
		nk_usage_errorx("no PATH given");
	if (!cl->to_how && !check)
		nk_usage_errorx("no --to map given (--to, -u/-g/-m, --to-pid or --auto)");
	if (check && (dry || cl->mount_dest))
		nk_usage_errorx("--check changes nothing: no --dry-run or --mount with it");
	if (cl->mount_dest && argc - optind != 1)
		nk_usage_errorx("--mount takes exactly one PATH");
	cl->paths = argv + optind;
	cl->npaths = argc - optind;
}

/* --auto [USER]: the default rootless map of USER (the caller). */
static int auto_map(const char *user, struct nk_maps *to, struct nk_err *e)
{
	char name[256];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (user) {
		struct passwd *pw = getpwnam(user);

		if (!pw)
			return nk_errf(e, ENOENT, "no user '%s' (check the name)", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		snprintf(name, sizeof name, "%s", user);
	} else
		nk_user_name(uid, name, sizeof name);
	if (nk_maps_build(NK_MAPS_AUTO, name, uid, gid, NULL, to, e) < 0)
		return -e->code;
	return 0;
}

/* The --to and --from maps as the options give them. */
static int read_maps(struct cmdline *cl, struct nk_maps *from, struct nk_err *e)
{
	struct nk_maps *to = &cl->to;
	int r = 0;

	if (cl->to_file)
		r = nk_mapstream_read(cl->to_file, to, e) < 0 ? -e->code : 0;
	else if (cl->to_pid)
		r = maps_of_pid(cl->to_pid, "--to-pid", to, e);
	else if (cl->to_how && strcmp(cl->to_how, "--auto") == 0)
		r = auto_map(cl->auto_user, to, e);
	if (r < 0)
		return r;
	if (cl->from_file)
		return nk_mapstream_read(cl->from_file, from, e) < 0 ? -e->code : 0;
	if (cl->from_pid)
		return maps_of_pid(cl->from_pid, "--from-pid", from, e);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		nk_map_add(&from->map[t], 0, 0, 4294967295U);
	return 0;
}

/* Neither map empty, both as the kernel would take them. */
static int check_maps(const struct nk_maps *to, const struct nk_maps *from, struct nk_err *e)
{
	static const char *const give[2] = { [NK_UID] = "-u or -m", [NK_GID] = "-g or -m" };

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (to->map[t].n == 0)
			return nk_errf(e, EINVAL, "the %s map of --to is empty (give %s)", nk_idtype_name(t), give[t]);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (from->map[t].n == 0)
			return nk_errf(e, EINVAL, "the %s map of --from is empty", nk_idtype_name(t));
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		if (nk_map_validate(&to->map[t], t, e) < 0)
			return nk_err_prefix(e, "invalid --to map");
		if (nk_map_validate(&from->map[t], t, e) < 0)
			return nk_err_prefix(e, "invalid --from map");
	}
	return 0;
}

/* The --to and --from maps, checked, swapped for --reverse. */
static int build_maps(struct cmdline *cl, struct nk_maps *from, struct nk_err *e)
{
	struct nk_maps *to = &cl->to;
	int r;

	if ((r = read_maps(cl, from, e)) < 0)
		return r;
	if (check && !cl->to_how)
		/* Only --from matters: shift it onto itself. */
		for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
			nk_map_copy(&to->map[t], &from->map[t]);
	if ((r = check_maps(to, from, e)) < 0)
		return r;
	if (cl->reverse) {
		struct nk_maps x = *to;

		*to = *from;
		*from = x;
	}
	return 0;
}

/* Whether we run in the initial user namespace (its uid map is all ids). */
static int in_init_userns(void)
{
	AUTOMAPS struct nk_maps own = { 0 };
	const struct nk_map *u = &own.map[NK_UID];
	struct nk_err e;

	return nk_maps_read_proc(0, &own, &e) == 0 && u->n == 1 && u->ext[0].inner == 0 && u->ext[0].outer == 0 &&
	       u->ext[0].count == 4294967295U;
}

/* The shift, and what the run needs to know before the first tree. */
static int prepare_run(struct cmdline *cl, const struct nk_maps *from, struct nk_err *e)
{
	struct rlimit rl;
	int r;

	if (nk_shift_build(&shift, from, &cl->to, e) < 0)
		return -e->code;
	init_userns = in_init_userns();
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		overflow[t] = nk_overflow_id(t);
	if (!check && !cl->mount_dest && (r = check_mapped_here(&cl->to, e)) < 0)
		return r;
	if (cl->jobs == 0)
		cl->jobs = default_jobs();
	if (cl->progress < 0)
		cl->progress = isatty(2) && !json;
	if (!cl->state_dir[0])
		default_state_dir(cl->state_dir, sizeof cl->state_dir);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return 0;
}

/* Why P, a top directory, could not be opened (open's ERR). */
static int open_top_error(const char *p, int err, struct nk_err *e)
{
	struct stat lst;

	if (err == ELOOP || (err == ENOTDIR && lstat(p, &lst) == 0 && S_ISLNK(lst.st_mode)))
		return nk_errf(e, ELOOP, "'%s' is a symlink (give the directory itself)", p);
	if (err == ENOTDIR)
		return nk_errf(e, ENOTDIR, "'%s' is not a directory (give the top directory of a tree)", p);
	return nk_syserr(e, err, "cannot open '%s'", p);
}

/* Open PATH, a top directory, and refuse what cannot be shifted there:
 * its descriptor. */
static int open_top(const char *p, const struct cmdline *cl, struct stat *top, struct nk_err *e)
{
	struct statfs sfs;
	struct statvfs svfs;
	NK_AUTOCLOSE int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return open_top_error(p, errno, e);
	if (fstat(fd, top) < 0 || fstatfs(fd, &sfs) < 0 || fstatvfs(fd, &svfs) < 0)
		return nk_syserr(e, errno, "cannot stat '%s'", p);
	if (!cl->mount_dest && sfs.f_type == OVERLAYFS_MAGIC)
		return nk_errf(e, EINVAL, "'%s' is an overlay mount: chown through the merged view copies every file up (shift the layer directories instead)",
			       p);
	if (!check && !dry && !cl->mount_dest && (svfs.f_flag & ST_RDONLY))
		return nk_errf(e, EROFS, "cannot shift '%s': read-only file system", p);
	return nk_steal_fd(&fd);
}

/* The pre-scan of one tree (--check, --unmapped fail): 0 when the shift
 * may go on; for --check 1, and the tree's status in *STATUS. An error
 * when --unmapped fail finds an id outside --from or an entry it cannot
 * read (nothing is changed then). */
static int scan_tree(int fd, const char *p, const struct cmdline *cl, int *status, struct nk_err *e)
{
	struct nk_walk_stats ws;
	uint64_t bad;

	phase = PHASE_SCAN;
	atomic_store(&n_offenders, 0);
	inoset_free(&xattr_inodes);
	atomic_store(&xattr_lost, 0);
	clock_mark(&tscan);
	if (nk_walk(fd, p, cl->jobs, visit, walk_error, NULL, &ws, e) < 0)
		return -e->code;
	inoset_free(&links);
	xattr_known = !check && !atomic_load(&xattr_lost);
	bad = atomic_load(&n_offenders);
	progress_total = ws.entries;
	if (check) {
		if (bad > MAX_OFFENDERS)
			printf("... %llu more\n", (unsigned long long)(bad - MAX_OFFENDERS));
		if (ws.errors)
			*status = 2;
		else if (bad)
			*status = *status ? *status : 1;
		atomic_fetch_add(&n_checked, ws.entries);
		return 1;
	}
	if (ws.errors)
		return nk_errf(e, EIO, "nothing changed: %llu %s of '%s' cannot be read (see above)",
			       (unsigned long long)ws.errors, ws.errors == 1 ? "entry" : "entries", p);
	if (bad)
		return nk_errf(e, ERANGE, "nothing changed: %llu %s in '%s' outside --from (use --unmapped keep or overflow, or a --from that maps them)",
			       (unsigned long long)bad, bad == 1 ? "id" : "ids", p);
	return 0;
}

/* The shift of one tree, its journal begun: 0, or 1 when some entries
 * were not shifted. */
static int shift_tree(int fd, const char *p, const struct cmdline *cl, const char *jpath, struct nk_err *e)
{
	struct nk_walk_stats ws;
	pthread_t pt;
	int pstarted = 0, r;

	if (cl->progress && pthread_create(&pt, NULL, progress_main, NULL) == 0)
		pstarted = 1;
	r = nk_walk(fd, p, cl->jobs, visit, walk_error, NULL, &ws, e) < 0 ? -e->code : 0;
	if (pstarted) {
		/* A walk that failed says so, without the progress's last line. */
		atomic_store(&progress_stop, r < 0 ? PROGRESS_QUIET : PROGRESS_DONE);
		pthread_join(pt, NULL);
		atomic_store(&progress_stop, 0);
	}
	inoset_free(&links);
	if (r < 0)
		return r;
	atomic_fetch_add(&n_skipped, ws.mounts_skipped + ws.errors);
	if (ws.errors) {
		nk_warnx("%llu entries of '%s' were not shifted (see above; run it again when fixed)",
			 (unsigned long long)ws.errors, p);
		r = 1;
	} else if (jfd >= 0) {
		/* Complete: the journal says so (see journal_begin). */
		if (nk_write_full(jfd, "done\n", 5) < 0)
			nk_warn("cannot complete the journal '%s'", jpath);
	}
	if (jfd >= 0) {
		close(jfd);
		jfd = -1;
	}
	return r;
}

/* One tree: resume state, pre-scan, journal, shift. Returns the status. */
static int run_tree(int fd, const char *p, const struct stat *top, const struct cmdline *cl, struct nk_err *e)
{
	char jpath[4400];
	int status = 0, r;

	if (!check && !dry && (r = mkdir_p(cl->state_dir, e)) < 0)
		return r;
	/* Resume state first, so that the scan knows what is done. */
	if (!check && (r = journal_begin(cl->state_dir, p, top, 0, jpath, sizeof jpath, e)) != 0)
		return r < 0 ? r : 0;
	if ((check || unmapped == UNMAPPED_FAIL) && (r = scan_tree(fd, p, cl, &status, e)) != 0)
		return r < 0 ? r : status;
	phase = PHASE_SHIFT;
	if (!dry && (r = journal_begin(cl->state_dir, p, top, 1, jpath, sizeof jpath, e)) != 0)
		return r < 0 ? r : 0;
	status = shift_tree(fd, p, cl, jpath, e);
	xattr_known = 0;
	inoset_free(&xattr_inodes);
	return status;
}

static void print_json_summary(double t0)
{
	struct nk_json j;

	nk_json_file(&j, stdout, NK_JSON_COMPACT);
	nk_json_obj(&j, NULL);
	nk_json_u64(&j, "files", counted(C_FILES) + n_checked);
	nk_json_u64(&j, "changed", counted(C_CHANGED));
	nk_json_u64(&j, "acls", counted(C_ACLS));
	nk_json_u64(&j, "capabilities", counted(C_CAPS));
	nk_json_u64(&j, "hardlinks", counted(C_LINKS));
	nk_json_u64(&j, "skipped", n_skipped);
	nk_json_u64(&j, "unmapped", counted(C_UNMAPPED));
	nk_json_u64(&j, "errors", n_errors);
	nk_json_u64(&j, "resumed", counted(C_DONE_BEFORE));
	nk_json_bool(&j, "dry_run", dry);
	nk_json_double(&j, "seconds", now_s() - t0, 3);
	nk_json_finish(&j, "\n");      /* a write error is close_stdout's */
}

static void print_summary(double t0)
{
	if (json)
		print_json_summary(t0);
	else if (dry)
		printf("would change %llu of %llu files (%llu ACLs, %llu capabilities)\n",
		       counted(C_CHANGED), counted(C_FILES), counted(C_ACLS), counted(C_CAPS));
}

/* Every tree in turn, until one has a status: the run's status. */
static int shift_trees(const struct cmdline *cl, const int *fds, const struct stat *tops, struct nk_err *e)
{
	double t0 = now_s();
	int status = 0;

	pthread_mutex_init(&links.lock, NULL);
	pthread_mutex_init(&pending.lock, NULL);
	pthread_mutex_init(&xattr_inodes.lock, NULL);
	xattr_inodes.max = XATTR_INODES_MAX;
	for (int i = 0; i < cl->npaths && status == 0; i++)
		status = run_tree(fds[i], cl->paths[i], &tops[i], cl, e);
	if (status >= 0)
		print_summary(t0);
	return status;
}

/* What the command line asks for: the exit status, or an error. */
static int run(struct cmdline *cl, struct nk_maps *from, struct nk_err *e)
{
	NK_AUTOFREE int *fds = NULL;
	NK_AUTOFREE struct stat *tops = NULL;
	int r;

	if ((r = build_maps(cl, from, e)) < 0 || (r = prepare_run(cl, from, e)) < 0)
		return r;
	fds = calloc((size_t)cl->npaths, sizeof *fds);
	tops = calloc((size_t)cl->npaths, sizeof *tops);
	if (!fds || !tops)
		return nk_errf(e, ENOMEM, "out of memory");
	/* Every PATH is checked before any is changed. */
	for (int i = 0; i < cl->npaths; i++)
		fds[i] = -1;
	for (int i = 0; i < cl->npaths && r >= 0; i++)
		r = fds[i] = open_top(cl->paths[i], cl, &tops[i], e);
	if (r >= 0)
		r = cl->mount_dest ? do_mount(cl->paths[0], cl->mount_dest, e) : shift_trees(cl, fds, tops, e);
	for (int i = 0; i < cl->npaths; i++)
		nk_closep(&fds[i]);
	return r;
}

int main(int argc, char **argv)
{
	struct cmdline cl = { .progress = -1 };
	struct nk_maps from = { { { 0, 0, NULL }, { 0, 0, NULL } } };
	struct nk_err e;
	int r;

	nk_tool_init("idmap-shift", argv);
	parse_options(argc, argv, &cl);
	r = run(&cl, &from, &e);
	nk_shift_free(&shift);
	nk_maps_free(&cl.to);
	nk_maps_free(&from);
	if (r < 0) {
		nk_err_print(&e);
		return 1;
	}
	return r;
}
