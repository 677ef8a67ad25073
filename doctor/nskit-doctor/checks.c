#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "caps.h"
#include <libmount.h>
#include <linux/capability.h>
#include "checks.h"
#include "mapwrite.h"
#include "newidmap.h"
#include "tool.h"
#include "num.h"
#include "proc.h"
#include "util.h"

/* --- findings ------------------------------------------------------------- */

const char *dr_status_name(enum dr_status s)
{
	return s == DR_OK ? "ok" : s == DR_WARN ? "warn" : "fail";
}

int dr_finding_add(struct dr_findings *fs, const char *id, enum dr_status st,
		   const char *fix, const char *fmt, ...)
{
	struct dr_finding *f;
	va_list ap;
	int r;

	if (nk_grow(&fs->f, fs->n, &fs->cap, sizeof *fs->f, 32) < 0) {
		fs->lost++;
		return -ENOMEM;
	}
	f = &fs->f[fs->n];
	f->id = id;
	f->status = st;
	f->fix = NULL;
	va_start(ap, fmt);
	r = vasprintf(&f->what, fmt, ap);
	va_end(ap);
	if (r < 0) {
		fs->lost++;
		return -ENOMEM;
	}
	if (fix && st != DR_OK && !(f->fix = strdup(fix))) {
		free(f->what);
		fs->lost++;
		return -ENOMEM;
	}
	fs->n++;
	return 0;
}

void dr_findings_free(struct dr_findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->f[i].what);
		free(fs->f[i].fix);
	}
	free(fs->f);
	fs->f = NULL;
	fs->n = fs->cap = fs->lost = 0;
}

const struct dr_finding *dr_findings_get(const struct dr_findings *fs, const char *id)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].id, id) == 0)
			return &fs->f[i];
	return NULL;
}

enum dr_status dr_findings_worst(const struct dr_findings *fs)
{
	enum dr_status w = fs->lost ? DR_FAIL : DR_OK;

	for (size_t i = 0; i < fs->n; i++)
		if (fs->f[i].status > w)
			w = fs->f[i].status;
	return w;
}

/* --- subordinate id files ------------------------------------------------ */

struct dr_sfsum dr_sf_sum(const struct nk_sf *sf)
{
	struct dr_sfsum sum = { 0, 0, 0 };

	for (size_t i = 0; i < sf->n; i++) {
		const struct nk_sf_line *l = &sf->lines[i];
		/* A range past the last id is of no use to newuidmap (the
		 * kernel refuses it): malformed, for the doctor. */
		int past = l->kind == NK_SF_RANGE && (l->count == 0 || l->start > NK_ID_MAX ||
						      l->count - 1 > NK_ID_MAX - l->start);

		if (l->kind == NK_SF_RANGE && !past)
			sum.ranges++;
		else if ((l->kind == NK_SF_BAD || past) && sum.bad++ == 0)
			sum.first_bad = l->lineno;
	}
	return sum;
}

/* --- the system's user database ----------------------------------------- */

static int sys_owner_exists(const char *owner, void *ctx)
{
	uint32_t uid;

	(void)ctx;
	if (getpwnam(owner))
		return 1;
	return nk_parse_id(owner, &uid) == 0 && getpwuid(uid) != NULL;
}

static int sys_real_id_in(enum nk_idtype t, uint64_t lo, uint64_t hi, uint32_t skip,
			  char *buf, size_t len, void *ctx)
{
	int found = 0;

	(void)ctx;
	if (t == NK_UID) {
		struct passwd *pw;

		setpwent();
		while ((pw = getpwent()))
			if (pw->pw_uid >= lo && pw->pw_uid <= hi && pw->pw_uid != skip) {
				snprintf(buf, len, "%s", pw->pw_name);
				found = 1;
				break;
			}
		endpwent();
	} else {
		struct group *gr;

		setgrent();
		while ((gr = getgrent()))
			if (gr->gr_gid >= lo && gr->gr_gid <= hi && gr->gr_gid != skip) {
				snprintf(buf, len, "%s", gr->gr_name);
				found = 1;
				break;
			}
		endgrent();
	}
	return found;
}

const struct dr_db dr_system_db = { sys_owner_exists, sys_real_id_in, NULL };

/* --- subordinate id checks ------------------------------------------------ */

/* A finding id of the type's file: "subuid-" S or "subgid-" S (static strings). */
#define ID(t, s) ((const char *const[2]){ "subuid-" s, "subgid-" s })[t]

/* What every subordinate id check looks at. */
struct subcheck {
	struct dr_findings *fs;
	enum nk_idtype t;
	const struct dr_user *u;
	const struct nk_ranges *ranges;  /* the user's, through libsubid */
	const char *file, *tn, *kind;    /* "/etc/subuid", "uid", "subuid" */
	uint32_t self;                   /* the user's own uid (gid) */
	const struct nk_sf *sf;          /* the file's lines (nlines of them: 0 when unread) */
	size_t nlines;
	uint64_t total;                  /* ids in the user's ranges */
	const struct dr_db *db;
};

/* subXid-file: the file itself. */
static void sub_file(struct subcheck *c, const struct nk_err *readerr)
{
	const char *file = c->file;
	struct dr_sfsum sum;
	char fix[512];

	if (readerr) {
		snprintf(fix, sizeof fix, "make %s readable by everyone: 'chmod 0644 %s' as root", file, file);
		dr_finding_add(c->fs, ID(c->t, "file"), DR_FAIL, fix, "%s", readerr->msg);
		return;
	}
	if (!c->sf->exists) {
		snprintf(fix, sizeof fix, "run 'subid-alloc %s' as root (it creates the file)", c->u->name);
		dr_finding_add(c->fs, ID(c->t, "file"), c->ranges && c->ranges->n ? DR_OK : DR_FAIL, fix,
			       "%s does not exist", file);
		return;
	}
	sum = dr_sf_sum(c->sf);
	c->nlines = c->sf->n;
	if (sum.bad) {
		snprintf(fix, sizeof fix, "correct or remove line %u of %s (each line is NAME:START:COUNT; "
			 "'subid-check' lists them)", sum.first_bad, file);
		dr_finding_add(c->fs, ID(c->t, "file"), DR_WARN, fix, "%s has %zu malformed line%s (first: line %u)",
			       file, sum.bad, sum.bad == 1 ? "" : "s", sum.first_bad);
	} else
		dr_finding_add(c->fs, ID(c->t, "file"), DR_OK, NULL, "%s is readable and well-formed (%zu range%s)",
			       file, sum.ranges, sum.ranges == 1 ? "" : "s");
}

/* subXid-range: the user's ranges, as newuidmap and podman see them. */
static void sub_range(struct subcheck *c)
{
	const struct nk_ranges *r = c->ranges;
	char fix[512];

	for (size_t i = 0; i < r->n; i++)
		c->total += r->r[i].count;
	if (r->n == 0) {
		snprintf(fix, sizeof fix, "run 'subid-alloc %s' as root", c->u->name);
		dr_finding_add(c->fs, ID(c->t, "range"), DR_FAIL, fix, "no subordinate %s range for '%s' (uid %u) in %s",
			       c->tn, c->u->name, c->u->uid, c->file);
	} else
		dr_finding_add(c->fs, ID(c->t, "range"), DR_OK, NULL, "'%s' has %zu subordinate %s range%s, %llu ids",
			       c->u->name, r->n, c->tn, r->n == 1 ? "" : "s", (unsigned long long)c->total);
}

/* subXid-stale: owners that are no user any more (a rename or a removal
 * that left its lines behind); the first such line. */
static void sub_stale(struct subcheck *c)
{
	const struct dr_user *u = c->u;
	char fix[512];

	for (size_t i = 0; i < c->nlines; i++) {
		const struct nk_sf_line *l = &c->sf->lines[i];

		if (l->kind != NK_SF_RANGE || nk_sf_line_is(l, u->name, u->uid) ||
		    c->db->owner_exists(l->owner, c->db->ctx))
			continue;
		if (c->ranges->n == 0)
			snprintf(fix, sizeof fix, "if '%s' was renamed to '%s', write '%s' on line %u of %s; "
				 "otherwise remove the line (run 'subid-check' as root)", l->owner, u->name,
				 u->name, l->lineno, c->file);
		else
			snprintf(fix, sizeof fix, "remove line %u of %s, or give it the user's new name "
				 "(run 'subid-check' as root)", l->lineno, c->file);
		dr_finding_add(c->fs, ID(c->t, "stale"), DR_WARN, fix,
			       "line %u of %s belongs to '%s', which is no user (renamed or removed)",
			       l->lineno, c->file, l->owner);
		return;
	}
	dr_finding_add(c->fs, ID(c->t, "stale"), DR_OK, NULL, "every line of %s belongs to an existing user", c->file);
}

/* subXid-self: a range containing the user's own id (the namespace's
 * root could own the user's files on the host). */
static void sub_self(struct subcheck *c)
{
	const struct nk_ranges *r = c->ranges;
	char fix[512];

	for (size_t i = 0; i < r->n; i++) {
		uint64_t lo = r->r[i].start, end = lo + r->r[i].count;

		if (c->self < lo || c->self >= end)
			continue;
		snprintf(fix, sizeof fix, "remove that line from %s and run 'subid-alloc %s' as root",
			 c->file, c->u->name);
		dr_finding_add(c->fs, ID(c->t, "self"), DR_WARN, fix, "subordinate %s range %u-%llu contains '%s''s own %s %u",
			       c->tn, r->r[i].start, (unsigned long long)end - 1, c->u->name, c->tn, c->self);
		return;
	}
	dr_finding_add(c->fs, ID(c->t, "self"), DR_OK, NULL, "no subordinate %s range contains %u", c->tn, c->self);
}

/* The first line of another user that meets [LO, HI], or NULL. */
static const struct nk_sf_line *other_line_in(const struct subcheck *c, uint64_t lo, uint64_t hi)
{
	for (size_t j = 0; j < c->nlines; j++) {
		const struct nk_sf_line *l = &c->sf->lines[j];

		if (l->kind != NK_SF_RANGE || nk_sf_line_is(l, c->u->name, c->u->uid))
			continue;
		/* Written so that a line past the last id cannot wrap. */
		if (l->start <= hi && (lo < l->start || lo - l->start < l->count))
			return l;
	}
	return NULL;
}

/* subXid-overlap: a range of the user meets another user's line. */
static void sub_overlap(struct subcheck *c)
{
	const struct nk_ranges *r = c->ranges;
	char fix[512];

	for (size_t i = 0; i < r->n; i++) {
		uint64_t lo = r->r[i].start, hi = lo + r->r[i].count - 1;
		const struct nk_sf_line *l = other_line_in(c, lo, hi);

		if (!l)
			continue;
		snprintf(fix, sizeof fix, "give '%s' or '%s' another range (see 'subid-check' as root)", c->u->name,
			 l->owner);
		dr_finding_add(c->fs, ID(c->t, "overlap"), DR_WARN, fix,
			       "subordinate %s range %llu-%llu of '%s' overlaps '%s' (line %u of %s): their "
			       "namespaces share ids", c->tn, (unsigned long long)lo, (unsigned long long)hi,
			       c->u->name, l->owner, l->lineno, c->file);
		return;
	}
	dr_finding_add(c->fs, ID(c->t, "overlap"), DR_OK, NULL, "no other user's %s range overlaps '%s''s",
		       c->kind, c->u->name);
}

/* subXid-realid: a range of the user contains a real uid (gid). */
static void sub_realid(struct subcheck *c)
{
	static const char *const minvar[2] = { "SUB_UID_MIN", "SUB_GID_MIN" };
	const struct nk_ranges *r = c->ranges;
	char fix[512], name[256];

	for (size_t i = 0; i < r->n; i++) {
		uint64_t lo = r->r[i].start, hi = lo + r->r[i].count - 1;

		if (!c->db->real_id_in(c->t, lo, hi, c->self, name, sizeof name, c->db->ctx))
			continue;
		snprintf(fix, sizeof fix, "give '%s' a range above every real %s (%s in /etc/login.defs)",
			 c->u->name, c->tn, minvar[c->t]);
		dr_finding_add(c->fs, ID(c->t, "realid"), DR_WARN, fix,
			       "subordinate %s range %llu-%llu of '%s' contains the real %s of '%s'", c->tn,
			       (unsigned long long)lo, (unsigned long long)hi, c->u->name, c->tn, name);
		return;
	}
	dr_finding_add(c->fs, ID(c->t, "realid"), DR_OK, NULL, "no real %s lies in '%s''s %s ranges",
		       c->tn, c->u->name, c->kind);
}

/* subXid-size: big enough to map 65534 (nobody) with the default map
 * (self to 0, ranges from 1): 65534 subordinate ids. */
static void sub_size(struct subcheck *c)
{
	char fix[512];

	if (c->total >= 65534) {
		dr_finding_add(c->fs, ID(c->t, "size"), DR_OK, NULL, "%llu subordinate %ss cover 0-65535 and nobody",
			       (unsigned long long)c->total, c->tn);
		return;
	}
	snprintf(fix, sizeof fix, "give '%s' 65536 subordinate %ss: remove its line from %s and run "
		 "'subid-alloc %s' as root", c->u->name, c->tn, c->file, c->u->name);
	dr_finding_add(c->fs, ID(c->t, "size"), DR_FAIL, fix,
		       "'%s' has only %llu subordinate %ss: %s 65534 (nobody) cannot be mapped",
		       c->u->name, (unsigned long long)c->total, c->tn, c->tn);
}

/* subXid-extents: the kernel takes at most 340 extents, one of them the
 * user's own id. */
static void sub_extents(struct subcheck *c)
{
	size_t n = c->ranges->n + 1;
	char fix[512];

	if (n <= NK_MAP_MAX_EXTENTS) {
		dr_finding_add(c->fs, ID(c->t, "extents"), DR_OK, NULL, "the full %s map has %zu extents (limit %d)",
			       c->tn, n, NK_MAP_MAX_EXTENTS);
		return;
	}
	snprintf(fix, sizeof fix, "merge '%s''s ranges into fewer, larger ones in %s", c->u->name, c->file);
	dr_finding_add(c->fs, ID(c->t, "extents"), DR_FAIL, fix,
		       "'%s' has %zu %s ranges: with its own id that is %zu extents, more than the "
		       "kernel's limit of %d", c->u->name, c->ranges->n, c->kind, n, NK_MAP_MAX_EXTENTS);
}

void dr_check_subids(struct dr_findings *fs, enum nk_idtype t, const struct dr_user *u,
		      const struct nk_ranges *ranges, const char *libmsg, const char *path,
		      const struct nk_sf *sf, const struct nk_err *readerr, const struct dr_db *db)
{
	static const char *const kinds[2] = { "subuid", "subgid" };
	const uint32_t self[2] = { u->uid, u->gid };
	struct subcheck c = { fs, t, u, ranges, path, nk_idtype_name(t), kinds[t], self[t], sf, 0, 0, db };
	char fix[512];

	sub_file(&c, readerr);
	if (!ranges) {
		snprintf(fix, sizeof fix, "check %s and the 'subid:' line of /etc/nsswitch.conf", path);
		dr_finding_add(fs, ID(t, "range"), DR_FAIL, fix, "%s", libmsg ? libmsg : "libsubid failed");
		return;
	}
	sub_range(&c);
	sub_stale(&c);
	if (ranges->n == 0)
		return;
	sub_self(&c);
	sub_overlap(&c);
	sub_realid(&c);
	sub_size(&c);
	sub_extents(&c);
}

/* --- kernel and process state --------------------------------------------- */

static long sysctl_or(const char *path)
{
	long v;

	return nk_read_sysctl(path, &v) == 0 ? v : -1;
}

static int root_is_shared(void)
{
	struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
	struct libmnt_fs *fs;
	unsigned long flags = 0;
	int r = -1;

	if (!tb)
		return -1;
	fs = mnt_table_find_target(tb, "/", MNT_ITER_BACKWARD);
	if (fs && mnt_fs_get_propagation(fs, &flags) == 0)
		r = (flags & MS_SHARED) != 0;
	mnt_unref_table(tb);
	return r;
}

/* Seccomp: of /proc/self/status (0 none, 1 strict, 2 filter). */
static int seccomp_mode(void)
{
	NK_AUTOFCLOSE FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int mode = 0;

	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "Seccomp:", 8) == 0) {
			uint32_t v;
			char *p = line + 8 + strspn(line + 8, " \t");

			p[strcspn(p, "\n")] = '\0';
			if (nk_parse_u32(p, 2, &v) == 0)
				mode = (int)v;
		}
	return mode;
}

/* net.ipv4.ping_group_range, "LO\tHI\n", each 0..2147483647; -1 unknown. */
static void ping_range(long *lo, long *hi)
{
	NK_AUTOFCLOSE FILE *p = fopen("/proc/sys/net/ipv4/ping_group_range", "re");
	char buf[64], *save = NULL, *a, *b;
	uint32_t l, h;

	*lo = *hi = -1;
	if (p && fgets(buf, sizeof buf, p) && (a = strtok_r(buf, " \t\n", &save)) &&
	    (b = strtok_r(NULL, " \t\n", &save)) && nk_parse_u32(a, INT32_MAX, &l) == 0 &&
	    nk_parse_u32(b, INT32_MAX, &h) == 0) {
		*lo = l;
		*hi = h;
	}
}

void dr_sys_read(struct dr_sys *s)
{
	struct nk_err e2;

	s->max_userns = sysctl_or("/proc/sys/user/max_user_namespaces");
	s->userns_clone = sysctl_or("/proc/sys/kernel/unprivileged_userns_clone");
	s->apparmor = sysctl_or("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
	s->overflowuid = sysctl_or("/proc/sys/kernel/overflowuid");
	s->overflowgid = sysctl_or("/proc/sys/kernel/overflowgid");
	s->seccomp = seccomp_mode();
	ping_range(&s->ping_lo, &s->ping_hi);
	s->container = access("/run/.containerenv", F_OK) == 0 || access("/.dockerenv", F_OK) == 0 ||
		       getenv("container") != NULL;
	s->root_shared = root_is_shared();
	s->no_new_privs = nk_no_new_privs();
	/* Unknown counts as present: no finding from a guess. */
	s->bound_setuid = nk_cap_bounding(CAP_SETUID, &e2) != 0;
	s->bound_setgid = nk_cap_bounding(CAP_SETGID, &e2) != 0;
}

/* --- the probe ----------------------------------------------------------- */

/* How many user namespaces can still be nested below this one. Runs in a
 * throw-away child: each level is root over the next (its own id mapped). */
static int count_levels(int *last_errno)
{
	int n = 0;

	*last_errno = 0;
	while (n < 40) {
		uid_t uid = geteuid();
		gid_t gid = getegid();
		char map[64];
		int fd;

		if (unshare(CLONE_NEWUSER) < 0) {
			*last_errno = errno;
			break;
		}
		n++;
		fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "deny", 4) < 0) { /* older kernels: no file */ }
			close(fd);
		}
		snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
		fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) < 0) {
			if (fd >= 0)
				close(fd);
			break;
		}
		close(fd);
		snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
		fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) < 0) {
			if (fd >= 0)
				close(fd);
			break;
		}
		close(fd);
	}
	return n;
}

/* A child in a new user namespace of its own, waiting for GO to close:
 * the target the full map is written to. Its pid, or -1 with MSG set. */
static pid_t probe_target(int *go_w, char *msg, size_t len)
{
	NK_AUTOCLOSE int go_r = -1, ready_r = -1, ready_w = -1;
	int go[2], ready[2];
	pid_t c;
	char b = 0;

	if (pipe2(go, O_CLOEXEC) < 0) {
		snprintf(msg, len, "pipe: %s", strerror(errno));
		return -1;
	}
	go_r = go[0];
	*go_w = go[1];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		snprintf(msg, len, "pipe: %s", strerror(errno));
		return -1;
	}
	ready_r = ready[0];
	ready_w = ready[1];
	c = fork();
	if (c < 0) {
		snprintf(msg, len, "fork: %s", strerror(errno));
		return -1;
	}
	if (c == 0) {
		char ok = unshare(CLONE_NEWUSER) == 0 ? 1 : 0;

		close(*go_w);
		if (nk_write_full(ready_w, &ok, 1) < 0)
			_exit(1);
		/* Wait until the parent is done (it closes the pipe). */
		if (read(go_r, &b, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(nk_steal_fd(&ready_w));
	if (nk_read_full(ready_r, &b, 1) < 0 || !b) {
		snprintf(msg, len, "cannot create the user namespace to map");
		close(nk_steal_fd(go_w));
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	return c;
}

/* Write MAPS to the target C as PLAN says, and read them back. */
static void probe_write(struct dr_probe *p, pid_t c, const struct nk_maps *maps, const struct nk_plan *plan)
{
	struct nk_maps got = { 0 };
	struct nk_err e;

	p->map_tried = 1;
	if (nk_write_maps(c, -1, maps, plan, &e) < 0) {   /* our child: its pid stays ours */
		snprintf(p->map_msg, sizeof p->map_msg, "%s", e.msg);
		return;
	}
	if (nk_maps_read_proc(c, &got, &e) == 0 && nk_map_equal(&got.map[NK_UID], &maps->map[NK_UID]) &&
	    nk_map_equal(&got.map[NK_GID], &maps->map[NK_GID])) {
		p->map_ok = 1;
		snprintf(p->map_msg, sizeof p->map_msg, "%zu uid and %zu gid extents, %llu uids",
			 maps->map[NK_UID].n, maps->map[NK_GID].n,
			 (unsigned long long)nk_map_total(&maps->map[NK_UID]));
	} else
		snprintf(p->map_msg, sizeof p->map_msg, "the maps read back differ from those written");
	nk_maps_free(&got);
}

/* The default rootless map of U, written through newuidmap/newgidmap to
 * a child's new namespace, as podman would. */
static void probe_map(struct dr_probe *p, const struct dr_user *u)
{
	struct nk_maps maps = { 0 };
	struct nk_plan plan;
	struct nk_err e;
	NK_AUTOCLOSE int go_w = -1;
	pid_t c;

	if (nk_maps_build(NK_MAPS_AUTO, u->name, u->uid, u->gid, NULL, &maps, &e) < 0) {
		char text[NK_ERR_MAX + 600];

		nk_err_text(&e, text, sizeof text);
		if (e.code == ENOENT)
			snprintf(p->map_msg, sizeof p->map_msg, "not probed: %.900s", text);
		else
			snprintf(p->map_msg, sizeof p->map_msg, "%.1000s", text);
		nk_maps_free(&maps);
		return;
	}
	if (nk_plan_write(&maps, NK_SETGROUPS_DEFAULT, &plan, &e) < 0)
		snprintf(p->map_msg, sizeof p->map_msg, "%s", e.msg);
	else if ((c = probe_target(&go_w, p->map_msg, sizeof p->map_msg)) > 0) {
		probe_write(p, c, &maps, &plan);
		close(nk_steal_fd(&go_w));
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
	}
	nk_maps_free(&maps);
}

/* How many levels can be nested (and why the next one failed), counted
 * in a throw-away child. */
static void probe_levels(struct dr_probe *p)
{
	NK_AUTOCLOSE int rd = -1;
	int fds[2], v[2];
	pid_t c;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	rd = fds[0];
	c = fork();
	if (c == 0) {
		int le, lv = count_levels(&le);
		int w[2] = { lv, le };

		close(rd);
		_exit(nk_write_full(fds[1], w, sizeof w) < 0);
	}
	close(fds[1]);
	if (c < 0)
		return;
	if (nk_read_full(rd, v, sizeof v) == 0) {
		p->levels = v[0];
		p->nest_errno = v[1];
	}
	waitpid(c, NULL, 0);
}

static void probe_child(int out, const struct dr_user *u, int drop)
{
	struct dr_probe p;
	pid_t c;
	int st;

	memset(&p, 0, sizeof p);
	p.ran = 1;
	if (drop) {
		if (initgroups(u->name, u->gid) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
			_exit(2);
		/* Dumpable again after the id change, so /proc/PID files of our
		 * children stay ours (newuidmap opens them). */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	}
	/* 1. One user namespace, in a throw-away child. 2. How deep. 3. The
	 * full map, as podman would write it. */
	c = fork();
	if (c == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0x7f) + 1);
	if (c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st))
		p.create_errno = WEXITSTATUS(st) == 0 ? 0 : WEXITSTATUS(st) - 1;
	else
		p.create_errno = EIO;
	if (p.create_errno == 0) {
		probe_levels(&p);
		probe_map(&p, u);
	}
	_exit(nk_write_full(out, &p, sizeof p) < 0);
}

int dr_run_probe(struct dr_probe *p, const struct dr_user *u, int drop,
		    struct nk_err *e)
{
	int fds[2];
	pid_t c;
	int st;

	memset(p, 0, sizeof *p);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return nk_syserr(e, errno, "cannot create a pipe");
	fflush(NULL);
	c = fork();
	if (c < 0) {
		close(fds[0]);
		close(fds[1]);
		return nk_syserr(e, errno, "cannot fork the probe");
	}
	if (c == 0) {
		close(fds[0]);
		probe_child(fds[1], u, drop);
	}
	close(fds[1]);
	if (nk_read_full(fds[0], p, sizeof *p) < 0) {
		memset(p, 0, sizeof *p);
		close(fds[0]);
		waitpid(c, &st, 0);
		return nk_errf(e, EIO, "the probe as '%s' failed", u->name);
	}
	close(fds[0]);
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* --- kernel findings -------------------------------------------------------- */

/* userns-max, userns-clone, userns-apparmor, userns-seccomp: the switches. */
static void userns_switches(struct dr_findings *fs, const struct dr_sys *s, const struct dr_probe *p)
{
	if (s->max_userns == 0)
		dr_finding_add(fs, "userns-max", DR_FAIL,
			       "as root: 'sysctl -w user.max_user_namespaces=15000' (and in /etc/sysctl.d/)",
			       "user.max_user_namespaces is 0: no user namespace may be created");
	else if (s->max_userns < 0)
		dr_finding_add(fs, "userns-max", DR_WARN, "use a kernel with CONFIG_USER_NS",
			       "/proc/sys/user/max_user_namespaces does not exist");
	else
		dr_finding_add(fs, "userns-max", DR_OK, NULL, "user.max_user_namespaces is %ld", s->max_userns);

	if (s->userns_clone == 0)
		dr_finding_add(fs, "userns-clone", DR_FAIL,
			       "as root: 'sysctl -w kernel.unprivileged_userns_clone=1' (and in /etc/sysctl.d/)",
			       "kernel.unprivileged_userns_clone is 0: only root may create user namespaces");
	else if (s->userns_clone < 0)
		dr_finding_add(fs, "userns-clone", DR_OK, NULL, "kernel.unprivileged_userns_clone is not present");
	else
		dr_finding_add(fs, "userns-clone", DR_OK, NULL, "kernel.unprivileged_userns_clone is %ld",
			       s->userns_clone);

	if (s->apparmor > 0)
		dr_finding_add(fs, "userns-apparmor", DR_WARN,
			       "give the program an AppArmor profile with 'userns,' or, as root, "
			       "'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'",
			       "kernel.apparmor_restrict_unprivileged_userns is %ld: unconfined programs get "
			       "user namespaces without capabilities", s->apparmor);
	else if (s->apparmor < 0)
		dr_finding_add(fs, "userns-apparmor", DR_OK, NULL,
			       "kernel.apparmor_restrict_unprivileged_userns is not present");
	else
		dr_finding_add(fs, "userns-apparmor", DR_OK, NULL, "kernel.apparmor_restrict_unprivileged_userns is 0");

	if (s->seccomp == 2)
		dr_finding_add(fs, "userns-seccomp", (p && p->ran && p->create_errno == EPERM) ? DR_FAIL : DR_WARN,
			       "run outside the container or sandbox, or allow unshare(CLONE_NEWUSER) in its "
			       "seccomp profile",
			       "a seccomp filter is active on this process%s", s->container ? " (inside a container)" : "");
	else
		dr_finding_add(fs, "userns-seccomp", DR_OK, NULL, "no seccomp filter on this process");
}

/* Why unshare(CLONE_NEWUSER) failed with ERR, and the fix. */
static void create_failure(int err, const struct dr_sys *s, const char **why, const char **fix)
{
	switch (err) {
	case ENOSPC:
		*why = s->max_userns == 0 ? "user.max_user_namespaces is 0" :
		       "the max_user_namespaces limit of this or a parent namespace, or the nesting "
		       "limit of 32 levels, is reached";
		*fix = "raise user.max_user_namespaces (in the namespace that set it, or on the host), "
		       "or run from a less deeply nested namespace";
		break;
	case EUSERS:    /* Linux 3.11 to 4.8; ENOSPC since */
		*why = "the nesting limit of 32 user namespaces is reached";
		*fix = "run from a less deeply nested namespace";
		break;
	case EPERM:
		*why = s->userns_clone == 0 ? "kernel.unprivileged_userns_clone forbids it" :
		       s->seccomp == 2 ? "a seccomp filter (a container or sandbox) refuses it" :
		       s->container ? "the container this runs in refuses it" :
		       "a security module, seccomp filter or chroot refuses it";
		*fix = s->userns_clone == 0 ? "as root: 'sysctl -w kernel.unprivileged_userns_clone=1'" :
		       "run outside the container or sandbox, or allow user namespaces in its profile";
		break;
	case EINVAL:
	case ENOSYS:
		*why = "the kernel has no user namespaces";
		*fix = "use a kernel built with CONFIG_USER_NS";
		break;
	default:
		*why = "unexpected error";
		*fix = "see unshare(2)";
	}
}

/* userns-nesting, userns-map: what the probe found once it could create one. */
static void userns_probe(struct dr_findings *fs, const struct dr_probe *p, const struct dr_user *u)
{
	if (p->levels == 0)
		dr_finding_add(fs, "userns-nesting", DR_FAIL, "run from a less deeply nested namespace",
			       "no user namespace can be nested inside a new one (%s)", strerror(p->nest_errno));
	else if (p->levels < 3)
		dr_finding_add(fs, "userns-nesting", DR_WARN,
			       "run from a less deeply nested namespace (the kernel allows 32 levels)",
			       "only %d more level%s of user namespaces can be nested here (%s)", p->levels,
			       p->levels == 1 ? "" : "s", strerror(p->nest_errno));
	else
		dr_finding_add(fs, "userns-nesting", DR_OK, NULL, "%d%s more levels of user namespaces can be nested",
			       p->levels, p->nest_errno ? "" : " or");
	if (p->map_ok)
		dr_finding_add(fs, "userns-map", DR_OK, NULL, "a full map was written: %s", p->map_msg);
	else
		dr_finding_add(fs, "userns-map", DR_FAIL, "see the other failed findings",
			       "cannot write a full map for '%s': %s", u->name, p->map_msg);
}

void dr_check_userns(struct dr_findings *fs, const struct dr_sys *s,
		      const struct dr_probe *p, const struct dr_user *u)
{
	const char *why, *fix;

	userns_switches(fs, s, p);
	if (!p || !p->ran) {
		dr_finding_add(fs, "userns-create", DR_WARN, "run nskit-doctor as the user, or as root",
			       "not probed: only '%s' or root can create a user namespace as '%s'", u->name, u->name);
		return;
	}
	if (p->create_errno) {
		create_failure(p->create_errno, s, &why, &fix);
		dr_finding_add(fs, "userns-create", DR_FAIL, fix, "cannot create a user namespace: %s (%s)",
			       strerror(p->create_errno), why);
		return;
	}
	dr_finding_add(fs, "userns-create", DR_OK, NULL, "'%s' can create a user namespace", u->name);
	userns_probe(fs, p, u);
}

void dr_check_helper(struct dr_findings *fs, enum nk_idtype t, const char *why,
		      const struct nk_helper_info *h)
{
	static const char *const ids[2] = { "newuidmap", "newgidmap" };
	static const char *const nids[2] = { "newuidmap-nosuid", "newgidmap-nosuid" };
	static const char *const caps[2] = { "cap_setuid", "cap_setgid" };
	const char *id = ids[t], *nid = nids[t], *cap = caps[t];

	if (!h) {
		dr_finding_add(fs, id, DR_FAIL, "install shadow-utils' helpers (Debian: 'apt install uidmap'), "
			       "or correct $NEWUIDMAP/$NEWGIDMAP",
			       "%s", why ? why : "not found in PATH, /usr/bin, /usr/sbin, /bin or /sbin");
		return;
	}
	/* The texts of a flaw are lib/newidmap.c's: the hint of a failed write
	 * says the same. */
	if (h->flaws & (1u << NK_HELPER_UNPRIVILEGED))
		dr_finding_add(fs, id, DR_FAIL, h->fix[NK_HELPER_UNPRIVILEGED], "%s", h->what[NK_HELPER_UNPRIVILEGED]);
	else if (h->uid == 0 && (h->mode & S_ISUID))
		dr_finding_add(fs, id, DR_OK, NULL, "%s is setuid root", h->path);
	else
		dr_finding_add(fs, id, DR_OK, NULL, "%s has the file capability %s", h->path, cap);
	if (h->flaws & (1u << NK_HELPER_NOSUID))
		dr_finding_add(fs, nid, DR_FAIL, h->fix[NK_HELPER_NOSUID], "%s", h->what[NK_HELPER_NOSUID]);
	else
		dr_finding_add(fs, nid, DR_OK, NULL, "the mount of %s allows setuid", h->path);
}

void dr_check_privs(struct dr_findings *fs, const struct dr_sys *s)
{
	if (s->no_new_privs)
		dr_finding_add(fs, "no-new-privs", DR_FAIL,
			       "run without no_new_privs (e.g. not under 'setpriv --no-new-privs', systemd "
			       "NoNewPrivileges= or a container with no-new-privileges)",
			       "no_new_privs is set: newuidmap and newgidmap get no privileges");
	else
		dr_finding_add(fs, "no-new-privs", DR_OK, NULL, "no_new_privs is not set");
	if (!s->bound_setuid || !s->bound_setgid)
		dr_finding_add(fs, "cap-bounding", DR_FAIL,
			       "run from a session whose capability bounding set keeps cap_setuid and cap_setgid",
			       "the capability bounding set lacks %s: newuidmap/newgidmap cannot use them",
			       !s->bound_setuid && !s->bound_setgid ? "cap_setuid and cap_setgid" :
			       !s->bound_setuid ? "cap_setuid" : "cap_setgid");
	else
		dr_finding_add(fs, "cap-bounding", DR_OK, NULL,
			       "the capability bounding set has cap_setuid and cap_setgid");
}

static int map_is_identity(const struct nk_map *m)
{
	return m->n == 1 && m->ext[0].inner == 0 && m->ext[0].outer == 0 && m->ext[0].count == 4294967295U;
}

void dr_check_parent_map(struct dr_findings *fs, const struct nk_maps *own,
			  const struct nk_ranges *sub[2], const struct dr_user *u)
{
	if (map_is_identity(&own->map[NK_UID]) && map_is_identity(&own->map[NK_GID])) {
		dr_finding_add(fs, "parent-map", DR_OK, NULL, "not in a nested user namespace");
		return;
	}
	for (int t = NK_UID; t <= NK_GID; t++) {
		const struct nk_map *m = &own->map[t];

		if (!sub[t])
			continue;
		for (size_t i = 0; i < sub[t]->n; i++) {
			uint32_t s = sub[t]->r[i].start, c = sub[t]->r[i].count;

			if (nk_map_find_inner_range(m, s, c) < 0) {
				char fix[512];

				snprintf(fix, sizeof fix, "map %u-%llu into this namespace when it is created, or give "
					 "'%s' ranges inside its map (/proc/self/%s_map)", s,
					 (unsigned long long)s + c - 1, u->name, nk_idtype_name(t));
				dr_finding_add(fs, "parent-map", DR_FAIL, fix,
					       "nested user namespace: subordinate %s range %u-%llu of '%s' is not "
					       "inside one extent of this namespace's %s map",
					       nk_idtype_name(t), s, (unsigned long long)s + c - 1,
					       u->name, nk_idtype_name(t));
				return;
			}
		}
	}
	dr_finding_add(fs, "parent-map", DR_OK, NULL,
		       "nested user namespace: its map contains every subordinate range of '%s'", u->name);
}

void dr_check_xdg(struct dr_findings *fs, const char *val, const struct stat *st, int err,
		   const struct dr_user *u)
{
	char fix[512];

	if (!val || !*val) {
		snprintf(fix, sizeof fix, "log in as '%s' (not 'su'), or 'loginctl enable-linger %s' and set "
			 "XDG_RUNTIME_DIR=/run/user/%u", u->name, u->name, u->uid);
		dr_finding_add(fs, "xdg-runtime-dir", DR_WARN, fix,
			       "XDG_RUNTIME_DIR is not set: podman falls back to /tmp/podman-run-%u", u->uid);
		return;
	}
	snprintf(fix, sizeof fix, "log in as '%s' (not 'su', which keeps the old session's variable), or set "
		 "XDG_RUNTIME_DIR=/run/user/%u", u->name, u->uid);
	if (!st)
		dr_finding_add(fs, "xdg-runtime-dir", DR_FAIL, fix, "XDG_RUNTIME_DIR %s: %s", val, strerror(err));
	else if (!S_ISDIR(st->st_mode))
		dr_finding_add(fs, "xdg-runtime-dir", DR_FAIL, fix, "XDG_RUNTIME_DIR %s is not a folder", val);
	else if (st->st_uid != u->uid)
		dr_finding_add(fs, "xdg-runtime-dir", DR_FAIL, fix,
			       "XDG_RUNTIME_DIR %s belongs to uid %u, not to '%s' (uid %u)", val,
			       (unsigned)st->st_uid, u->name, u->uid);
	else if ((st->st_mode & 07777) != 0700) {
		snprintf(fix, sizeof fix, "'chmod 0700 %s'", val);
		dr_finding_add(fs, "xdg-runtime-dir", DR_FAIL, fix,
			       "XDG_RUNTIME_DIR %s has mode %04o, not 0700", val, (unsigned)(st->st_mode & 07777));
	} else
		dr_finding_add(fs, "xdg-runtime-dir", DR_OK, NULL, "XDG_RUNTIME_DIR %s is '%s''s, mode 0700",
			       val, u->name);
}

void dr_check_user_env(struct dr_findings *fs, const char *env_user, const char *env_logname,
			const struct dr_user *u)
{
	const char *bad = NULL, *var = NULL;
	char fix[512];

	if (env_user && strcmp(env_user, u->name) != 0) {
		bad = env_user;
		var = "USER";
	} else if (env_logname && strcmp(env_logname, u->name) != 0) {
		bad = env_logname;
		var = "LOGNAME";
	}
	if (bad) {
		snprintf(fix, sizeof fix, "log in as '%s' ('su - %s' or 'machinectl shell %s@'), or set %s=%s",
			 u->name, u->name, u->name, var, u->name);
		dr_finding_add(fs, "user-env", DR_WARN, fix, "%s is '%s' but the caller is '%s' (uid %u)",
			       var, bad, u->name, u->uid);
	} else if (!env_user)
		dr_finding_add(fs, "user-env", DR_WARN, "set USER to the login name, as a login does",
			       "USER is not set");
	else
		dr_finding_add(fs, "user-env", DR_OK, NULL, "USER is '%s', the caller", env_user);
}

void dr_check_mounts(struct dr_findings *fs, const struct dr_sys *s,
		      const uint32_t *gids, size_t ngids, const struct dr_user *u)
{
	int in = 0;

	if (s->root_shared == 1)
		dr_finding_add(fs, "root-shared", DR_OK, NULL, "/ is a shared mount");
	else if (s->root_shared == 0)
		dr_finding_add(fs, "root-shared", DR_WARN,
			       "as root: 'mnt-share' (or 'mount --make-rshared /'; systemd does it at boot)",
			       "/ is not a shared mount: mounts made in containers do not propagate "
			       "(podman warns \"'/' is not a shared mount\")");
	else
		dr_finding_add(fs, "root-shared", DR_WARN, "check /proc/self/mountinfo",
			       "cannot read the propagation of / from /proc/self/mountinfo");

	for (size_t i = 0; i < ngids; i++)
		if ((long)gids[i] >= s->ping_lo && (long)gids[i] <= s->ping_hi)
			in = 1;
	if (s->ping_lo < 0)
		dr_finding_add(fs, "ping-group-range", DR_OK, NULL, "net.ipv4.ping_group_range is not present");
	else if (in)
		dr_finding_add(fs, "ping-group-range", DR_OK, NULL,
			       "net.ipv4.ping_group_range %ld-%ld contains a group of '%s'", s->ping_lo, s->ping_hi, u->name);
	else {
		char fix[256];

		snprintf(fix, sizeof fix, "as root: 'sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"'");
		dr_finding_add(fs, "ping-group-range", DR_WARN, fix,
			       "net.ipv4.ping_group_range (%ld %ld) excludes every group of '%s': ping without "
			       "privileges fails", s->ping_lo, s->ping_hi, u->name);
	}

	if (s->overflowuid == 65534 && s->overflowgid == 65534)
		dr_finding_add(fs, "overflow-ids", DR_OK, NULL,
			       "unmapped ids show as 65534 (kernel.overflowuid and overflowgid)");
	else
		dr_finding_add(fs, "overflow-ids", DR_WARN,
			       "as root: 'sysctl -w kernel.overflowuid=65534 kernel.overflowgid=65534'",
			       "unmapped ids show as uid %ld and gid %ld, not 65534 (nobody): images expect 65534",
			       s->overflowuid, s->overflowgid);
}
