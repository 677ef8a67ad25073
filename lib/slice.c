#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "fields.h"
#include "lines.h"
#include "num.h"
#include "paths.h"
#include "proc.h"
#include "slice.h"
#include "userns.h"

void nk_slices_free(struct nk_slices *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int nk_slices_add(struct nk_slices *s, const struct nk_slice *one)
{
	struct nk_slice *nv = realloc(s->v, (s->n + 1) * sizeof *nv);

	if (!nv)
		return -ENOMEM;
	s->v = nv;
	s->v[s->n++] = *one;
	return 0;
}

uint32_t nk_slice_first(const struct nk_slice *s, enum nk_idtype t)
{
	const uint32_t first[2] = { s->uid, s->gid };

	return first[t];
}

/* --- the record text ------------------------------------------------------- */

static int field_session(const char *v, void *dst)
{
	struct nk_err e;

	if (nk_session_name_valid(v, &e) < 0)
		return -EINVAL;
	snprintf(dst, NK_SESSION_NAME_MAX + 1, "%s", v);
	return 0;
}

enum { F_UID = 1, F_GID = 2, F_COUNT = 4, F_PID = 8, F_START = 16, F_ALL = 31 };

/* A record's fields; one that is not here is skipped (a newer version's). */
static const struct nk_field slice_fields[] = {
	{ "uid", nk_field_id, offsetof(struct nk_slice, uid), F_UID },
	{ "gid", nk_field_id, offsetof(struct nk_slice, gid), F_GID },
	{ "count", nk_field_count, offsetof(struct nk_slice, count), F_COUNT },
	{ "pid", nk_field_pid, offsetof(struct nk_slice, pid), F_PID },
	{ "start", nk_field_u64, offsetof(struct nk_slice, start), F_START },
	{ "userns", nk_field_u64, offsetof(struct nk_slice, userns), 0 },
	{ "pidns", nk_field_u64, offsetof(struct nk_slice, pidns), 0 },
	{ "seen", nk_field_u64, offsetof(struct nk_slice, seen), 0 },
	{ "nspid", nk_field_pid32, offsetof(struct nk_slice, nspid), 0 },
	{ "session", field_session, offsetof(struct nk_slice, session), 0 },
};

int nk_slices_parse(const char *text, struct nk_slices *out, struct nk_err *e)
{
	struct nk_lines lines;
	char line[512];
	int r;

	nk_lines_init(&lines, text, strlen(text));
	while ((r = nk_lines_next(&lines, line, sizeof line)) != 0) {
		unsigned lineno = lines.no, seen = 0;
		char *words[sizeof line / 2];
		struct nk_slice s;
		size_t nw;

		if (r < 0)
			return nk_errf(e, EINVAL, "slice records: line %u is too long", lineno);
		if (lineno == 1) {
			if (strcmp(line, "nskit-slices 1") != 0)
				return nk_errf(e, EINVAL, "slice records: not a slice file (first line '%s')", line);
			continue;
		}
		if (line[0] == '\0' || line[0] == '#')
			continue;
		memset(&s, 0, sizeof s);
		nw = nk_words(line, " \t", words, sizeof words / sizeof *words);
		for (size_t i = 0; i < nw; i++) {
			char *w = words[i], *eq = strchr(w, '=');

			if (!eq)
				return nk_errf(e, EINVAL, "slice records: line %u: no '=' in '%s'", lineno, w);
			*eq++ = '\0';
			if (nk_field_set(slice_fields, sizeof slice_fields / sizeof *slice_fields, &s, w, eq, &seen) < 0)
				return nk_errf(e, EINVAL, "slice records: line %u: invalid %s '%s'", lineno, w, eq);
		}
		if (seen != F_ALL)
			return nk_errf(e, EINVAL, "slice records: line %u: incomplete (needs uid, gid, count, pid, "
				       "start)", lineno);
		if ((uint64_t)s.uid + s.count - 1 > NK_ID_MAX || (uint64_t)s.gid + s.count - 1 > NK_ID_MAX)
			return nk_errf(e, EINVAL, "slice records: line %u: the slice goes past id %lu", lineno,
				       NK_ID_MAX);
		if (nk_slices_add(out, &s) < 0)
			return nk_errf(e, ENOMEM, "out of memory");
	}
	if (lines.no == 0)
		return nk_errf(e, EINVAL, "slice records: empty file");
	return 0;
}

int nk_slices_format(const struct nk_slices *s, char *buf, size_t len)
{
	size_t off = 0;
	int n = snprintf(buf, len, "nskit-slices 1\n");

	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	off = (size_t)n;
	for (size_t i = 0; i < s->n; i++) {
		const struct nk_slice *x = &s->v[i];

		char ns[128] = "";
		int o = 0;

		if (x->userns)
			o += snprintf(ns + o, sizeof ns - (size_t)o, " userns=%llu", (unsigned long long)x->userns);
		if (x->pidns)
			o += snprintf(ns + o, sizeof ns - (size_t)o, " pidns=%llu nspid=%u",
				      (unsigned long long)x->pidns, x->nspid);
		if (x->pidns && x->seen)
			snprintf(ns + o, sizeof ns - (size_t)o, " seen=%llu", (unsigned long long)x->seen);
		n = snprintf(buf + off, len - off, "uid=%u gid=%u count=%u pid=%d start=%llu%s%s%s\n", x->uid,
			     x->gid, x->count, (int)x->pid, (unsigned long long)x->start, ns,
			     x->session[0] ? " session=" : "", x->session);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return (int)off;
}

/* --- liveness -------------------------------------------------------------- */

/* The pid namespace whose pids this /proc shows, when it is ours (0: not
 * known: a /proc of an ancestor's). */
static uint64_t proc_pidns(void)
{
	struct nk_proc_status st;
	struct nk_err e;
	uint64_t ino;

	if (nk_proc_status(0, &st, &e) < 0 || st.nspid_levels != 1 || nk_proc_ns_ino(0, "pid", &ino, &e) < 0)
		return 0;
	return ino;
}

/* Is P (a pid of this /proc) the owner S names? */
static int is_owner(pid_t p, const struct nk_slice *s)
{
	struct nk_proc_status st;
	struct nk_err e;
	uint64_t now, ino;

	/* The start time names one process for good: a pid reused since has
	 * another one. A process that cannot be read is gone; a zombie whose
	 * threads have all ended has left its namespaces. */
	if (nk_proc_starttime(p, &now, &e) < 0 || now != s->start || nk_proc_status(p, &st, &e) < 0 ||
	    nk_proc_status_gone(&st))
		return 0;
	if (!s->pidns)
		return 1;       /* a record from before pid namespaces were recorded */
	/* One tick of start time is 10 ms: two pid namespaces can each have
	 * a process with this pid started then. Its namespace tells. */
	if (nk_proc_ns_ino(p, "pid", &ino, &e) == 0)
		return ino == s->pidns && st.nspid == s->nspid;
	/* Not ours to inspect from here (we are inside a new user namespace):
	 * a process of this /proc's own pid namespace (one NSpid level) is in
	 * the recorded one when that is this /proc's. */
	return st.nspid_levels == 1 && st.nspid == s->nspid && proc_pidns() == s->pidns;
}

/* Does this /proc show a kernel thread? Only the initial pid namespace
 * has them (kthreadd is its pid 2, PF_KTHREAD in field 9 of its stat): its
 * /proc shows every pid namespace there is. */
static int proc_is_initial(void)
{
	char buf[512], *p;
	unsigned long flags;
	ssize_t n;
	int fd = open("/proc/2/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* ") S PPID PGRP SESSION TTY TPGID FLAGS" */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return 0;
	return (flags & 0x00200000UL) != 0;     /* PF_KTHREAD */
}

enum owner_state { OWNER_GONE, OWNER_ALIVE, OWNER_UNKNOWN };

/* Is the owner of S alive, gone, or out of sight? *SEEN gets this /proc's
 * pid namespace when the owner was found in another one below it (0 else). */
static enum owner_state owner_state(const struct nk_slice *s, uint64_t *seen)
{
	struct dirent *de;
	uint64_t here;
	DIR *d;
	int found = 0, visible = 0;

	*seen = 0;
	if (is_owner(s->pid, s))
		return OWNER_ALIVE;
	here = proc_pidns();
	if (!s->pidns || (here && here == s->pidns))
		return OWNER_GONE;
	/* Recorded in another pid namespace (nsenter-user --pid, unshare
	 * --pid, a container, or the host seen from inside one): its pid
	 * means another process here. Look for it by start time, namespace
	 * and its pid there. */
	d = opendir("/proc");
	if (!d)
		return OWNER_UNKNOWN;
	while (!found && (de = readdir(d))) {
		struct nk_err e;
		uint64_t ino;
		pid_t p;

		if (nk_parse_pid(de->d_name, &p) < 0)
			continue;
		if (!visible && nk_proc_ns_ino(p, "pid", &ino, &e) == 0 && ino == s->pidns)
			visible = 1;
		if (p != s->pid)
			found = is_owner(p, s);
	}
	closedir(d);
	if (found) {
		*seen = here;
		return OWNER_ALIVE;
	}
	/* Not found. Gone only when its pid namespace is one this /proc shows
	 * (below ours: its processes are all here): it has processes here, or
	 * it had when a reclaim from this /proc found the owner there (SEEN),
	 * or this /proc is the initial namespace's, which shows them all.
	 * Otherwise it may be an ancestor's (records made on the host, read
	 * from inside a toolbox-like container with a /proc of its own) or a
	 * sibling's, whose processes this /proc cannot show: not known to be
	 * gone, kept, and the slice with it. */
	if (visible || (here && s->seen == here) || proc_is_initial())
		return OWNER_GONE;
	return OWNER_UNKNOWN;
}

int nk_slice_alive(const struct nk_slice *s)
{
	uint64_t seen;

	return owner_state(s, &seen) != OWNER_GONE;
}

/* The identity of the process PID of this /proc (its pid namespace and pid
 * there) into S; left 0 when it cannot be read. */
static void owner_identity(pid_t pid, struct nk_slice *s)
{
	struct nk_proc_status st;
	struct nk_err e;
	pid_t q = pid == getpid() ? 0 : pid;    /* "self": right even under a /proc of another pid namespace */

	s->pidns = 0;
	s->nspid = 0;
	if (nk_proc_status(q, &st, &e) == 0 && nk_proc_ns_ino(q, "pid", &s->pidns, &e) == 0)
		s->nspid = st.nspid;
	else
		s->pidns = 0;
}

size_t nk_slices_reclaim(struct nk_slices *s, nk_slice_alive_fn alive)
{
	size_t j = 0, dropped, nask = 0;
	struct nk_userns_want *ask = NULL;
	pid_t *found = NULL;
	int *live = calloc(s->n ? s->n : 1, sizeof *live);

	if (!live)
		return 0;       /* keep them all: never free a slice we are unsure of */
	for (size_t i = 0; i < s->n; i++) {
		uint64_t seen = 0;

		if (alive)
			live[i] = alive(&s->v[i]) != 0;
		else
			live[i] = owner_state(&s->v[i], &seen) != OWNER_GONE;
		/* Found alive in a pid namespace below ours: once it is not
		 * found there, it is gone (see owner_state). */
		if (seen)
			s->v[i].seen = seen;
	}
	/* Its owner gone, a slice is still held while any process is left in
	 * its user namespace (a --join of a stopped session, a child the
	 * command left behind): ask /proc about those, all in one pass. */
	for (size_t i = 0; i < s->n; i++)
		if (!live[i] && s->v[i].userns)
			nask++;
	if (nask) {
		ask = malloc(nask * sizeof *ask);
		found = calloc(nask, sizeof *found);
		if (!ask || !found) {
			free(ask);
			free(found);
			free(live);
			return 0;
		}
		nask = 0;
		for (size_t i = 0; i < s->n; i++)
			if (!live[i] && s->v[i].userns)
				ask[nask++] = (struct nk_userns_want){ s->v[i].userns, s->v[i].uid, s->v[i].count };
		struct nk_err e;

		if (nk_userns_scan(ask, nask, found, &e) < 0) {
			for (size_t k = 0; k < nask; k++)
				found[k] = 1;   /* cannot tell: keep them */
		}
		nask = 0;
		for (size_t i = 0; i < s->n; i++)
			if (!live[i] && s->v[i].userns)
				live[i] = found[nask++] != 0;
	}
	for (size_t i = 0; i < s->n; i++)
		if (live[i])
			s->v[j++] = s->v[i];
	dropped = s->n - j;
	s->n = j;
	free(ask);
	free(found);
	free(live);
	return dropped;
}

/* --- picking --------------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
	const struct nk_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int nk_slice_pick(const struct nk_ranges *r, const struct nk_slices *used, enum nk_idtype t,
		  uint32_t size, uint32_t *start)
{
	struct nk_range *v;
	int found = 0;

	if (size == 0 || r->n == 0)
		return -ENOSPC;
	v = malloc(r->n * sizeof *v);
	if (!v)
		return -ENOMEM;
	memcpy(v, r->r, r->n * sizeof *v);
	qsort(v, r->n, sizeof *v, cmp_range);
	for (size_t i = 0; i < r->n && !found; i++) {
		uint64_t end = (uint64_t)v[i].start + v[i].count, cand = v[i].start;

		while (cand + size <= end) {
			uint64_t next = 0;

			for (size_t k = 0; k < used->n; k++) {
				uint64_t us = nk_slice_first(&used->v[k], t), ue = us + used->v[k].count;

				if (us < cand + size && cand < ue && ue > next)
					next = ue;
			}
			if (!next) {
				*start = (uint32_t)cand;
				found = 1;
				break;
			}
			cand = next;
		}
	}
	free(v);
	return found ? 0 : -ENOSPC;
}

void nk_slice_usage(const struct nk_ranges *r, const struct nk_slices *used, enum nk_idtype t,
		    uint64_t *total, uint64_t *inuse)
{
	*total = 0;
	*inuse = 0;
	for (size_t i = 0; i < r->n; i++) {
		uint64_t rs = r->r[i].start, re = rs + r->r[i].count;

		*total += r->r[i].count;
		for (size_t k = 0; k < used->n; k++) {
			uint64_t us = nk_slice_first(&used->v[k], t), ue = us + used->v[k].count;
			uint64_t a = us > rs ? us : rs, b = ue < re ? ue : re;

			if (a < b)
				*inuse += b - a;
		}
	}
}

void nk_slice_owner(const struct nk_slice *s, char *buf, size_t len)
{
	if (s->session[0])
		snprintf(buf, len, "session '%s'", s->session);
	else if (s->unrecorded)
		snprintf(buf, len, "pid %d, no record", (int)s->pid);
	else
		snprintf(buf, len, "pid %d", (int)s->pid);
}

int nk_slice_exhausted(struct nk_err *e, enum nk_idtype t, uint32_t size, const struct nk_ranges *r,
		       const struct nk_slices *used, const char *user)
{
	uint64_t total, inuse, want = 65536;
	char owners[600] = "";
	size_t off = 0;

	nk_slice_usage(r, used, t, &total, &inuse);
	for (size_t k = 0; k < used->n; k++) {
		char who[NK_SESSION_NAME_MAX + 40];
		nk_slice_owner(&used->v[k], who, sizeof who);
		snprintf(who + strlen(who), sizeof who - strlen(who), ": %u", used->v[k].count);
		if (off + strlen(who) + 8 >= sizeof owners) {
			/* Too many to name them all: the message stays one line. */
			off += (size_t)snprintf(owners + off, sizeof owners - off, ", ...");
			break;
		}
		off += (size_t)snprintf(owners + off, sizeof owners - off, "%s%s", k ? ", " : " (", who);
	}
	if (used->n)
		snprintf(owners + off, sizeof owners - off, ")");
	/* subid-alloc --count N adds a range of N only when the user has none
	 * that large: ask for one that holds all of today's ids and the new slice. */
	while (want < total + size)
		want *= 2;
	nk_errf(e, ENOSPC, "no free slice of %u ids: %llu of %llu subordinate %ss free, %llu in use%s", size,
		(unsigned long long)(total > inuse ? total - inuse : 0), (unsigned long long)total,
		nk_idtype_name(t), (unsigned long long)inuse, owners);
	nk_err_no_subids(e, user);
	e->want = want;
	return -e->code;
}

const struct nk_slice *nk_slice_lookup(const struct nk_slices *s, enum nk_idtype t, uint32_t first,
				       uint32_t count)
{
	for (size_t k = 0; k < s->n; k++) {
		uint64_t us = nk_slice_first(&s->v[k], t), ue = us + s->v[k].count;

		if (first >= us && (uint64_t)first + count <= ue)
			return &s->v[k];
	}
	return NULL;
}

/* --- the file -------------------------------------------------------------- */

/* The folder of DIRFD, for messages. */
static const char *dir_name(int dirfd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
	n = readlink(link, buf, len - 1);
	if (n <= 0)
		return "the slice folder";
	buf[n] = '\0';
	return buf;
}

int nk_slices_load(int dirfd, struct nk_slices *out, struct nk_err *e)
{
	NK_AUTOFREE char *buf = NULL;
	char dir[4096];
	size_t got;
	int r;

	out->n = 0;
	out->v = NULL;
	r = nk_read_regular_at(dirfd, NK_SLICE_FILE, NK_SLICE_FILE_MAX, &buf, &got);
	if (r == -ENOENT)
		return 0;
	if (r == -EINVAL)
		return nk_errf(e, EINVAL, "the slice records '%s/" NK_SLICE_FILE "' are not a regular file (remove it)",
			       dir_name(dirfd, dir, sizeof dir));
	if (r == -EFBIG)
		return nk_errf(e, EFBIG, "the slice records '%s/" NK_SLICE_FILE "' are larger than %u bytes (remove it)",
			       dir_name(dirfd, dir, sizeof dir), NK_SLICE_FILE_MAX);
	if (r == -ENOMEM)
		return nk_errf(e, ENOMEM, "out of memory");
	if (r < 0)
		return nk_syserr(e, -r, "cannot read the slice records '%s/" NK_SLICE_FILE "'",
				 dir_name(dirfd, dir, sizeof dir));
	if (nk_slices_parse(buf, out, e) < 0) {
		nk_slices_free(out);
		return -e->code;
	}
	return 0;
}

int nk_slices_load_live(int dirfd, struct nk_slices *out, struct nk_err *e)
{
	if (nk_slices_load(dirfd, out, e) < 0)
		return -e->code;
	nk_slices_reclaim(out, NULL);
	return 0;
}

static int cmp_slice(const void *a, const void *b)
{
	const struct nk_slice *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

int nk_slices_store(int dirfd, const struct nk_slices *s, struct nk_err *e)
{
	/* The longest record: every number at its widest ("uid= gid= count=
	 * pid= start= userns= pidns= nspid= session=" and 10, 10, 10, 11, 20,
	 * 20, 20 and 10 digits, 190 bytes with the names) and the session name. */
	size_t len = 64 + s->n * (256 + NK_SESSION_NAME_MAX);
	NK_AUTOFREE char *buf = malloc(len);
	char tmp[64];
	int n, fd, err;

	if (!buf)
		return nk_errf(e, ENOMEM, "out of memory");
	n = nk_slices_format(s, buf, len);
	if (n < 0)
		return nk_errf(e, ENOSPC, "slice records too long");
	snprintf(tmp, sizeof tmp, NK_SLICE_FILE ".%d.tmp", (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return nk_syserr(e, errno, "cannot write the slice records");
	if (write(fd, buf, (size_t)n) != n) {
		err = errno ? errno : EIO;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return nk_syserr(e, err, "cannot write the slice records");
	}
	close(fd);
	/* rename: readers without the lock (idmap-show, --list) see the old
	 * records or the new ones, never half of them. */
	if (renameat(dirfd, tmp, dirfd, NK_SLICE_FILE) < 0) {
		err = errno;
		unlinkat(dirfd, tmp, 0);
		return nk_syserr(e, err, "cannot write the slice records");
	}
	return 0;
}

int nk_slices_lock(int dirfd, struct nk_err *e)
{
	int fd = openat(dirfd, NK_SLICE_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	struct stat st;
	char dir[4096];

	if (fd < 0 && errno == ELOOP)
		return nk_errf(e, EINVAL, "the slice lock '%s/" NK_SLICE_LOCK "' is not a regular file (remove it)",
			       dir_name(dirfd, dir, sizeof dir));
	if (fd < 0)
		return nk_syserr(e, errno, "cannot open the slice lock");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return nk_errf(e, EINVAL, "the slice lock '%s/" NK_SLICE_LOCK "' is not a regular file (remove it)",
			       dir_name(dirfd, dir, sizeof dir));
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int err = errno;

			close(fd);
			return nk_syserr(e, err, "cannot lock the slice records");
		}
	}
	return fd;
}

/* USED for side T: the records S, and the ids the kernel shows held by
 * namespaces that no record names (TAKEN: from a second set of records,
 * another /tmp, records removed...), within the ranges R. */
static int used_for(const struct nk_slices *s, const struct nk_idspans *taken, const struct nk_ranges *r,
		    enum nk_idtype t, struct nk_slices *used)
{
	used->n = 0;
	used->v = NULL;
	for (size_t k = 0; k < s->n; k++)
		if (nk_slices_add(used, &s->v[k]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < taken->n; i++) {
		const struct nk_idspan *x = &taken->v[i];
		int in_range = 0, recorded = 0;
		struct nk_slice one;

		for (size_t k = 0; k < r->n && !in_range; k++)
			in_range = (uint64_t)x->start < (uint64_t)r->r[k].start + r->r[k].count &&
				   r->r[k].start < (uint64_t)x->start + x->count;
		/* A recorded slice (or a namespace made inside it) is named by its record. */
		for (size_t k = 0; k < s->n && !recorded; k++) {
			uint64_t us = nk_slice_first(&s->v[k], t);

			recorded = x->start >= us && (uint64_t)x->start + x->count <= us + s->v[k].count;
		}
		if (!in_range || recorded)
			continue;
		memset(&one, 0, sizeof one);
		one.uid = one.gid = x->start;
		one.count = x->count;
		one.pid = x->pid;
		one.unrecorded = 1;
		if (nk_slices_add(used, &one) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Take the records' lock and load them into *S: the start of every
 * change. Returns the lock's fd, or -errno. */
static int locked_load(int dirfd, struct nk_slices *s, struct nk_err *e)
{
	int lock = nk_slices_lock(dirfd, e);

	if (lock < 0)
		return lock;
	if (nk_slices_load(dirfd, s, e) < 0) {
		close(lock);
		return -e->code;
	}
	return lock;
}

/* The end of every change: store S and free it; 0 or -errno. */
static int store_free(int dirfd, struct nk_slices *s, struct nk_err *e)
{
	int r = nk_slices_store(dirfd, s, e);

	nk_slices_free(s);
	return r;
}

static nk_slice_taken_fn taken_fn;

void nk_slice_set_taken(nk_slice_taken_fn fn)
{
	taken_fn = fn;
}

int nk_slice_reserve(int dirfd, const char *user, const struct nk_ranges *ur, const struct nk_ranges *gr,
		     uint32_t size, pid_t pid, uint64_t start, const char *session,
		     struct nk_slice *out, struct nk_err *e)
{
	NK_AUTOCLOSE int lock = -1;
	struct nk_slices s = { 0, NULL }, used = { 0, NULL };
	struct nk_idspans taken[2];
	struct nk_slice one;
	int r;

	memset(&one, 0, sizeof one);
	if ((lock = locked_load(dirfd, &s, e)) < 0)
		return lock;
	nk_slices_reclaim(&s, NULL);
	/* The records are one user's view; the kernel is the authority: ids
	 * that any isolated namespace maps are taken, recorded or not, so a
	 * slice in use is never given twice whatever the records say. */
	r = (taken_fn ? taken_fn : nk_userns_taken)(getuid(), getgid(), taken, e);
	if (r < 0) {
		nk_slices_free(&s);
		return r;
	}
	uint32_t *firsts[2] = { &one.uid, &one.gid };
	const struct nk_ranges *ranges[2] = { ur, gr };

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		const struct nk_ranges *rr = ranges[t];

		r = used_for(&s, &taken[t], rr, t, &used);
		if (r == 0)
			r = nk_slice_pick(rr, &used, t, size, firsts[t]);
		if (r == -ENOMEM) {
			r = nk_errf(e, ENOMEM, "out of memory");
		} else if (r < 0) {
			r = nk_slice_exhausted(e, t, size, rr, &used, user);
		}
		nk_slices_free(&used);
		if (r < 0) {
			nk_slices_free(&s);
			nk_idspans_free(&taken[NK_UID]);
			nk_idspans_free(&taken[NK_GID]);
			return r;
		}
	}
	nk_idspans_free(&taken[NK_UID]);
	nk_idspans_free(&taken[NK_GID]);
	one.count = size;
	one.pid = pid;
	one.start = start;
	owner_identity(pid, &one);
	if (session)
		snprintf(one.session, sizeof one.session, "%s", session);
	if (nk_slices_add(&s, &one) < 0) {
		nk_slices_free(&s);
		return nk_errf(e, ENOMEM, "out of memory");
	}
	qsort(s.v, s.n, sizeof *s.v, cmp_slice);
	r = store_free(dirfd, &s, e);
	if (r < 0)
		return r;
	*out = one;
	return 0;
}

int nk_slice_maps(int dirfd, const char *user, uint32_t size, pid_t pid, uint64_t start,
		  const char *session, struct nk_maps *m, struct nk_slice *out, struct nk_err *e)
{
	struct nk_ranges r[2] = { { 0, NULL }, { 0, NULL } };
	struct nk_slice sl;
	int ret = 0;

	for (enum nk_idtype t = NK_UID; t <= NK_GID && ret == 0; t++) {
		if (nk_subid_ranges(user, t, &r[t], e) < 0)
			ret = -e->code;
		else if (r[t].n == 0) {
			nk_errf(e, ENOENT, "no subordinate %s range for '%s' in %s",
				nk_idtype_name(t), user, nk_subid_where(t));
			ret = nk_err_no_subids(e, user);
		}
	}
	if (ret == 0)
		ret = nk_slice_reserve(dirfd, user, &r[0], &r[1], size, pid, start, session, &sl, e);
	if (ret == 0 && (nk_map_add(&m->map[NK_UID], 0, sl.uid, size) < 0 || nk_map_add(&m->map[NK_GID], 0, sl.gid, size) < 0))
		ret = nk_errf(e, ENOMEM, "out of memory");
	if (ret == 0 && out)
		*out = sl;
	nk_ranges_free(&r[0]);
	nk_ranges_free(&r[1]);
	return ret;
}

/* Under the records' lock: find the record of PID/START in S (S->n: none). */
static size_t find(const struct nk_slices *s, pid_t pid, uint64_t start)
{
	size_t k;

	for (k = 0; k < s->n; k++)
		if (s->v[k].pid == pid && s->v[k].start == start)
			break;
	return k;
}

/* Drop from S only what has plainly ended: reservations whose process is
 * gone before it had a namespace, made in this pid namespace. */
static void drop_ended(struct nk_slices *s)
{
	uint64_t here = proc_pidns();
	size_t j = 0;

	/* Records made in other pid namespaces cannot be judged from here:
	 * they are left to a full reclaim. */
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].userns || (s->v[i].pidns && s->v[i].pidns != here) || nk_slice_alive(&s->v[i]))
			s->v[j++] = s->v[i];
	s->n = j;
}

/* A change of the records S under their lock, K the record of the
 * process asked about (S->n: none): 0, or -errno with E filled (then
 * nothing is stored). */
typedef int (*change_fn)(struct nk_slices *s, size_t k, void *arg, struct nk_err *e);

/* Every change of the record of PID/START: lock the records, load them,
 * find it, CHANGE them (with ARG), store them. */
static int change_record(int dirfd, pid_t pid, uint64_t start, change_fn change, void *arg, struct nk_err *e)
{
	NK_AUTOCLOSE int lock = -1;
	struct nk_slices s = { 0, NULL };
	int r;

	if ((lock = locked_load(dirfd, &s, e)) < 0)
		return lock;
	r = change(&s, find(&s, pid, start), arg, e);
	if (r < 0) {
		nk_slices_free(&s);
		return r;
	}
	return store_free(dirfd, &s, e);
}

static void remove_at(struct nk_slices *s, size_t k)
{
	memmove(&s->v[k], &s->v[k + 1], (s->n - k - 1) * sizeof *s->v);
	s->n--;
}

struct move {
	pid_t pid, npid;        /* npid 0: drop the record */
	uint64_t nstart, userns;
	const char *session;
	int full;               /* a full reclaim (else drop_ended) */
};

/* Move the record K to MV->npid, or drop it. */
static int move_one(struct nk_slices *s, size_t k, void *arg, struct nk_err *e)
{
	const struct move *mv = arg;

	if (k == s->n && mv->npid)
		return nk_errf(e, ENOENT, "no slice recorded for process %d", (int)mv->pid);
	if (k == s->n) {
		/* Nothing to release: still drop what has ended meanwhile. */
	} else if (mv->npid) {
		struct nk_slice *x = &s->v[k];
		uint64_t was = x->pidns;

		x->pid = mv->npid;
		x->start = mv->nstart;
		owner_identity(mv->npid, x);
		if (x->pidns != was)
			x->seen = 0;    /* an owner in another pid namespace: not seen yet */
		if (mv->userns)
			x->userns = mv->userns;
		snprintf(x->session, sizeof x->session, "%s", mv->session ? mv->session : "");
	} else {
		remove_at(s, k);
	}
	/* Reclaim here too. A move (FULL 0) may run inside the new namespace
	 * (nsenter-user after unshare), where the namespaces of the others
	 * cannot be inspected and would all look empty: it drops only what has
	 * plainly ended (drop_ended). */
	if (mv->full)
		nk_slices_reclaim(s, NULL);
	else
		drop_ended(s);
	return 0;
}

int nk_slice_move(int dirfd, pid_t pid, uint64_t start, pid_t npid, uint64_t nstart,
		  const char *session, uint64_t userns, struct nk_err *e)
{
	struct move mv = { .pid = pid, .npid = npid, .nstart = nstart, .userns = userns, .session = session };

	return change_record(dirfd, pid, start, move_one, &mv, e);
}

int nk_slice_release(int dirfd, pid_t pid, uint64_t start, struct nk_err *e)
{
	struct move mv = { .pid = pid, .full = 1 };

	return change_record(dirfd, pid, start, move_one, &mv, e);
}

/* Drop the record K unless a process is left in its namespace (*LEFT
 * that one, -1 when that cannot be told). */
static int stop_one(struct nk_slices *s, size_t k, void *arg, struct nk_err *e)
{
	pid_t *left = arg;

	(void)e;
	if (k < s->n && s->v[k].userns) {
		struct nk_userns_want w = { s->v[k].userns, s->v[k].uid, s->v[k].count };
		struct nk_err e2;

		if (nk_userns_scan(&w, 1, left, &e2) < 0)
			*left = -1;     /* cannot tell: keep it */
	}
	if (k < s->n && *left == 0) {
		uint64_t seen;

		/* A holder out of sight of this /proc (made on the host, stopped
		 * from inside a container) is not known to be gone: kept. */
		if (owner_state(&s->v[k], &seen) == OWNER_UNKNOWN)
			*left = -1;
	}
	if (k < s->n && *left == 0)
		remove_at(s, k);
	nk_slices_reclaim(s, NULL);
	return 0;
}

int nk_slice_stop(int dirfd, pid_t pid, uint64_t start, pid_t *left, struct nk_err *e)
{
	*left = 0;
	/* The same lock as a reservation: a concurrent --isolate neither
	 * reclaims nor picks while this one looks and decides. */
	return change_record(dirfd, pid, start, stop_one, left, e);
}

int nk_slice_dir_path(uid_t uid, char *out, size_t len, struct nk_err *e)
{
	if (nk_runtime_nskit_path(uid, out, len))
		return 0;
	/* Else the session folder of a caller without XDG_RUNTIME_DIR: one
	 * place per uid whatever the environment. */
	return nk_session_dir_path(NULL, uid, out, len, e);
}

int nk_slice_dir_open(uid_t uid, int create, struct nk_err *e)
{
	char path[4096], alt[4096];
	struct stat st;
	struct nk_err e2;
	int fd;

	if (nk_slice_dir_path(uid, path, sizeof path, e) < 0)
		return -e->code;
	fd = nk_session_dir_open(path, uid, create, e);
	if (fd >= 0 || (e->code != EPERM && e->code != ENOTDIR))
		return fd;
	/* /tmp/nskit-UID made by someone else first (or a symlink or a file
	 * of theirs there): they must not deny us the slices for good. The
	 * records go to a place no one else can make: the home folder. */
	if (lstat(path, &st) < 0 || st.st_uid == uid)
		return fd;      /* ours: the message says how to fix it */
	if (!nk_home_cache_nskit_path(uid, alt, sizeof alt))
		return nk_errf(e, EPERM, "'%s' belongs to uid %u, not to you (uid %u), and there is no other place "
			       "for your slice records (no " NK_RUNDIR "/%u, no home folder of yours) (ask root "
			       "to remove '%s')", path, (unsigned)st.st_uid, (unsigned)uid, (unsigned)uid, path);
	fd = nk_session_dir_open(alt, uid, create, &e2);
	if (fd < 0)
		*e = e2;
	return fd;
}
