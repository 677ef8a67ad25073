/* nsu-session.c - nsenter-user's session actions (see nsu-session.h) */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <libsmartcols.h>
#include "dl.h"
#include "idmap.h"
#include "nsu-session.h"
#include "num.h"
#include "proc.h"
#include "slice.h"
#include "tool.h"
#include "userns.h"

#define LIST_HINT "see 'nsenter-user --list'"

/* The caller's session folder, opened (created when CREATE); -ENOENT when
 * there is none. */
static int dir_open(uid_t uid, int create, struct nk_err *e)
{
	return nk_session_dir_open_user(getenv("XDG_RUNTIME_DIR"), uid, create, e);
}

/* The record of the caller's session NAME in S; returns the session
 * folder's fd. */
static int load_record(const char *name, struct nk_session *s, struct nk_err *e)
{
	NK_AUTOCLOSE int dirfd = -1;
	int r;

	if (nk_session_name_valid(name, e) < 0)
		return -e->code;
	dirfd = dir_open(getuid(), 0, e);
	if (dirfd == -ENOENT) {
		nk_errf(e, ENOENT, "no session '%s'", name);
		return nk_err_hint(e, LIST_HINT);
	}
	if (dirfd < 0)
		return dirfd;
	r = nk_session_load(dirfd, name, s, e);
	if (r == -ENOENT)
		return nk_err_hint(e, LIST_HINT);
	if (r < 0)
		return r;
	return nk_steal_fd(&dirfd);
}

/* The slice that the process pid/start holds, or NULL. */
static const struct nk_slice *slice_of(const struct nk_slices *sl, pid_t pid, uint64_t start)
{
	for (size_t k = 0; k < sl->n; k++)
		if (sl->v[k].pid == pid && sl->v[k].start == start)
			return &sl->v[k];
	return NULL;
}

/* --- --list ------------------------------------------------------------- */

/* libsmartcols is loaded only for --list: linking it costs every run of
 * nsenter-user its load, about 0.07 ms, a twentieth of a whole create. */
static struct {
	__typeof__(scols_column_set_json_type) *column_set_json_type;
	__typeof__(scols_line_set_data) *line_set_data;
	__typeof__(scols_new_table) *new_table;
	__typeof__(scols_print_table) *print_table;
	__typeof__(scols_table_enable_json) *table_enable_json;
	__typeof__(scols_table_new_column) *table_new_column;
	__typeof__(scols_table_new_line) *table_new_line;
	__typeof__(scols_table_set_name) *table_set_name;
	__typeof__(scols_unref_table) *unref_table;
} S;

static int load_scols(struct nk_err *e)
{
	const struct nk_dl_sym syms[] = {
		{ "scols_column_set_json_type", (void **)&S.column_set_json_type },
		{ "scols_line_set_data", (void **)&S.line_set_data },
		{ "scols_new_table", (void **)&S.new_table },
		{ "scols_print_table", (void **)&S.print_table },
		{ "scols_table_enable_json", (void **)&S.table_enable_json },
		{ "scols_table_new_column", (void **)&S.table_new_column },
		{ "scols_table_new_line", (void **)&S.table_new_line },
		{ "scols_table_set_name", (void **)&S.table_set_name },
		{ "scols_unref_table", (void **)&S.unref_table },
	};

	return nk_dl_load("libsmartcols.so.1", "libsmartcols1", syms, NK_ARRAY_SIZE(syms), e);
}

static void unref_tablep(struct libscols_table **tb)
{
	if (*tb)
		S.unref_table(*tb);
}

enum { COL_NAME, COL_PID, COL_UIDMAP, COL_GIDMAP, COL_AGE, COL_STATE, COL_SLICE, NCOLS };

static const struct { const char *name; double w; int num; } cols[NCOLS] = {
	[COL_NAME] = { "NAME", 0.1, 0 },     [COL_PID] = { "PID", 0.1, 1 },
	[COL_UIDMAP] = { "UIDMAP", 0.3, 0 }, [COL_GIDMAP] = { "GIDMAP", 0.3, 0 },
	[COL_AGE] = { "AGE", 0.05, 1 },      [COL_STATE] = { "STATE", 0.05, 0 },
	[COL_SLICE] = { "SLICE", 0.1, 0 },
};

/* What --list shows: the records, and the live slices when there is a
 * record (a slice names its session's holder by pid and start time). */
struct listing {
	struct nk_session *v;
	size_t n;
	struct nk_slices sl;
	int with_slices;        /* a session has a slice: the SLICE column */
};

static void listing_free(struct listing *l)
{
	free(l->v);
	nk_slices_free(&l->sl);
}

static int listing_load(struct listing *l, struct nk_err *e)
{
	NK_AUTOCLOSE int dirfd = -1, sdir = -1;

	dirfd = dir_open(getuid(), 0, e);
	if (dirfd == -ENOENT)
		return 0;
	if (dirfd < 0)
		return dirfd;
	if (nk_session_list(dirfd, &l->v, &l->n, e) < 0)
		return -e->code;
	if (l->n == 0)
		return 0;
	sdir = nk_slice_dir_open(getuid(), 0, e);
	if (sdir == -ENOENT)
		return 0;
	if (sdir < 0 || nk_slices_load_live(sdir, &l->sl, e) < 0)
		return -e->code;
	/* The SLICE column only when a session has one (--isolate): the
	 * table of sessions without is what it always was. */
	for (size_t i = 0; i < l->n; i++)
		if (slice_of(&l->sl, l->v[i].pid, l->v[i].start))
			l->with_slices = 1;
	return 0;
}

static void fmt_age(char *buf, size_t len, int64_t secs, int json)
{
	if (json)
		snprintf(buf, len, "%lld", (long long)secs);
	else if (secs < 120)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(buf, len, "%lldm", (long long)secs / 60);
	else if (secs < 172800)
		snprintf(buf, len, "%lldh", (long long)secs / 3600);
	else
		snprintf(buf, len, "%lldd", (long long)secs / 86400);
}

/* The map of PID as INNER:OUTER:COUNT,...; "-" when it cannot be read. */
static void fmt_map(char *buf, size_t len, pid_t pid, enum nk_idtype t)
{
	struct nk_map m;
	struct nk_err e;
	size_t off = 0;

	buf[0] = '\0';
	nk_map_init(&m);
	if (nk_map_read_proc(pid, t, &m, &e) < 0) {
		snprintf(buf, len, "-");
		return;
	}
	for (size_t i = 0; i < m.n && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%u:%u:%u", i ? "," : "", m.ext[i].inner,
				 m.ext[i].outer, m.ext[i].count);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	nk_map_free(&m);
}

/* FIRST-LAST of the uids, and /FIRST-LAST of the gids when they differ. */
static void fmt_slice(char *buf, size_t len, const struct nk_slice *x)
{
	unsigned long long ulast = (unsigned long long)x->uid + x->count - 1;
	unsigned long long glast = (unsigned long long)x->gid + x->count - 1;

	if (x->uid == x->gid)
		snprintf(buf, len, "%u-%llu", x->uid, ulast);
	else
		snprintf(buf, len, "%u-%llu/%u-%llu", x->uid, ulast, x->gid, glast);
}

/* The text of every cell of one session's line (NULL: JSON null). */
struct row {
	char pid[24], map[2][4096], age[32], slice[64];
	const char *cell[NCOLS];
};

static void fill_row(struct row *r, const struct listing *l, const struct nk_session *s, int json,
		     time_t now)
{
	const struct nk_slice *x = NULL;
	struct nk_err ignored;
	int pidfd, live;

	live = nk_session_open(s, getuid(), &pidfd, &ignored) == 0;
	if (pidfd >= 0)
		close(pidfd);
	snprintf(r->pid, sizeof r->pid, "%d", (int)s->pid);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		if (live)
			fmt_map(r->map[t], sizeof r->map[t], s->pid, t);
		else
			snprintf(r->map[t], sizeof r->map[t], "-");
	}
	fmt_age(r->age, sizeof r->age, (int64_t)now - s->created, json);
	if (live)
		x = slice_of(&l->sl, s->pid, s->start);
	if (x)
		fmt_slice(r->slice, sizeof r->slice, x);
	else
		snprintf(r->slice, sizeof r->slice, "-");
	r->cell[COL_NAME] = s->name;
	r->cell[COL_PID] = r->pid;
	r->cell[COL_UIDMAP] = r->map[NK_UID];
	r->cell[COL_GIDMAP] = r->map[NK_GID];
	r->cell[COL_AGE] = r->age;
	r->cell[COL_STATE] = live ? "running" : "stale";
	r->cell[COL_SLICE] = json && !x ? NULL : r->slice;
}

static struct libscols_table *new_table(int json, size_t ncols, struct nk_err *e)
{
	struct libscols_table *tb = S.new_table();

	if (!tb) {
		nk_errf(e, ENOMEM, "out of memory");
		return NULL;
	}
	S.table_enable_json(tb, json);
	S.table_set_name(tb, "sessions");
	for (size_t i = 0; i < ncols; i++) {
		struct libscols_column *cl = S.table_new_column(tb, cols[i].name, cols[i].w, 0);

		if (!cl) {
			S.unref_table(tb);
			nk_errf(e, ENOMEM, "out of memory");
			return NULL;
		}
		if (json)
			S.column_set_json_type(cl, cols[i].num ? SCOLS_JSON_NUMBER : SCOLS_JSON_STRING);
	}
	return tb;
}

static int print_listing(const struct listing *l, int json, struct nk_err *e)
{
	size_t ncols = l->with_slices ? NCOLS : NCOLS - 1;
	__attribute__((cleanup(unref_tablep))) struct libscols_table *tb = new_table(json, ncols, e);
	time_t now = time(NULL);
	struct row row;
	int r;

	if (!tb)
		return -e->code;
	for (size_t i = 0; i < l->n; i++) {
		struct libscols_line *ln = S.table_new_line(tb, NULL);

		if (!ln)
			return nk_errf(e, ENOMEM, "out of memory");
		fill_row(&row, l, &l->v[i], json, now);
		for (size_t c = 0; c < ncols; c++)
			if (S.line_set_data(ln, c, row.cell[c]) < 0)
				return nk_errf(e, ENOMEM, "out of memory");
	}
	r = S.print_table(tb);
	if (r < 0)
		return nk_syserr(e, -r, "cannot print the sessions");
	return 0;
}

int nsu_list(int json, struct nk_err *e)
{
	__attribute__((cleanup(listing_free))) struct listing l = { NULL, 0, { 0, NULL }, 0 };

	if (load_scols(e) < 0 || listing_load(&l, e) < 0 || print_listing(&l, json, e) < 0)
		return -e->code;
	return 0;
}

/* --- --stop ------------------------------------------------------------- */

/* The slice of the holder pid/start once it is gone: freed when nothing is
 * left in its namespace, else kept (and the caller told). */
static int stop_slice(const char *name, pid_t pid, uint64_t start, struct nk_err *e)
{
	NK_AUTOCLOSE int sdir = nk_slice_dir_open(getuid(), 0, e);
	pid_t left = 0;

	if (sdir == -ENOENT)
		return 0;
	/* Looked at and decided under the lock of the records (left -1: /proc
	 * could not tell, the slice stays taken until a later reserve or stop
	 * sees its namespace empty). */
	if (sdir < 0 || nk_slice_stop(sdir, pid, start, &left, e) < 0)
		return -e->code;
	if (left > 0)
		nk_warnx("session '%s' is stopped, but process %d is still in its namespace: its slice stays taken "
			 "until no process is left there", name, (int)left);
	return 0;
}

int nsu_stop(const char *name, struct nk_err *e)
{
	NK_AUTOCLOSE int dirfd = -1, pidfd = -1;
	struct nk_session s;
	int r;

	dirfd = load_record(name, &s, e);
	if (dirfd < 0)
		return dirfd;
	r = nk_session_open(&s, getuid(), &pidfd, e);
	if (r == -EPERM) {
		/* The record names a process that is not ours (its pid reused by
		 * another user, or a record made up): never signal it; the
		 * record, ours, goes. */
		nk_warnx("%s: only its record is removed, the process is left alone", e->msg);
		return nk_session_remove(dirfd, name, e);
	}
	/* ESTALE: nothing to stop, the record is all that is left of it. */
	if (r < 0 && r != -ESTALE)
		return r;
	if (r == 0 && nk_session_kill(pidfd, e) < 0)
		return -e->code;
	if (stop_slice(name, s.pid, s.start, e) < 0)
		return -e->code;
	return nk_session_remove(dirfd, name, e);
}

/* --- --join ------------------------------------------------------------- */

/* A pidfd for process ARG (*PID), which must be in a user namespace of ours. */
static int open_process(const char *arg, pid_t *pid, struct nk_err *e)
{
	NK_AUTOCLOSE int pidfd = -1;
	uid_t owner;

	if (nk_parse_pid_e(arg, pid, e) < 0)
		return -e->code;
	pidfd = nk_pidfd_open(*pid, 0);
	if (pidfd == -ESRCH)
		return nk_errf(e, ESRCH, "no process with pid %d", (int)*pid);
	if (pidfd < 0)
		return nk_syserr(e, -pidfd, "cannot open process %d", (int)*pid);
	if (nk_userns_owner(*pid, &owner, e) < 0)
		return -e->code;
	if (owner != getuid())
		return nk_errf(e, EPERM, "process %d is not in a user namespace of yours (its namespace belongs "
			       "to uid %u)", (int)*pid, (unsigned)owner);
	return nk_steal_fd(&pidfd);
}

/* A pidfd for the holder (*PID) of session NAME, checked to be the one its
 * record names. */
static int open_session(const char *name, pid_t *pid, struct nk_err *e)
{
	NK_AUTOCLOSE int dirfd = -1;
	struct nk_session s;
	int pidfd, r;

	dirfd = load_record(name, &s, e);
	if (dirfd < 0)
		return dirfd;
	r = nk_session_open(&s, getuid(), &pidfd, e);
	if (r == -ESTALE)
		return nk_err_hint(e, "run 'nsenter-user --stop %s' to remove it, then '--keep %s' again", name,
				   name);
	if (r < 0)
		return r;
	*pid = s.pid;
	return pidfd;
}

int nsu_join(const char *arg, char session[NK_SESSION_NAME_MAX + 1], struct nk_err *e)
{
	NK_AUTOCLOSE int pidfd = -1;
	pid_t pid = 0;

	session[0] = '\0';
	if (arg[0] >= '0' && arg[0] <= '9') {
		pidfd = open_process(arg, &pid, e);
	} else {
		pidfd = open_session(arg, &pid, e);
		snprintf(session, NK_SESSION_NAME_MAX + 1, "%s", arg);
	}
	if (pidfd < 0)
		return pidfd;
	return nk_userns_join(pidfd, pid, e);
}

/* --- --keep ------------------------------------------------------------- */

int nsu_keep_prepare(const char *name, uid_t uid, struct nk_err *e)
{
	NK_AUTOCLOSE int dirfd = -1, pidfd = -1;
	struct nk_session old;
	int r;

	if (nk_session_name_valid(name, e) < 0)
		return -e->code;
	dirfd = dir_open(uid, 1, e);
	if (dirfd < 0)
		return dirfd;
	r = nk_session_load(dirfd, name, &old, e);
	if (r == -ENOENT)
		return nk_steal_fd(&dirfd);
	if (r < 0)
		return r;
	r = nk_session_open(&old, uid, &pidfd, e);
	if (r == 0)
		return nk_errf(e, EEXIST, "session '%s' already exists (process %d; join it with '--join %s' or "
			       "end it with '--stop %s')", name, (int)old.pid, name, name);
	if (r != -ESTALE)
		return r;
	if (nk_session_remove(dirfd, name, e) < 0)
		return -e->code;
	return nk_steal_fd(&dirfd);
}

int nsu_keep_start(int dirfd, const char *name, uid_t uid, int slice_dir, uint64_t my_start,
		   struct nk_err *e)
{
	struct nk_session s;
	pid_t hp;
	int commit;

	/* All or nothing: the holder waits for the commit, given once its
	 * record is written; if we fail or die before, it removes what we
	 * wrote and ends, and its slice is free with it. */
	if (nk_session_spawn_holder(dirfd, name, &hp, &commit, e) < 0)
		return -e->code;
	if (nk_session_describe(&s, name, hp, uid, e) < 0 ||
	    (slice_dir >= 0 && nk_slice_move(slice_dir, getpid(), my_start, hp, s.start, name, 0, e) < 0) ||
	    nk_session_save(dirfd, &s, e) < 0) {
		kill(hp, SIGKILL);
		close(commit);
		return -e->code;
	}
	if (nk_session_commit(commit, e) < 0) {
		kill(hp, SIGKILL);
		return -e->code;
	}
	return 0;
}
