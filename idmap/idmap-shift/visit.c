/* What each walk does with an entry (shift.h's phases), and the two things
 * a shift decides only once the walk is over: the hardlinks whose names
 * were not all seen, and the privileged files an undoable run held. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "shift.h"
#include "tool.h"
#include "util.h"

static int ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* A hardlink's names, as the walk finds them. It is changed at its last
 * name, once every name was seen and nothing changed its links meanwhile:
 * its ctime (moved by link, unlink and rename) the same at every sighting
 * and not past the run's start. Its other names are then all inside the
 * tree. */
struct link_names {
	uint32_t seen, nlink;
	struct timespec ctime;
	int unstable;
	char *path;
};

static void link_free(void *v)
{
	struct link_names *l = v;

	if (l)
		free(l->path);
	free(l);
}

struct sighting {
	struct ish_run *r;
	const struct nk_walk_entry *en;
	int again;              /* a name of an inode seen before */
};

enum { LINK_WAIT, LINK_GO, LINK_SEEN };

static int sight(struct ish_inoent *x, int is_new, void *arg)
{
	struct sighting *s = arg;
	const struct stat *st = &s->en->st;
	struct link_names *l = x->val;
	char path[4200];

	if (is_new) {
		if (!(l = calloc(1, sizeof *l)))
			return -ENOMEM;
		ish_entry_path(path, sizeof path, s->en);
		if (!(l->path = strdup(path))) {
			free(l);
			return -ENOMEM;
		}
		l->nlink = (uint32_t)st->st_nlink;
		l->ctime = st->st_ctim;
		l->unstable = s->r->changing && ts_after(&st->st_ctim, &s->r->trun);
		x->val = l;
	} else
		s->again = 1;
	if (++l->seen > l->nlink)
		return LINK_SEEN;
	if (l->nlink != st->st_nlink || l->ctime.tv_sec != st->st_ctim.tv_sec || l->ctime.tv_nsec != st->st_ctim.tv_nsec)
		l->unstable = 1;
	return l->seen == l->nlink && !l->unstable ? LINK_GO : LINK_WAIT;
}

/* For a non-directory with several links: LINK_GO (change it now),
 * LINK_WAIT (not yet, or never) or LINK_SEEN (done at an earlier name). */
static int hardlink(struct ish_run *r, const struct nk_walk_entry *en, struct nk_err *e)
{
	struct sighting s = { r, en, 0 };
	int x;

	if (r->phase != PHASE_SHIFT || r->outside_links) {
		/* Once an inode: at its first name. */
		x = ish_inoset_add(&r->links, en->st.st_dev, en->st.st_ino, NULL);
		if (x < 0)
			return nk_errf(e, ENOMEM, "out of memory");
		if (x == 1 && r->phase == PHASE_SHIFT)
			ish_count(r, C_LINKS);
		return x ? LINK_SEEN : LINK_GO;
	}
	x = ish_inoset_upsert(&r->links, en->st.st_dev, en->st.st_ino, sight, &s);
	if (x < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	if (s.again)
		ish_count(r, C_LINKS);    /* names past the first, as with one walk */
	return x;
}

/* 1 when this shift cannot have made ST's owner or group what it is: an
 * id inside --from that no id becomes (nor the overflow id). */
static int not_shifted(const struct ish_run *r, const struct stat *st)
{
	const uint32_t id[2] = { st->st_uid, st->st_gid };
	uint32_t x;

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (nk_shift_id(&r->shift, t, id[t], &x) == 0 && !nk_shift_in_image(&r->shift, t, id[t]) &&
		    !(r->unmapped == UNMAPPED_OVERFLOW && id[t] == r->overflow[t]))
			return 1;
	return 0;
}

/* What the interrupted run left of EN: 1 when it is to be shifted from
 * what it is now, 0 when it is done (by that run, or finished here from
 * its record), or a negative errno. A "p" record applies only to the inode
 * it names, half way to the state it holds; an "f" record: that inode
 * failed, and is shifted whatever its ctime. Where ids of the two maps
 * overlap, a ctime past the journal's start (and owners this shift can
 * have made) means done: nothing else tells. Elsewhere the ids tell. */
static int resume_entry(struct ish_run *r, const struct nk_walk_entry *en, struct nk_err *e)
{
	const char *rec = ish_inoset_get(&r->pending, en->st.st_dev, en->st.st_ino);
	int x;

	if (rec && rec[0] == 'p') {
		if (r->phase == PHASE_SCAN)
			return 0;
		if ((x = ish_finish_record(r, en, rec, e)) != 1)
			return x;
	} else if (rec && rec[0] == 'f') {
		/* That inode failed: shifted whatever its ctime, when it is the
		 * one recorded (its birth time, where the file system keeps
		 * one); another inode that took the number is as never seen. */
		NK_AUTOFREE struct ish_record *f = malloc(sizeof *f);
		struct ish_ident now = { .has_btime = en->has_btime, .btime = en->btime };

		if (!f)
			return nk_errf(e, ENOMEM, "out of memory");
		if (ish_record_parse(rec, f) == 0 && (!f->id.has_btime || !now.has_btime || ish_ident_match(&f->id, &now)))
			return 1;
	}
	if (r->hazard && ts_after(&en->st.st_ctim, &r->tjournal) && !not_shifted(r, &en->st)) {
		if (r->phase == PHASE_SHIFT)
			ish_count(r, C_DONE_BEFORE);
		return 0;
	}
	return 1;
}

/* Setuid, setgid and capability files of an undoable run wait until the
 * walk has found every id inside --from: the undo never has to give such
 * bits back. */
static int defer(struct ish_run *r, const struct nk_walk_entry *en, struct nk_err *e)
{
	char path[4200];
	struct ish_deferred d = { -1, en->fd_path, NULL };

	ish_entry_path(path, sizeof path, en);
	pthread_mutex_lock(&r->deflock);
	if (r->ndeferred >= ISH_DEFER_MAX) {
		pthread_mutex_unlock(&r->deflock);
		atomic_store(&r->stop, STOP_DEFERRED_FULL);
		return NK_WALK_STOP;
	}
	if (nk_grow(&r->deferred, r->ndeferred, &r->defcap, sizeof *r->deferred, 16) < 0 ||
	    (d.fd = fcntl(en->fd, F_DUPFD_CLOEXEC, 3)) < 0 || !(d.path = strdup(path))) {
		pthread_mutex_unlock(&r->deflock);
		if (d.fd >= 0)
			close(d.fd);
		return nk_errf(e, ENOMEM, "out of memory");
	}
	r->deferred[r->ndeferred++] = d;
	pthread_mutex_unlock(&r->deflock);
	return 0;
}

/* Record EN as failed: a re-run shifts it whatever its ctime. */
static void record_failed(struct ish_run *r, const struct nk_walk_entry *en, struct nk_err *e)
{
	struct ish_record rec = { .kind = 'f', .ino = en->st.st_ino };
	char line[ISH_LINE_MAX];

	if (r->jfd < 0)
		return;
	rec.id.has_btime = en->has_btime;
	rec.id.btime = en->btime;
	ish_record_format(&rec, line, sizeof line);
	if (nk_write_full(r->jfd, line, strlen(line)) < 0)
		nk_err_hint(e, "and it could not be recorded in the journal: %s", strerror(errno));
}

/* A change that failed: said now (the first ones), counted, recorded. */
static int change_failed(struct ish_run *r, const struct nk_walk_entry *en, struct nk_err *e)
{
	record_failed(r, en, e);
	if (atomic_fetch_add(&r->n_change_errors, 1) < ISH_MAX_OFFENDERS) {
		pthread_mutex_lock(&r->outlock);
		nk_err_print(e);
		pthread_mutex_unlock(&r->outlock);
	}
	return 0;
}

/* Once the entry is known to be changed now: what it must become, then
 * change it (or, in an undoable run, hold it when it is privileged). */
/* A target a thread (8 KiB: not on the stack of every call, not a malloc
 * a file). */
static _Thread_local struct ish_target target_mine;

static int shift_entry(struct ish_run *r, const struct nk_walk_entry *en, const int *known, struct nk_err *e)
{
	struct ish_target *tg = &target_mine;
	char path[4200];
	int x;

	x = ish_target_of(r, en, known, tg, e);
	if (x == ISH_UNMAPPED) {
		if (r->undoable) {
			atomic_store(&r->stop, STOP_UNMAPPED);
			return NK_WALK_STOP;
		}
		ish_entry_path(path, sizeof path, en);
		return nk_errf(e, ENOENT, "cannot shift '%s': an id is outside --from (left unchanged)", path);
	}
	if (x < 0 || r->phase == PHASE_SCAN)
		return x;
	ish_target_finish(en, tg);
	/* Held until the walk is over, in an undoable run: what chown clears
	 * (setuid, setgid, a capability), and any ACL (the undo could not
	 * tell its entries from ones added meanwhile). */
	if (r->undoable && !r->dry && (tg->chmod || tg->cap_len >= 0 || tg->has_acl))
		return defer(r, en, e);
	x = ish_commit(r, en, tg, e);
	if (x < 0)
		return change_failed(r, en, e);
	return x;
}

/* A directory whose entries nobody but this run can change while it
 * lists them: the caller's, writable by nobody else (with an ACL, the
 * group bits are its mask: no named entry may write either), on a local
 * file system (see run.c). Its names cannot be swapped or linked to under
 * the walk, so its plain files are changed by name, unopened; the
 * directory itself is changed after them, when it may become a user's. */
static int sealed(const struct ish_run *r, const struct nk_walk_entry *en)
{
	return r->byname_ok && r->phase == PHASE_SHIFT && r->changing && !r->resuming && !en->fd_path &&
	       S_ISDIR(en->st.st_mode) && en->st.st_uid == r->euid && !(en->st.st_mode & 022);
}

/* An entry handed by name (in a sealed directory): changed so when all it
 * needs is a chown: one name, no setuid or setgid bit (chown clears them),
 * no ACL or capability, nothing to resume. Else NK_WALK_NEED_FD, and it
 * comes again open. KNOWN: its xattrs (none that hold ids). */
static int byname_plain(struct ish_run *r, const struct nk_walk_entry *en, int known[3], struct nk_err *e)
{
	if (r->resuming || en->st.st_nlink > 1 || (en->st.st_mode & 06000))
		return NK_WALK_NEED_FD;
	if (ish_xattrs_present(en, known, e) < 0)
		return NK_WALK_NEED_FD;         /* said again, if it persists, from the fd */
	return known[0] || known[1] || known[2] ? NK_WALK_NEED_FD : 0;
}

static int visit_shift(struct ish_run *r, const struct nk_walk_entry *en, struct nk_err *e)
{
	int known[3], x;

	if (atomic_load_explicit(&r->stop, memory_order_relaxed))
		return NK_WALK_STOP;
	if (!en->post && sealed(r, en))
		return NK_WALK_BYNAME;
	if (en->fd < 0 && (x = byname_plain(r, en, known, e)) != 0)
		return x;
	if (r->phase == PHASE_SHIFT)
		ish_count(r, C_FILES);
	/* Made after the run began: not part of the tree it shifts (and
	 * never confused, by the undo, with an inode this run changed). */
	if (r->changing && en->has_btime && ts_after(&en->btime, &r->trun)) {
		ish_count(r, C_NEW);
		return 0;
	}
	if (!S_ISDIR(en->st.st_mode) && en->st.st_nlink > 1 && (x = hardlink(r, en, e)) != LINK_GO)
		return x < 0 ? x : 0;
	if (r->resuming && (x = resume_entry(r, en, e)) != 1)
		return x < 0 ? change_failed(r, en, e) : 0;
	return shift_entry(r, en, en->fd < 0 ? known : NULL, e);
}

/* The undo: what this run changed is shifted back (once an inode), and
 * the tree is scanned, as a pre-scan would, for what to report. */
static int visit_undo(struct ish_run *r, const struct nk_walk_entry *found, struct nk_err *e)
{
	struct nk_walk_entry now = *found, *en = &now;
	struct ish_target *tg;
	int x;

	struct ish_before b;

	if ((!en->has_btime || !ts_after(&en->btime, &r->trun)) && ish_inolist_claim(&r->changed, en->st.st_ino, &b)) {
		char path[4200];

		x = ish_revert(r, en, &b, e);
		if (x < 0) {
			atomic_fetch_add(&r->n_undo_failed, 1);
			pthread_mutex_lock(&r->outlock);
			nk_err_print(e);
			pthread_mutex_unlock(&r->outlock);
			return 0;
		}
		if (x == 1 && atomic_fetch_add(&r->n_touched, 1) < ISH_MAX_OFFENDERS) {
			ish_entry_path(path, sizeof path, en);
			nk_warnx("'%s' was changed while this run had it shifted: its owner, group and mode are put back, "
				 "an ACL added meanwhile removed; what was written to it stays", path);
		}
	}
	/* The state after the revert is the one scanned. */
	if (nk_fd_stat(en->fd, &now.st, NULL, NULL, NULL) < 0)
		return 0;
	if (!S_ISDIR(en->st.st_mode) && en->st.st_nlink > 1 &&
	    ish_inoset_add(&r->links, en->st.st_dev, en->st.st_ino, NULL) != 0)
		return 0;
	tg = &target_mine;
	x = ish_target_of(r, en, NULL, tg, e);
	return x < 0 ? x : 0;
}

int ish_visit(void *ctx, const struct nk_walk_entry *en, struct nk_err *e)
{
	struct ish_run *r = ctx;

	if (r->phase == PHASE_UNDO)
		return visit_undo(r, en, e);
	return visit_shift(r, en, e);
}

/* An error of the walk or of reading an entry (a change that failed is
 * change_failed's). An undoable shift stops at the first, and says
 * nothing yet: the undo's scan says them all. */
void ish_walk_error(void *ctx, const char *path, const struct nk_err *e)
{
	struct ish_run *r = ctx;

	(void)path;
	if (r->phase == PHASE_SHIFT && r->undoable) {
		int none = STOP_NONE;

		atomic_compare_exchange_strong(&r->stop, &none, STOP_ERRORS);
		pthread_mutex_lock(&r->outlock);
		if (!r->first_problem[0])
			snprintf(r->first_problem, sizeof r->first_problem, "%s", e->msg);
		pthread_mutex_unlock(&r->outlock);
		return;
	}
	if (atomic_fetch_add(&r->n_errors, 1) < ISH_MAX_OFFENDERS)
		nk_err_print(e);
}

void ish_deferred_drop(struct ish_run *r)
{
	for (size_t i = 0; i < r->ndeferred; i++) {
		close(r->deferred[i].fd);
		free(r->deferred[i].path);
	}
	free(r->deferred);
	r->deferred = NULL;
	r->ndeferred = r->defcap = 0;
}

/* The walk found every id inside --from: the held files now. Each is
 * looked at again (its owner may have changed it since). */
int ish_apply_deferred(struct ish_run *r)
{
	int failed = 0;

	r->undoable = 0;
	for (size_t i = 0; i < r->ndeferred; i++) {
		struct ish_deferred *d = &r->deferred[i];
		struct nk_walk_entry en = { .dirfd = -1, .name = ".", .dirpath = d->path, .fd = d->fd,
					    .fd_path = d->fd_path };
		struct nk_err e;
		int x;

		if (nk_fd_stat(d->fd, &en.st, &en.btime, &en.has_btime, NULL) < 0)
			continue;
		x = shift_entry(r, &en, NULL, &e);
		if (x < 0) {
			ish_walk_error(r, d->path, &e);
			failed = 1;
		}
	}
	ish_deferred_drop(r);
	return failed;
}

struct outside {
	struct ish_run *r;
	uint64_t unstable;
};

static void link_report(const struct ish_inoent *x, void *arg)
{
	struct outside *o = arg;
	const struct link_names *l = x->val;

	if (!l || (l->seen >= l->nlink && !l->unstable))
		return;
	if (l->unstable) {
		o->unstable++;
		nk_warnx("'%s': its links changed while the tree was shifted: left as it is (run it again)", l->path);
		return;
	}
	if (atomic_fetch_add(&o->r->n_outside, 1) < ISH_MAX_OFFENDERS)
		nk_warnx("'%s': %u of its %u names are outside the tree: left as it is (--outside-links shift shifts it)",
			 l->path, l->nlink - l->seen, l->nlink);
}

/* The hardlinks the walk did not change: reported. Returns 1 when some
 * changed their links during the run (the run is then incomplete). */
void ish_report_links(struct ish_run *r)
{
	struct outside o = { r, 0 };
	uint64_t n;

	if (r->outside_links || r->phase != PHASE_SHIFT)
		return;
	ish_inoset_each(&r->links, link_report, &o);
	n = atomic_load(&r->n_outside);
	if (n > ISH_MAX_OFFENDERS)
		nk_warnx("... and %llu more with names outside the tree", (unsigned long long)(n - ISH_MAX_OFFENDERS));
	if (o.unstable)
		atomic_fetch_add(&r->n_errors, o.unstable);
}

void ish_links_free_val(void *v)
{
	link_free(v);
}
