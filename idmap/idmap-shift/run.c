/* One tree: what its journal says, the walks, the undo of a walk that met
 * an id outside --from, and what the run leaves behind. */
#include <fcntl.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "mount.h"
#include "nsinfo.h"
#include "shift.h"
#include "tool.h"
#include "util.h"

#ifndef MOUNT_ATTR_NODEV
#define MOUNT_ATTR_NODEV 0x00000004
#endif

/* Wait until the coarse clock that stamps inode ctimes (and birth times)
 * is past T: every change from the return on is stamped after T. */
static void clock_mark_wait(const struct timespec *t)
{
	for (;;) {
		struct timespec c, res, d;

		clock_gettime(CLOCK_REALTIME_COARSE, &c);
		if (c.tv_sec > t->tv_sec || (c.tv_sec == t->tv_sec && c.tv_nsec > t->tv_nsec))
			return;
		/* One tick of the coarse clock at most. */
		clock_getres(CLOCK_REALTIME_COARSE, &res);
		d = res.tv_sec || res.tv_nsec > 20000000 ? (struct timespec){ 0, 20000000 } : res;
		nanosleep(&d, NULL);
	}
}

static void clock_mark(struct timespec *t)
{
	clock_gettime(CLOCK_REALTIME, t);
	clock_mark_wait(t);
}

/* The first ids that this shift both moves and makes, for messages: a
 * second run would move them again. 0 when there are none. */
static int hazard_of(const struct nk_shift *s, char *what, size_t len)
{
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		for (size_t i = 0; i < s->n[t]; i++) {
			const struct nk_shift_range *a = &s->r[t][i];

			if (a->src == a->dst)
				continue;
			for (size_t j = 0; j < s->n[t]; j++) {
				const struct nk_shift_range *b = &s->r[t][j];
				uint64_t lo = a->src > b->dst ? a->src : b->dst;
				uint64_t ha = (uint64_t)a->src + a->count, hb = (uint64_t)b->dst + b->count;
				uint64_t hi = ha < hb ? ha : hb;

				if (lo < hi) {
					snprintf(what, len, "%ss %llu-%llu", nk_idtype_name(t), (unsigned long long)lo,
						 (unsigned long long)(hi - 1));
					return 1;
				}
			}
		}
	return 0;
}

static char hazard_what[64];

/* A fingerprint of what the shift does, to recognize "the same command". */
static uint64_t fingerprint(const struct ish_run *r)
{
	uint64_t h = 1469598103934665603ULL;

	for (int t = 0; t < 2; t++)
		for (size_t i = 0; i < r->shift.n[t]; i++) {
			uint32_t v[3] = { r->shift.r[t][i].src, r->shift.r[t][i].dst, r->shift.r[t][i].count };
			const unsigned char *p = (const unsigned char *)v;

			for (size_t k = 0; k < sizeof v; k++)
				h = (h ^ p[k]) * 1099511628211ULL;
			h = (h ^ (uint64_t)t) * 1099511628211ULL;
		}
	h = (h ^ (uint64_t)r->unmapped) * 1099511628211ULL;
	h = (h ^ r->overflow[0]) * 1099511628211ULL;
	return (h ^ r->overflow[1]) * 1099511628211ULL;
}

static void free_str(void *p)
{
	free(p);
}

int ish_run_prepare(struct ish_run *r, const struct nk_maps *from, const struct nk_maps *to, struct nk_err *e)
{
	uint32_t x;

	if (nk_shift_build(&r->shift, from, to, e) < 0 || nk_shift_build(&r->back, to, from, e) < 0)
		return -e->code;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		r->overflow[t] = nk_overflow_id(t);
	r->hazard = hazard_of(&r->shift, hazard_what, sizeof hazard_what);
	/* The overflow id given to unmapped ids is moved by a second run. */
	for (enum nk_idtype t = NK_UID; t <= NK_GID && !r->hazard; t++)
		if (r->unmapped == UNMAPPED_OVERFLOW && nk_shift_id(&r->shift, t, r->overflow[t], &x) == 0 &&
		    x != r->overflow[t]) {
			r->hazard = 1;
			snprintf(hazard_what, sizeof hazard_what, "the overflow %s %u", nk_idtype_name(t),
				 r->overflow[t]);
		}
	r->fp = fingerprint(r);
	ish_inoset_init(&r->pending, 0, free_str);
	ish_inoset_init(&r->links, 0, ish_links_free_val);
	ish_inolist_init(&r->changed);
	pthread_mutex_init(&r->deflock, NULL);
	pthread_mutex_init(&r->outlock, NULL);
	r->statefd = -1;
	r->jfd = -1;
	if (!r->state_dir[0])
		ish_state_dir_default(geteuid() == 0 && r->init_userns, r->state_dir, sizeof r->state_dir);
	if (r->check)
		return 0;
	if (r->dry) {
		/* Only read: a missing state directory is no journal. */
		struct nk_err ignored;

		ish_state_dir_open(r->state_dir, 0, &r->statefd, &ignored);
		return 0;
	}
	return ish_state_dir_open(r->state_dir, 1, &r->statefd, e);
}

/* What the journal of the tree says. */
enum { J_FRESH, J_RESUME };

/* The records of F into pending: 1 when it ends with "done", else 0. */
static int read_records(struct ish_run *r, FILE *f, const char *jpath, dev_t dev, struct nk_err *e)
{
	NK_AUTOFREE char *buf = malloc(ISH_LINE_MAX + 2);
	NK_AUTOFREE struct ish_record *rec = malloc(sizeof *rec);
	int n = 4;

	if (!buf || !rec)
		return nk_errf(e, ENOMEM, "out of memory");
	while (fgets(buf, ISH_LINE_MAX + 2, f)) {
		size_t len = strlen(buf);
		char *copy;
		int x;

		n++;
		if (len == 0 || buf[len - 1] != '\n')
			break;  /* cut short by a kill: nothing was changed for it */
		buf[len - 1] = '\0';
		if (strcmp(buf, "done") == 0)
			return 1;
		if (ish_record_parse(buf, rec) < 0)
			return nk_errf(e, EINVAL, "the journal '%s' is corrupt at line %d (remove it if the tree is as it was)",
				       jpath, n);
		if (!(copy = strdup(buf)) || (x = ish_inoset_add(&r->pending, dev, (ino_t)rec->ino, copy)) < 0) {
			free(copy);
			return nk_errf(e, ENOMEM, "out of memory");
		}
		if (x == 1)
			free(copy);     /* the first record of an inode holds */
	}
	return 0;
}

static int journal_lookup(struct ish_run *r, const struct ish_tree *tree, struct nk_err *e)
{
	NK_AUTOFCLOSE FILE *f = NULL;
	struct ish_head h;
	char jpath[4200];
	int x;

	if (r->statefd < 0)
		return J_FRESH;
	snprintf(jpath, sizeof jpath, "%s/%s", r->state_dir, r->jname);
	if ((x = ish_journal_open(r->statefd, r->state_dir, r->jname, &f, e)) < 0)
		return x;
	if (!f)
		return J_FRESH;
	if ((x = ish_journal_read_head(f, jpath, &h, e)) < 0)
		return x;
	/* Another tree took this one's device and inode numbers: its
	 * journal says nothing about this one. */
	if (!ish_tree_match(&h.tree, tree))
		goto stale;
	if ((x = read_records(r, f, jpath, (dev_t)tree->dev, e)) < 0)
		return x;
	if (x == 1) {
		if (h.fp == r->fp && r->hazard)
			return nk_errf(e, EEXIST, "'%s' was shifted with these maps already (journal '%s'): a second run would move %s again (remove the journal to shift it once more)",
				       r->path, jpath, hazard_what);
		goto stale;
	}
	if (h.fp != r->fp)
		return nk_errf(e, EBUSY, "an interrupted shift of '%s' with other maps is pending (run that command again to finish it, or remove '%s' if the tree was restored)",
			       r->path, jpath);
	r->tjournal = h.start;
	r->resuming = 1;
	return J_RESUME;
stale:
	ish_inoset_clear(&r->pending);
	if (r->changing)
		(void)unlinkat(r->statefd, r->jname, 0);
	return J_FRESH;
}

/* A new journal for TREE: written whole under another name, then renamed
 * (a kill leaves no half journal). Its start is this run's. */
static int journal_create(struct ish_run *r, const struct ish_tree *tree, struct nk_err *e)
{
	struct ish_head h = { .fp = r->fp, .tree = *tree };
	char tmp[80], buf[1024];

	clock_gettime(CLOCK_REALTIME, &r->tjournal);
	h.start = r->tjournal;
	snprintf(tmp, sizeof tmp, "%s.tmp", r->jname);
	r->jfd = openat(r->statefd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->jfd < 0) {
		nk_syserr(e, errno, "cannot create the journal '%s/%s'", r->state_dir, tmp);
		return nk_err_hint(e, "give --state-dir");
	}
	ish_head_format(&h, buf, sizeof buf);
	if (nk_write_full(r->jfd, buf, strlen(buf)) < 0 || fsync(r->jfd) < 0 ||
	    renameat(r->statefd, tmp, r->statefd, r->jname) < 0)
		return nk_syserr(e, errno, "cannot write the journal '%s/%s'", r->state_dir, r->jname);
	/* Inode ctimes come from the coarse clock: wait until it is past the
	 * start, so that every change from here on is stamped after it. */
	clock_mark_wait(&r->tjournal);
	r->trun = r->tjournal;
	return 0;
}

static int journal_reopen(struct ish_run *r, struct nk_err *e)
{
	nk_warnx("resuming the interrupted shift of '%s' (journal '%s/%s')", r->path, r->state_dir, r->jname);
	r->jfd = openat(r->statefd, r->jname, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (r->jfd < 0)
		return nk_syserr(e, errno, "cannot open the journal '%s/%s'", r->state_dir, r->jname);
	clock_mark(&r->trun);
	return 0;
}

/* The shift is complete: the journal goes, unless a second run would move
 * ids again (it is marked done then, and stays to refuse that run). */
static void journal_complete(struct ish_run *r)
{
	if (r->jfd < 0)
		return;
	if (r->hazard) {
		if (nk_write_full(r->jfd, "done\n", 5) < 0)
			nk_warn("cannot complete the journal '%s/%s'", r->state_dir, r->jname);
	} else if (unlinkat(r->statefd, r->jname, 0) < 0)
		nk_warn("cannot remove the journal '%s/%s'", r->state_dir, r->jname);
}

static void journal_close(struct ish_run *r)
{
	if (r->jfd >= 0)
		close(r->jfd);
	r->jfd = -1;
}

/* The tree to walk: a detached copy of its mounts made nodev (so the walk
 * may open regular files: a name swapped for a device node opens nothing),
 * else the tree itself, on a mount that is nodev already or with every
 * file reached through O_PATH. *CLONE: the copy's descriptor, to close
 * after the walk. */
static int walk_root(int topfd, const char *path, int *clone, int *flags)
{
	struct stat a, b;
	struct statvfs sv;
	struct nk_err ignored;
	int tree, fd;

	*clone = -1;
	if ((tree = nk_mount_clone(topfd, path, true, &ignored)) >= 0) {
		if (nk_mount_set_attr(tree, path, true, MOUNT_ATTR_NODEV, -1, &ignored) == 0 &&
		    (fd = openat(tree, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			if (fstat(fd, &a) == 0 && fstat(topfd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
				*clone = tree;
				*flags = NK_WALK_OPEN_FILES;
				return fd;
			}
			close(fd);
		}
		close(tree);
	}
	*flags = fstatvfs(topfd, &sv) == 0 && (sv.f_flag & ST_NODEV) ? NK_WALK_OPEN_FILES : 0;
	return fcntl(topfd, F_DUPFD_CLOEXEC, 3);
}

static int walk(struct ish_run *r, int fd, int flags, struct nk_walk_stats *ws, struct nk_err *e)
{
	pthread_t pt;
	int shown, x;

	/* Each walk counts names anew; the shift's are reported after it. */
	ish_inoset_clear(&r->links);
	shown = r->phase == PHASE_SHIFT && ish_progress_start(r, &pt);
	x = nk_walk(fd, r->path, r->jobs, flags, ish_visit, ish_walk_error, r, ws, e) < 0 ? -e->code : 0;
	if (shown)
		ish_progress_stop(r, pt, x < 0 || ws->stopped);
	return x;
}

/* Nothing changed, and why: entries that could not be read, or ids
 * outside --from (the scan's and the undo's words). 0 when neither. */
static int refusal(const struct ish_run *r, uint64_t errors, uint64_t bad, struct nk_err *e)
{
	if (errors)
		return nk_errf(e, EIO, "nothing changed: %llu %s of '%s' cannot be read (see above)",
			       (unsigned long long)errors, errors == 1 ? "entry" : "entries", r->path);
	if (bad)
		return nk_errf(e, ERANGE, "nothing changed: %llu %s in '%s' outside --from (use --unmapped keep or overflow, or a --from that maps them)",
			       (unsigned long long)bad, bad == 1 ? "id" : "ids", r->path);
	return 0;
}

/* --check, or the scan before a shift that cannot be undone: 0 when the
 * shift may go on; for --check 1, and the tree's status in *STATUS. */
static int scan(struct ish_run *r, int fd, int flags, int *status, struct nk_err *e)
{
	struct nk_walk_stats ws;
	uint64_t bad;
	int x;

	r->phase = PHASE_SCAN;
	atomic_store(&r->n_offenders, 0);
	atomic_store(&r->n_errors, 0);
	if ((x = walk(r, fd, flags, &ws, e)) < 0)
		return x;
	bad = atomic_load(&r->n_offenders);
	r->progress_total = ws.entries;
	if (r->check) {
		if (bad > ISH_MAX_OFFENDERS)
			printf("... %llu more\n", (unsigned long long)(bad - ISH_MAX_OFFENDERS));
		if (ws.errors)
			*status = 2;
		else if (bad)
			*status = *status ? *status : 1;
		atomic_fetch_add(&r->n_checked, ws.entries);
		return 1;
	}
	if ((x = refusal(r, ws.errors, bad, e)) < 0)
		return x;
	return 0;
}

/* The shift stopped half way: what this run changed is shifted back, and
 * the undo's scan says why. Returns the error to report, or 1 when the
 * shift is to be done again without holding privileged files (too many). */
static int undo(struct ish_run *r, int fd, int flags, int fresh, struct nk_err *e)
{
	struct nk_walk_stats ws;
	int why = atomic_load(&r->stop), x;
	uint64_t bad, failed;

	ish_deferred_drop(r);
	if (ish_inolist_seal(&r->changed) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	r->phase = PHASE_UNDO;
	atomic_store(&r->n_offenders, 0);
	atomic_store(&r->n_errors, 0);
	x = walk(r, fd, flags, &ws, e);
	ish_inolist_free(&r->changed);
	ish_inolist_init(&r->changed);
	if (x < 0)
		return x;
	bad = atomic_load(&r->n_offenders);
	failed = atomic_load(&r->n_undo_failed);
	if (failed)
		return nk_errf(e, EIO, "cannot shift back %llu %s changed before the shift stopped (see above): the journal '%s/%s' stays (run it again when fixed)",
			       (unsigned long long)failed, failed == 1 ? "file" : "files", r->state_dir, r->jname);
	if (fresh && r->jfd >= 0) {
		(void)unlinkat(r->statefd, r->jname, 0);
		journal_close(r);
	}
	if ((x = refusal(r, ws.errors, bad, e)) < 0)
		return x;
	if (why == STOP_DEFERRED_FULL)
		return 1;
	if (r->first_problem[0])
		nk_warnx("%s", r->first_problem);
	return nk_errf(e, EAGAIN, "nothing changed in '%s': what stopped the shift is gone since (run it again)", r->path);
}

/* The shift walk and what follows it: 0, 1 (some entries not shifted), 2
 * (to be done again as a scan and a shift), or an error. */
static int shift(struct ish_run *r, int fd, int flags, int fresh, struct nk_err *e)
{
	struct nk_walk_stats ws;
	uint64_t errors;
	int x;

	r->phase = PHASE_SHIFT;
	atomic_store(&r->stop, STOP_NONE);
	atomic_store(&r->n_errors, 0);
	r->first_problem[0] = '\0';
	if ((x = walk(r, fd, flags, &ws, e)) < 0)
		return x;
	if (ws.stopped) {
		x = undo(r, fd, flags, fresh, e);
		return x == 1 ? 2 : x < 0 ? x : -EIO;
	}
	if (ish_apply_deferred(r))
		ws.errors++;
	ish_report_links(r);
	atomic_fetch_add(&r->n_skipped, ws.mounts_skipped + ws.errors);
	errors = atomic_load(&r->n_errors) + atomic_load(&r->n_change_errors);
	if (errors) {
		nk_warnx("%llu %s of '%s' %s not shifted (see above; run it again when fixed)", (unsigned long long)errors,
			 errors == 1 ? "entry" : "entries", r->path, errors == 1 ? "was" : "were");
		return 1;
	}
	journal_complete(r);
	return 0;
}

static void tree_reset(struct ish_run *r)
{
	r->resuming = 0;
	r->undoable = 0;
	atomic_store(&r->stop, STOP_NONE);
	atomic_store(&r->n_undo_failed, 0);
	atomic_store(&r->n_change_errors, 0);
	r->first_problem[0] = '\0';
	ish_inoset_clear(&r->pending);
	ish_inoset_clear(&r->links);
	r->progress_total = 0;
}

/* A file system whose permissions are the kernel's alone: ext2/3/4, XFS,
 * Btrfs, tmpfs, F2FS. On a network or FUSE file system another machine or
 * a user's daemon may change a directory root alone may write to, so
 * there every entry is opened (visit.c's sealed()). */
static int local_fs(int fd)
{
	static const unsigned long local[] = { 0xEF53, 0x58465342, 0x9123683E, 0x01021994, 0xF2F52010 };
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	for (size_t i = 0; i < sizeof local / sizeof *local; i++)
		if ((unsigned long)sf.f_type == local[i])
			return 1;
	return 0;
}

int ish_run_tree(struct ish_run *r, int topfd, const char *path, struct nk_err *e)
{
	NK_AUTOCLOSE int fd = -1, clone = -1;
	struct ish_tree tree;
	int status = 0, flags, fresh = 1, prescan, x;

	r->path = path;
	r->changing = !r->dry && !r->check;
	tree_reset(r);
	if ((x = ish_tree_of(topfd, &tree)) < 0)
		return nk_syserr(e, -x, "cannot stat '%s'", path);
	snprintf(r->jname, sizeof r->jname, "%llu-%llu.journal", (unsigned long long)tree.dev,
		 (unsigned long long)tree.ino);
	if (!r->check && (x = journal_lookup(r, &tree, e)) < 0)
		return x;
	fresh = !r->resuming;
	if ((fd = walk_root(topfd, path, &clone, &flags)) < 0)
		return nk_syserr(e, errno, "cannot open '%s'", path);
	r->byname_ok = local_fs(fd);
	r->euid = geteuid();
	if (r->check)
		return (x = scan(r, fd, flags, &status, e)) < 0 ? x : status;
	/* --unmapped fail: one walk that shifts, and undoes what it did if it
	 * meets an id outside --from. It tells the inodes it changed from
	 * others that took their numbers by their birth time: where the file
	 * system keeps none (and for --dry-run), a scan first, then the shift. */
	prescan = r->unmapped == UNMAPPED_FAIL && (r->dry || !tree.id.has_btime);
	for (;;) {
		if (prescan && (x = scan(r, fd, flags, &status, e)) < 0)
			return x;
		r->undoable = r->unmapped == UNMAPPED_FAIL && !prescan && r->changing;
		if (r->changing && r->jfd < 0 && (x = fresh ? journal_create(r, &tree, e) : journal_reopen(r, e)) < 0)
			return x;
		if (!r->changing)
			clock_gettime(CLOCK_REALTIME, &r->trun);
		x = shift(r, fd, flags, fresh, e);
		if (x != 2)
			break;
		/* More privileged files than may be held: scan, then shift. */
		prescan = 1;
	}
	journal_close(r);
	return x;
}
