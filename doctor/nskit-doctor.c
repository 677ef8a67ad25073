/* nskit-doctor - find why rootless user namespaces fail for a user
 *
 * Reads what it can (sysctls, /etc/subuid and /etc/subgid through libsubid
 * and as files, the helpers, this process's state) and probes what reading
 * cannot tell: a child creates a user namespace, nests as deep as it can,
 * and has a full map written to a grandchild through newuidmap/newgidmap,
 * as podman would. Nothing is changed. One finding a line; exit 1 when one
 * fails, 2 on bad usage.
 *
 * --explain: the line is looked up in explain.c's table; only the
 * checks that can cause it are run, and the verdict is printed.
 * --fix (root): each failing or warning finding with a safe remedy gets
 * it, through nskit's own tools (subid-alloc, mnt-share) and the system's
 * files (/etc/sysctl.d/60-nskit.conf, /run/user/UID); then everything is
 * checked again.
 */
#include <getopt.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <libsmartcols.h>
#include <linux/capability.h>
#include "doctor.h"
#include "explain.h"
#include "helper.h"
#include "idmap.h"
#include "num.h"
#include "subid.h"
#include "tool.h"

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options]\n"
	       " %s --fix[=WHAT] [--dry-run] [--user USER]...\n"
	       " %s --explain TEXT|-\n"
	       "\n"
	       "Check whether rootless user namespaces with a full mapping work, and say how to fix what does not.\n"
	       "\n"
	       "Options:\n"
	       " -u, --user USER      check USER (default: you; probing as USER needs root)\n"
	       " -J, --json           print JSON\n"
	       " -q, --quiet          print only the findings that warn or fail\n"
	       "     --fix[=WHAT]     apply the safe fixes (root); WHAT adds 'apparmor' or\n"
	       "                        'sysctl-userns' (comma-separated), which weaken security\n"
	       " -n, --dry-run        with --fix: print the changes, make none\n"
	       " -e, --explain TEXT   find the cause of an error message (- reads standard input)\n"
	       "\n"
	       " -h, --help           display this help\n"
	       " -V, --version        display version\n"
	       "\n"
	       "For more details see nskit-doctor(1).\n", nk_progname, nk_progname, nk_progname);
	exit(0);
}

/* Bad usage exits 2: 1 means rootless user namespaces do not work (or, for
 * --explain, no cause was found), and a script must tell them apart. */
#define EXIT_USAGE 2

static void __attribute__((noreturn)) usage_error(const char *fmt, ...)
{
	if (fmt) {
		va_list ap;

		fprintf(stderr, "%s: ", nk_progname);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "Try '%s --help' for more information.\n", nk_progname);
	exit(EXIT_USAGE);
}

static void check_helper(struct nk_findings *fs, enum nk_idtype t)
{
	char path[PATH_MAX];
	struct nk_helper_info h;
	struct nk_err e;

	if (nk_find_helper(t, path, sizeof path, &e) < 0) {
		nk_doctor_helper(fs, t, e.msg, NULL);
		return;
	}
	/* Usable or not, H says what was found; an error of no kind is a
	 * file that cannot be opened. */
	if (nk_helper_usable(t, path, &h, &e) < 0 && e.kind == NK_ERRK_NONE)
		nk_doctor_helper(fs, t, e.msg, NULL);
	else
		nk_doctor_helper(fs, t, NULL, &h);
}

/* --- the table ------------------------------------------------------------ */

/* The text table fits WIDTH columns (100, or a narrower terminal): ID,
 * STATUS, FINDING and FIX side by side when every row fits, else FINDING
 * wrapped at spaces and each fix on a line of its own below it. Colour
 * only on a terminal (and never with NO_COLOR or TERM=dumb). */
#define TABLE_WIDTH 100
#define NK_MAX(a, b) ((a) > (b) ? (a) : (b))

static int table_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= 40 && ws.ws_col < TABLE_WIDTH)
		return ws.ws_col;
	return TABLE_WIDTH;
}

static int use_colour(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && term && *term && strcmp(term, "dumb") != 0;
}

static void put_status(enum nk_status st, int colour, int width)
{
	static const char *const sgr[] = { "\033[32m", "\033[33m", "\033[1;31m" };
	const char *name = nk_status_name(st);

	if (colour)
		printf("%s%s\033[0m%*s", sgr[st], name, width - (int)strlen(name), "");
	else
		printf("%-*s", width, name);
}

/* TEXT in lines of at most WIDTH bytes, broken at spaces (a longer word
 * alone on its line is cut), the first after what is already printed, the
 * others indented by INDENT. */
static void put_wrapped(const char *text, size_t width, int indent)
{
	int first = 1;

	while (*text) {
		size_t n = strlen(text), cut = n;

		if (n > width) {
			cut = width;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = width;
		}
		if (!first)
			printf("%*s", indent, "");
		printf("%.*s\n", (int)cut, text);
		text += cut;
		text += strspn(text, " ");
		first = 0;
	}
	if (first)
		putchar('\n');
}

static int shown(const struct nk_finding *f, int quiet)
{
	return !quiet || f->status != NK_OK;
}

static void print_text(const struct nk_findings *fs, int quiet)
{
	size_t idw = 2, stw = 6, whatw = 7, fixw = 0, n = 0;
	int width = table_width(), colour = use_colour(), side;

	for (size_t i = 0; i < fs->n; i++) {
		const struct nk_finding *f = &fs->f[i];

		if (!shown(f, quiet))
			continue;
		n++;
		idw = NK_MAX(idw, strlen(f->id));
		stw = NK_MAX(stw, strlen(nk_status_name(f->status)));
		whatw = NK_MAX(whatw, strlen(f->what));
		fixw = NK_MAX(fixw, f->fix ? strlen(f->fix) : 0);
	}
	if (!n)
		return;
	side = idw + 1 + stw + 1 + whatw + 1 + NK_MAX(fixw, 3) <= (size_t)width;
	if (side)
		printf("%-*s %-*s %-*s FIX\n", (int)idw, "ID", (int)stw, "STATUS", (int)whatw, "FINDING");
	else
		printf("%-*s %-*s FINDING\n", (int)idw, "ID", (int)stw, "STATUS");
	for (size_t i = 0; i < fs->n; i++) {
		const struct nk_finding *f = &fs->f[i];
		int indent = (int)(idw + 1 + stw + 1);
		size_t room = (size_t)NK_MAX(width - indent, 20);

		if (!shown(f, quiet))
			continue;
		printf("%-*s ", (int)idw, f->id);
		put_status(f->status, colour, (int)stw);
		putchar(' ');
		if (side) {
			if (f->fix && *f->fix)
				printf("%-*s %s\n", (int)whatw, f->what, f->fix);
			else
				printf("%s\n", f->what);
			continue;
		}
		put_wrapped(f->what, room, indent);
		if (f->fix && *f->fix) {
			char *line = NULL;

			if (asprintf(&line, "fix: %s", f->fix) < 0)
				nk_die(1, "out of memory");
			printf("%*s", indent, "");
			put_wrapped(line, room, indent);
			free(line);
		}
	}
}

static void print_json(const struct nk_findings *fs, int quiet)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		nk_die(1, "out of memory");
	scols_table_set_name(tb, "findings");
	scols_table_enable_json(tb, 1);
	if (!scols_table_new_column(tb, "ID", 0, 0) || !scols_table_new_column(tb, "STATUS", 0, 0) ||
	    !scols_table_new_column(tb, "FINDING", 0, 0) || !scols_table_new_column(tb, "FIX", 0, 0))
		nk_die(1, "out of memory");
	for (size_t i = 0; i < fs->n; i++) {
		const struct nk_finding *f = &fs->f[i];
		struct libscols_line *ln;

		if (!shown(f, quiet))
			continue;
		ln = scols_table_new_line(tb, NULL);
		if (!ln || scols_line_set_data(ln, 0, f->id) < 0 ||
		    scols_line_set_data(ln, 1, nk_status_name(f->status)) < 0 ||
		    scols_line_set_data(ln, 2, f->what) < 0 ||
		    scols_line_set_data(ln, 3, f->fix ? f->fix : "") < 0)
			nk_die(1, "out of memory");
	}
	scols_print_table(tb);
	scols_unref_table(tb);
}

static void print_findings(const struct nk_findings *fs, int json, int quiet)
{
	if (json)
		print_json(fs, quiet);
	else
		print_text(fs, quiet);
}

/* --- one diagnosis ---------------------------------------------------------- */

/* The groups of checks; --explain runs only those its causes need. */
enum {
	G_USERNS = 1 << 0,     /* sysctls and the probe as the user */
	G_SUBIDS = 1 << 1,
	G_HELPERS = 1 << 2,
	G_PRIVS = 1 << 3,
	G_PARENT = 1 << 4,
	G_SESSION = 1 << 5,
	G_MOUNTS = 1 << 6,
	G_ALL = (1 << 7) - 1,
};

static unsigned group_of(const char *id)
{
	if (strncmp(id, "userns-", 7) == 0)
		return G_USERNS;
	if (strncmp(id, "subuid-", 7) == 0 || strncmp(id, "subgid-", 7) == 0 || strcmp(id, "subid-requested") == 0)
		return G_SUBIDS;
	if (strncmp(id, "newuidmap", 9) == 0 || strncmp(id, "newgidmap", 9) == 0)
		return G_HELPERS;
	if (strcmp(id, "no-new-privs") == 0 || strcmp(id, "cap-bounding") == 0)
		return G_PRIVS;
	if (strcmp(id, "parent-map") == 0)
		return G_PARENT | G_SUBIDS;
	if (strcmp(id, "xdg-runtime-dir") == 0 || strcmp(id, "user-env") == 0)
		return G_SESSION;
	return G_MOUNTS;
}

struct diag {
	char name[256];
	struct nk_dr_user u;
	int caller;            /* the user is the caller */
	int runtime_dir;       /* --fix: check /run/user/UID for another user */
	struct nk_dr_sys sys;
	struct nk_findings fs;
	struct nk_ranges ranges[2];
	const struct nk_ranges *got[2];
	int subid_central;     /* ranges come from a central source (not the files) */
};

static void diag_user(struct diag *d, const char *user)
{
	struct passwd *pw;

	if (user) {
		uint32_t id;

		pw = getpwnam(user);
		if (!pw && nk_parse_id(user, &id) == 0)
			pw = getpwuid(id);
		if (!pw)
			nk_die(1, "no user '%s' (give a name or uid from the passwd database)", user);
	} else {
		pw = getpwuid(getuid());
		if (!pw)
			nk_die(1, "your uid %u has no name in the passwd database (add one: newuidmap and "
			       "libsubid look users up by name)", getuid());
	}
	snprintf(d->name, sizeof d->name, "%s", pw->pw_name);
	d->u.name = d->name;
	d->u.uid = pw->pw_uid;
	d->u.gid = pw->pw_gid;
	d->caller = d->u.uid == getuid();
}

static void diag_free(struct diag *d)
{
	nk_findings_free(&d->fs);
	nk_ranges_free(&d->ranges[0]);
	nk_ranges_free(&d->ranges[1]);
	d->got[0] = d->got[1] = NULL;
}

/* The ids a message names, against the user's ranges: subid-requested. */
static void check_requested(struct diag *d, const struct nk_ex_req *rq)
{
	for (int t = NK_UID; t <= NK_GID; t++) {
		const struct nk_ranges *r = d->got[t];
		const char *tn = nk_idtype_name((enum nk_idtype)t);
		uint64_t total = 0;
		int ok;

		if (!rq->have[t] || !r)
			continue;
		for (size_t i = 0; i < r->n; i++)
			total += r->r[i].count;
		if (rq->inner) {
			/* The default rootless map: the user to 0, its ranges from 1. */
			ok = rq->hi[t] <= total;
			if (ok)
				continue;
			nk_finding_add(&d->fs, "subid-requested", NK_FAIL, nk_subid_fix(d->name),
				       "the message asks for %s %llu inside the namespace, but '%s' has %llu "
				       "subordinate %ss: the namespace maps %ss 0-%llu only (with podman's "
				       "--userns=keep-id too)", tn, (unsigned long long)rq->hi[t], d->name,
				       (unsigned long long)total, tn, tn, (unsigned long long)total);
			return;
		}
		ok = rq->hi[t] - rq->lo[t] < UINT32_MAX &&
		     nk_ranges_cover(r, (uint32_t)rq->lo[t], (uint32_t)(rq->hi[t] - rq->lo[t] + 1));
		if (ok)
			continue;
		{
			char have[256] = "none";
			size_t o = 0;

			for (size_t i = 0; i < r->n && o < sizeof have - 32; i++)
				o += (size_t)snprintf(have + o, sizeof have - o, "%s%u-%llu", i ? ", " : "",
						      r->r[i].start,
						      (unsigned long long)r->r[i].start + r->r[i].count - 1);
			nk_finding_add(&d->fs, "subid-requested", NK_FAIL,
				       "map only ids inside the user's ranges, or give the user a range that covers them",
				       "the message asks for host %ss %llu-%llu, outside the subordinate %s ranges "
				       "of '%s' (%s)", tn, (unsigned long long)rq->lo[t], (unsigned long long)rq->hi[t],
				       tn, d->name, have);
		}
		return;
	}
	if (rq->have[NK_UID] || rq->have[NK_GID])
		nk_finding_add(&d->fs, "subid-requested", NK_OK, NULL,
			       "the ids the message names lie inside the ranges of '%s'", d->name);
}

static void diagnose(struct diag *d, unsigned groups, const struct nk_ex_req *rq)
{
	struct nk_dr_probe probe;
	struct nk_maps own = { 0 };
	struct nk_err e;
	char src[64];

	nk_dr_sys_read(&d->sys);
	d->subid_central = nk_subid_source(src, sizeof src) == 1;

	if (groups & G_USERNS) {
		/* Probe as the user: ourselves, or a child that becomes the user
		 * when we are root. */
		memset(&probe, 0, sizeof probe);
		if (d->caller || geteuid() == 0) {
			if (nk_doctor_probe(&probe, &d->u, !d->caller, &e) < 0)
				nk_die_err(1, &e);
		}
		nk_doctor_userns(&d->fs, &d->sys, &probe, &d->u);
	}

	if (groups & (G_SUBIDS | G_PARENT)) {
		for (int t = NK_UID; t <= NK_GID; t++) {
			const char *path = nk_subid_file((enum nk_idtype)t);
			struct nk_sf sf;
			struct nk_err fe;
			int r = nk_subid_ranges(d->name, (enum nk_idtype)t, &d->ranges[t], &e);
			int lr = nk_sf_load(&sf, path, &fe);

			if (r == 0)
				d->got[t] = &d->ranges[t];
			if (lr == -ENOMEM)
				nk_die(1, "out of memory");
			if (groups & G_SUBIDS)
				nk_doctor_subids(&d->fs, (enum nk_idtype)t, &d->u, d->got[t], r < 0 ? e.msg : NULL,
						 path, &sf, lr < 0 ? &fe : NULL, &nk_dr_system_db);
			nk_sf_free(&sf);
		}
		if (rq)
			check_requested(d, rq);
	}

	if (groups & G_HELPERS) {
		check_helper(&d->fs, NK_UID);
		check_helper(&d->fs, NK_GID);
	}
	if (groups & G_PRIVS)
		nk_doctor_privs(&d->fs, &d->sys);
	if (groups & G_PARENT) {
		if (nk_maps_read_proc(0, &own, &e) < 0)
			nk_die_err(1, &e);
		nk_doctor_parent_map(&d->fs, &own, d->got, &d->u);
		nk_maps_free(&own);
	}

	if (groups & G_SESSION) {
		const char *xdg = NULL;
		char run[64];
		struct stat st;
		int have = 0, err = 0;

		if (d->caller)
			xdg = getenv("XDG_RUNTIME_DIR");
		else if (d->runtime_dir) {
			snprintf(run, sizeof run, "/run/user/%u", d->u.uid);
			xdg = run;
		}
		if (d->caller || d->runtime_dir) {
			if (xdg && *xdg) {
				have = lstat(xdg, &st) == 0;
				err = errno;
			}
			nk_doctor_xdg(&d->fs, xdg, have ? &st : NULL, err, &d->u);
		}
		if (d->caller)
			nk_doctor_user_env(&d->fs, getenv("USER"), getenv("LOGNAME"), &d->u);
	}

	if (groups & G_MOUNTS) {
		gid_t groups_[256];
		uint32_t gids[256];
		int ngroups = (int)NK_ARRAY_SIZE(groups_);

		if (getgrouplist(d->name, d->u.gid, groups_, &ngroups) < 0)
			ngroups = (int)NK_ARRAY_SIZE(groups_);
		for (int i = 0; i < ngroups; i++)
			gids[i] = groups_[i];
		nk_doctor_mounts(&d->fs, &d->sys, gids, (size_t)ngroups, &d->u);
	}
}

/* A finding that could not be recorded might have been a failure. */
static void check_lost(const struct diag *d)
{
	if (d->fs.lost)
		nk_die(1, "cannot record %zu finding%s: %s (nothing can be said about %s)", d->fs.lost,
		       d->fs.lost == 1 ? "" : "s", strerror(ENOMEM), d->fs.lost == 1 ? "it" : "them");
}

/* --- --explain ---------------------------------------------------------------- */

#define EXPLAIN_MAX (1 << 20)

static char *read_stdin(void)
{
	size_t n = 0, cap = 0;
	char *buf = NULL;

	for (;;) {
		ssize_t r;

		if (nk_grow(&buf, n + 4096, &cap, 1, 65536) < 0)
			nk_die(1, "out of memory");
		r = read(STDIN_FILENO, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			nk_die(1, "cannot read standard input: %s", strerror(errno));
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > EXPLAIN_MAX)
			nk_die(1, "standard input is longer than %d bytes (give the error lines only)", EXPLAIN_MAX);
	}
	buf[n] = '\0';
	return buf;
}

static void print_verdicts(const struct nk_ex_verdict *v, size_t n, enum nk_ex_state st,
			   const char *label)
{
	int any = 0;

	for (size_t i = 0; i < n; i++) {
		char *line = NULL;

		if (v[i].state != st)
			continue;
		if (!any)
			printf("%s\n", label);
		any = 1;
		if (!v[i].f) {
			if (asprintf(&line, "%s: not probed here (see nskit-doctor(1), FINDINGS)", v[i].id) < 0)
				nk_die(1, "out of memory");
		} else if (st == NK_EX_UNTESTED) {
			if (asprintf(&line, "%s: %s for nskit-doctor itself, which may differ from the program that "
				     "failed (run nskit-doctor the way that program runs)", v[i].id, v[i].f->what) < 0)
				nk_die(1, "out of memory");
		} else if (asprintf(&line, "%s: %s", v[i].id, v[i].f->what) < 0)
			nk_die(1, "out of memory");
		printf("  ");
		put_wrapped(line, (size_t)table_width() - 4, 4);
		free(line);
	}
}

static int explain_one(const char *user, const struct nk_ex_msg *m, const char *line)
{
	struct diag d;
	struct nk_ex_req rq;
	struct nk_ex_verdict v[NK_EX_MAX_CAUSES];
	unsigned groups = 0;
	size_t n, found;
	int have_rq;

	memset(&d, 0, sizeof d);
	diag_user(&d, user);
	for (size_t i = 0; i < NK_EX_MAX_CAUSES && m->causes[i].id; i++)
		groups |= group_of(m->causes[i].id);
	have_rq = nk_ex_requested(line, &rq) == 0;
	diagnose(&d, groups, have_rq ? &rq : NULL);
	check_lost(&d);
	found = nk_ex_judge(m, &d.fs, v, &n);

	printf("message: ");
	put_wrapped(line, (size_t)table_width() - 9, 9);
	printf("known as: %s, printed by %s (%s)\n", m->key, m->tool, m->versions);
	for (size_t i = 0; i < n; i++) {
		if (v[i].state != NK_EX_FOUND)
			continue;
		printf("cause: %s (%s)\n  ", v[i].id, nk_status_name(v[i].f->status));
		put_wrapped(v[i].f->what, (size_t)table_width() - 2, 2);
		if (v[i].f->fix) {
			char *fx = NULL;

			if (asprintf(&fx, "fix: %s", v[i].f->fix) < 0)
				nk_die(1, "out of memory");
			printf("  ");
			put_wrapped(fx, (size_t)table_width() - 2, 2);
			free(fx);
		}
	}
	if (!found)
		printf("cause: not found\n");
	print_verdicts(v, n, NK_EX_RULED_OUT, "ruled out:");
	print_verdicts(v, n, NK_EX_UNTESTED, "not tested:");
	diag_free(&d);
	return found > 0;
}

static int explain(const char *user, const char *arg)
{
	NK_AUTOFREE char *text = strcmp(arg, "-") == 0 ? read_stdin() : strdup(arg);
	const struct nk_ex_msg *seen[64];
	size_t nseen = 0;
	int all = 1;
	char *save = NULL, *line;

	if (!text)
		nk_die(1, "out of memory");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const struct nk_ex_msg *m = nk_ex_match(line);
		size_t i;

		if (!m)
			continue;
		for (i = 0; i < nseen && seen[i] != m; i++)
			;
		if (i < nseen || nseen == NK_ARRAY_SIZE(seen))
			continue;
		if (nseen)
			putchar('\n');
		seen[nseen++] = m;
		fflush(stdout);
		if (!explain_one(user, m, line))
			all = 0;
	}
	if (!nseen) {
		printf("no line of the input is a message nskit-doctor knows (see nskit-doctor(1), EXPLAIN)\n");
		return 1;
	}
	return all ? 0 : 1;
}

/* --- --fix ---------------------------------------------------------------------- */

#define SYSCTL_DROPIN "/etc/sysctl.d/60-nskit.conf"
#define BOOT_UNIT "nskit-mnt-share.service"

struct fixer {
	int dry;
	int apparmor, sysctl_userns;   /* --fix=apparmor, --fix=sysctl-userns */
	int changes;
	int failed;
	char bindir[PATH_MAX];         /* where nskit-doctor is: its sibling tools */
};

static int systemd_runs(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* Run ARGV (ARGV[0] a tool name: nskit's own from our folder when it is
 * there, else from PATH), after printing it as a command line. */
static int fx_run(struct fixer *x, char *const argv[])
{
	char path[PATH_MAX + 64];
	pid_t c;
	int st;

	for (size_t i = 0; argv[i]; i++)
		printf("%s%s", i ? " " : "", argv[i]);
	putchar('\n');
	x->changes++;
	if (x->dry)
		return 0;
	fflush(NULL);
	snprintf(path, sizeof path, "%s/%s", x->bindir, argv[0]);
	c = fork();
	if (c < 0) {
		nk_warn("cannot fork to run %s: %s", argv[0], strerror(errno));
		x->failed++;
		return -1;
	}
	if (c == 0) {
		/* Its output is ours: what it did goes with the command line. */
		if (x->bindir[0] && access(path, X_OK) == 0)
			execv(path, argv);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: cannot run %s: %s\n", nk_progname, argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		nk_warn("%s failed (exit %d): not fixed", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : 128);
		x->failed++;
		return -1;
	}
	return 0;
}

/* The file PATH as a string ("" when it does not exist), capped. */
static char *slurp(const char *path)
{
	NK_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	char *buf;
	ssize_t r;

	if (fd < 0)
		return errno == ENOENT ? strdup("") : NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 65536)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	r = nk_read_full(fd, buf, (size_t)st.st_size) == 0 ? st.st_size : -1;
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[r] = '\0';
	return buf;
}

static int write_atomic(const char *path, const char *text, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd;

	snprintf(tmp, sizeof tmp, "%s.nskit-tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (nk_write_full(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		int r = -errno;

		close(fd);
		unlink(tmp);
		return r;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int r = -errno;

		unlink(tmp);
		return r;
	}
	return 0;
}

/* KEY = VALUE in the drop-in (the line replaced, or added with the value
 * it had before as a comment: the way back), and in /proc/sys now. */
static void fx_sysctl(struct fixer *x, const char *key, const char *value, const char *before)
{
	NK_AUTOFREE char *old = slurp(SYSCTL_DROPIN);
	NK_AUTOFREE char *text = NULL;
	char procpath[256], line[256];
	size_t klen = strlen(key);
	const char *p;
	int r;

	if (!old) {
		nk_warn("cannot read %s (a regular file of at most 64 KiB): not fixed", SYSCTL_DROPIN);
		x->failed++;
		return;
	}
	snprintf(line, sizeof line, "%s = %s\n", key, value);
	/* The key's line, if the drop-in has one. */
	for (p = old; *p; p += strcspn(p, "\n"), p += *p == '\n') {
		if (strncmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '='))
			break;
	}
	if (*p) {
		size_t len = strcspn(p, "\n");

		if (asprintf(&text, "%.*s%s%s", (int)(p - old), old, line, p + len + (p[len] == '\n')) < 0)
			nk_die(1, "out of memory");
	} else if (asprintf(&text, "%s%s# %s was %s before nskit-doctor --fix (to undo: remove the next "
			    "line, and 'sysctl -w %s=\"%s\"')\n%s", old,
			    *old ? "" : "# Written by nskit-doctor --fix: settings rootless user namespaces need.\n",
			    key, before, key, before, line) < 0)
		nk_die(1, "out of memory");
	if (strcmp(text, old) != 0) {
		printf("cat > %s <<'EOF'\n%sEOF\n", SYSCTL_DROPIN, text);
		x->changes++;
		if (!x->dry) {
			if (mkdir("/etc/sysctl.d", 0755) < 0 && errno != EEXIST)
				r = -errno;
			else
				r = write_atomic(SYSCTL_DROPIN, text, 0644);
			if (r < 0) {
				nk_warn("cannot write %s: %s", SYSCTL_DROPIN, strerror(-r));
				x->failed++;
				return;
			}
		}
	}
	printf("sysctl -w %s=\"%s\"\n", key, value);
	x->changes++;
	if (x->dry)
		return;
	snprintf(procpath, sizeof procpath, "/proc/sys/%s", key);
	for (char *q = procpath + 10; *q; q++)
		if (*q == '.')
			*q = '/';
	{
		NK_AUTOCLOSE int fd = open(procpath, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || nk_write_full(fd, value, strlen(value)) < 0) {
			nk_warn("cannot write %s: %s", procpath, strerror(errno));
			x->failed++;
		}
	}
}

static void fx_note(const char *fmt, ...) NK_PRINTF(1, 2);
static void fx_note(const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		nk_die(1, "out of memory");
	va_end(ap);
	/* Every line a shell comment: --dry-run's output can be run. */
	for (const char *p = text; *p;) {
		size_t n = strlen(p), cut = n;

		if (n > TABLE_WIDTH - 2) {
			cut = TABLE_WIDTH - 2;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = TABLE_WIDTH - 2;
		}
		printf("# %.*s\n", (int)cut, p);
		p += cut;
		p += strspn(p, " ");
	}
	free(text);
}

static int failing(const struct nk_findings *fs, const char *id)
{
	const struct nk_finding *f = nk_findings_get(fs, id);

	return f && f->status != NK_OK;
}

/* Remedies for the machine: once, whoever the users. */
static void fix_machine(struct fixer *x, const struct diag *d)
{
	const struct nk_dr_sys *s = &d->sys;
	char before[64];

	if (failing(&d->fs, "userns-max") && s->max_userns == 0)
		fx_sysctl(x, "user.max_user_namespaces", "15000", "0");
	if (failing(&d->fs, "userns-clone")) {
		if (x->sysctl_userns)
			fx_sysctl(x, "kernel.unprivileged_userns_clone", "1", "0");
		else
			fx_note("not changed: kernel.unprivileged_userns_clone is 0, Debian's switch that keeps user "
				"namespaces from unprivileged users. To allow them, the line is "
				"'kernel.unprivileged_userns_clone = 1' in %s; 'nskit-doctor --fix=sysctl-userns' "
				"writes it", SYSCTL_DROPIN);
	}
	if (failing(&d->fs, "userns-apparmor")) {
		if (x->apparmor) {
			snprintf(before, sizeof before, "%ld", s->apparmor);
			fx_sysctl(x, "kernel.apparmor_restrict_unprivileged_userns", "0", before);
		} else
			fx_note("not changed: kernel.apparmor_restrict_unprivileged_userns is %ld. Either give the "
				"program a profile, e.g. /etc/apparmor.d/podman: 'abi <abi/4.0>, include "
				"<tunables/global> profile podman /usr/bin/podman flags=(unconfined) { userns, }' "
				"then 'apparmor_parser -r /etc/apparmor.d/podman'; or lift the restriction for every "
				"program with the line 'kernel.apparmor_restrict_unprivileged_userns = 0' in %s, "
				"which 'nskit-doctor --fix=apparmor' writes", s->apparmor, SYSCTL_DROPIN);
	}
	if (failing(&d->fs, "ping-group-range") && s->ping_lo >= 0) {
		snprintf(before, sizeof before, "%ld %ld", s->ping_lo, s->ping_hi);
		fx_sysctl(x, "net.ipv4.ping_group_range", "0 2147483647", before);
	}
	if (failing(&d->fs, "root-shared") && s->root_shared == 0) {
		char *argv[] = { "mnt-share", "--no-recursive", "/", NULL };

		fx_note("/ is private now (to undo: 'mnt-share --private --no-recursive /')");
		fx_run(x, argv);
	}
	/* systemd makes / shared at boot; where it runs and / is not shared,
	 * something undid it, and the boot unit does it again after that. */
	if (systemd_runs() && failing(&d->fs, "root-shared") && s->root_shared == 0) {
		char *is[] = { "systemctl", "is-enabled", "--quiet", BOOT_UNIT, NULL };
		pid_t c;
		int st = 0;

		fflush(NULL);
		c = fork();
		if (c == 0) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (null >= 0) {
				dup2(null, 1);
				dup2(null, 2);
			}
			execvp(is[0], is);
			_exit(127);
		}
		if (c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) != 0 &&
		    WEXITSTATUS(st) != 127) {
			char *argv[] = { "systemctl", "enable", BOOT_UNIT, NULL };

			fx_note("the boot unit makes / shared at every boot (to undo: 'systemctl disable %s')", BOOT_UNIT);
			fx_run(x, argv);
		}
	}
}

/* Remedies for one user. */
static void fix_user(struct fixer *x, const struct diag *d)
{
	const char *name = d->name;
	int need[2] = { 0, 0 }, replace[2] = { 0, 0 };

	if (d->subid_central && (failing(&d->fs, "subuid-range") || failing(&d->fs, "subgid-range") ||
				 failing(&d->fs, "subuid-size") || failing(&d->fs, "subgid-size"))) {
		fx_note("not changed: the ranges of '%s' come from a central source (the 'subid:' line of "
			"/etc/nsswitch.conf), which nskit never writes; %s", name, nk_subid_fix(name));
		goto runtime;
	}
	for (int t = NK_UID; t <= NK_GID; t++) {
		const char *k = t == NK_UID ? "subuid-" : "subgid-";
		char id[32];

		if (!d->got[t])
			continue;       /* the ranges could not be read: nothing safe to do */
		snprintf(id, sizeof id, "%srange", k);
		if (failing(&d->fs, id) && d->got[t]->n == 0)
			need[t] = 1;
		snprintf(id, sizeof id, "%ssize", k);
		if (failing(&d->fs, id))
			replace[t] = 1;
		snprintf(id, sizeof id, "%sself", k);
		if (failing(&d->fs, id))
			replace[t] = 1;
	}
	if (need[0] || need[1] || replace[0] || replace[1]) {
		for (int t = NK_UID; t <= NK_GID; t++) {
			const char *only = t == NK_UID ? "--uid-only" : "--gid-only";

			if (replace[t]) {
				char *rel[] = { "subid-alloc", "--release", (char *)only, (char *)name, NULL };

				for (size_t i = 0; i < d->got[t]->n; i++)
					fx_note("'%s' has the unusable range %u:%u in %s (to undo: put the line "
						"'%s:%u:%u' back)", name, d->got[t]->r[i].start,
						d->got[t]->r[i].count, nk_subid_file((enum nk_idtype)t), name,
						d->got[t]->r[i].start, d->got[t]->r[i].count);
				if (fx_run(x, rel) < 0)
					replace[t] = 0;
			}
		}
		if ((need[0] || replace[0]) && (need[1] || replace[1])) {
			char *argv[] = { "subid-alloc", (char *)name, NULL };

			fx_run(x, argv);
		} else if (need[0] || replace[0] || need[1] || replace[1]) {
			char *argv[] = { "subid-alloc", need[0] || replace[0] ? "--uid-only" : "--gid-only",
					 (char *)name, NULL };

			fx_run(x, argv);
		}
	}

runtime:
	if (failing(&d->fs, "xdg-runtime-dir") && d->runtime_dir) {
		char dir[64];
		struct stat st;

		snprintf(dir, sizeof dir, "/run/user/%u", d->u.uid);
		if (systemd_runs()) {
			fx_note("not changed: systemd-logind makes %s at login; for a user who does not log in, "
				"'loginctl enable-linger %s'", dir, name);
		} else if (lstat(dir, &st) < 0 && errno == ENOENT) {
			printf("install -d -m 0700 -o %u -g %u %s\n", d->u.uid, d->u.gid, dir);
			x->changes++;
			if (!x->dry && ((mkdir("/run/user", 0755) < 0 && errno != EEXIST) || mkdir(dir, 0700) < 0 ||
					chown(dir, d->u.uid, d->u.gid) < 0 || chmod(dir, 0700) < 0)) {
				nk_warn("cannot make %s: %s", dir, strerror(errno));
				x->failed++;
			}
		} else if (S_ISDIR(st.st_mode) && st.st_uid == d->u.uid && (st.st_mode & 07777) != 0700) {
			printf("chmod 0700 %s\n", dir);
			x->changes++;
			if (!x->dry && chmod(dir, 0700) < 0) {
				nk_warn("cannot chmod %s: %s", dir, strerror(errno));
				x->failed++;
			}
		} else
			fx_note("not changed: %s is not a folder of '%s' (who else uses it cannot be known: "
				"move it away by hand)", dir, name);
	}
}

#define MAX_USERS 64

static int fix(struct fixer *x, const char **users, size_t nusers)
{
	static struct diag before[MAX_USERS], after[MAX_USERS];
	size_t n = nusers ? nusers : 1;
	int bad = 0;
	char self[PATH_MAX];
	ssize_t len;

	if (geteuid() != 0 && !x->dry)
		nk_die(1, "--fix changes the system and needs root (--fix --dry-run shows the changes)");
	len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len > 0) {
		self[len] = '\0';
		snprintf(x->bindir, sizeof x->bindir, "%s", self);
		if (strrchr(x->bindir, '/'))
			*strrchr(x->bindir, '/') = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		diag_user(&before[i], nusers ? users[i] : NULL);
		before[i].runtime_dir = !before[i].caller;
		diagnose(&before[i], G_ALL, NULL);
		check_lost(&before[i]);
	}
	if (x->dry)
		printf("# nskit-doctor --fix --dry-run: the changes, none made\n");
	fix_machine(x, &before[0]);
	if (nusers || getuid() != 0)
		for (size_t i = 0; i < n; i++)
			fix_user(x, &before[i]);
	else
		fx_note("the machine only: give --user USER for a user's own fixes (ranges, runtime folder)");
	if (!x->changes)
		printf("# nothing to change\n");
	fflush(stdout);

	/* Check again: each finding that was not ok, then and now. */
	nk_subid_forget();
	for (size_t i = 0; i < n; i++) {
		const struct nk_findings *b = &before[i].fs;
		int shown = 0;

		if (!x->dry) {
			diag_user(&after[i], nusers ? users[i] : NULL);
			after[i].runtime_dir = before[i].runtime_dir;
			diagnose(&after[i], G_ALL, NULL);
			check_lost(&after[i]);
		}
		for (size_t j = 0; j < b->n; j++) {
			const struct nk_finding *f = &b->f[j];
			const struct nk_finding *g = x->dry ? f : nk_findings_get(&after[i].fs, f->id);

			if (f->status == NK_OK || (!nusers && getuid() == 0 && !(group_of(f->id) & (G_USERNS | G_MOUNTS))))
				continue;
			if (!shown)
				printf("\n%-16s %-6s %-6s '%s'\n", "ID", "BEFORE", x->dry ? "NOW" : "AFTER", before[i].name);
			shown = 1;
			printf("%-16s %-6s %-6s ", f->id, nk_status_name(f->status), g ? nk_status_name(g->status) : "-");
			put_wrapped(g ? g->what : f->what, (size_t)TABLE_WIDTH - 31, 31);
			if (g && g->status == NK_FAIL)
				bad = 1;
		}
		if (!shown)
			printf("# every finding of '%s' was ok\n", before[i].name);
		if (!x->dry)
			diag_free(&after[i]);
		diag_free(&before[i]);
	}
	return bad || x->failed ? 1 : 0;
}

/* --- main ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	enum { OPT_FIX = 256 };
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "fix", optional_argument, NULL, OPT_FIX },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "explain", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *users[MAX_USERS];
	const char *explain_arg = NULL;
	size_t nusers = 0;
	int json = 0, quiet = 0, do_fix = 0, c;
	struct fixer x;
	struct diag d;
	enum nk_status worst;

	nk_tool_init("nskit-doctor", argv);
	memset(&x, 0, sizeof x);
	while ((c = getopt_long(argc, argv, "u:Jqne:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (nusers == MAX_USERS)
				usage_error("more than %d --user options", MAX_USERS);
			users[nusers++] = optarg;
			break;
		case 'J':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case OPT_FIX:
			do_fix = 1;
			if (optarg) {
				NK_AUTOFREE char *list = strdup(optarg);
				char *save = NULL;

				if (!list)
					nk_die(1, "out of memory");
				for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
					if (strcmp(w, "apparmor") == 0)
						x.apparmor = 1;
					else if (strcmp(w, "sysctl-userns") == 0)
						x.sysctl_userns = 1;
					else
						usage_error("unknown --fix '%s' (apparmor, sysctl-userns)", w);
				}
			}
			break;
		case 'n':
			x.dry = 1;
			break;
		case 'e':
			explain_arg = optarg;
			break;
		case 'h':
			usage();
		case 'V':
			nk_print_version();
		default:
			usage_error(NULL);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (x.dry && !do_fix)
		usage_error("--dry-run goes with --fix");
	if (do_fix && explain_arg)
		usage_error("--fix and --explain do not go together");
	if ((do_fix || explain_arg) && (json || quiet))
		usage_error("--json and --quiet go with the plain check only");
	if (nusers > 1 && !do_fix)
		usage_error("several --user options go with --fix only");
	if (explain_arg && !*explain_arg)
		usage_error("--explain needs the message (or - for standard input)");

	if (do_fix)
		return fix(&x, users, nusers);
	if (explain_arg)
		return explain(nusers ? users[0] : NULL, explain_arg);

	memset(&d, 0, sizeof d);
	diag_user(&d, nusers ? users[0] : NULL);
	diagnose(&d, G_ALL, NULL);
	print_findings(&d.fs, json, quiet);
	check_lost(&d);
	worst = nk_findings_worst(&d.fs);
	diag_free(&d);
	return worst == NK_FAIL ? 1 : 0;
}
