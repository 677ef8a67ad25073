/* fix.c - nskit-doctor --fix
 *
 * Each failing or warning finding with a safe remedy gets it, through
 * nskit's own tools (subid-alloc, mnt-share) and the system's files
 * (/etc/sysctl.d/60-nskit.conf, /run/user/UID); each change is printed as
 * the command that makes it (--dry-run: printed only), then everything is
 * checked again and the findings shown before and after. A remedy that
 * fails is a warning and makes the exit status 1; the others still run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tool.h"
#include "nskit-doctor.h"
#include "report.h"

#define SYSCTL_DROPIN "/etc/sysctl.d/60-nskit.conf"
#define BOOT_UNIT "nskit-mnt-share.service"

static int systemd_runs(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* A remedy that did not work: said once, and counted (the exit status). */
static void fx_failed(struct dr_fixer *x, const char *fmt, ...) NK_PRINTF(2, 3);
static void fx_failed(struct dr_fixer *x, const char *fmt, ...)
{
	char msg[NK_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	nk_warnx("%s", msg);
	x->failed++;
}

/* Run ARGV (ARGV[0] a tool name: nskit's own from our folder when it is
 * there, else from PATH), after printing it as a command line. */
static int fx_run(struct dr_fixer *x, char *const argv[])
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
		fx_failed(x, "cannot fork to run %s: %s", argv[0], strerror(errno));
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
		fx_failed(x, "%s failed (exit %d): not fixed", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : 128);
		return -1;
	}
	return 0;
}

/* The file PATH as a string ("" when it does not exist), capped. */
static char *slurp(const char *path)
{
	NK_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	NK_AUTOFREE char *buf = NULL;
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? strdup("") : NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 65536)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || nk_read_full(fd, buf, (size_t)st.st_size) < 0)
		return NULL;
	buf[st.st_size] = '\0';
	return nk_steal(&buf);
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

/* The drop-in OLD with KEY = VALUE: the key's line replaced, or added with
 * the value it had before as a comment (the way back). NULL: no memory. */
static char *dropin_with(const char *old, const char *key, const char *value, const char *before)
{
	size_t klen = strlen(key);
	char line[256], *text = NULL;
	const char *p;

	snprintf(line, sizeof line, "%s = %s\n", key, value);
	for (p = old; *p; p += strcspn(p, "\n"), p += *p == '\n')
		if (strncmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '='))
			break;
	if (*p) {
		size_t len = strcspn(p, "\n");

		if (asprintf(&text, "%.*s%s%s", (int)(p - old), old, line, p + len + (p[len] == '\n')) < 0)
			return NULL;
	} else if (asprintf(&text, "%s%s# %s was %s before nskit-doctor --fix (to undo: remove the next "
			    "line, and 'sysctl -w %s=\"%s\"')\n%s", old,
			    *old ? "" : "# Written by nskit-doctor --fix: settings rootless user namespaces need.\n",
			    key, before, key, before, line) < 0)
		return NULL;
	return text;
}

/* Write TEXT over the drop-in (/etc/sysctl.d made when missing). */
static int dropin_write(struct dr_fixer *x, const char *text)
{
	int r;

	printf("cat > %s <<'EOF'\n%sEOF\n", SYSCTL_DROPIN, text);
	x->changes++;
	if (x->dry)
		return 0;
	if (mkdir("/etc/sysctl.d", 0755) < 0 && errno != EEXIST)
		r = -errno;
	else
		r = write_atomic(SYSCTL_DROPIN, text, 0644);
	if (r < 0) {
		fx_failed(x, "cannot write %s: %s", SYSCTL_DROPIN, strerror(-r));
		return r;
	}
	return 0;
}

/* KEY = VALUE in the drop-in, and in /proc/sys now. */
static void fx_sysctl(struct dr_fixer *x, const char *key, const char *value, const char *before)
{
	NK_AUTOFREE char *old = slurp(SYSCTL_DROPIN);
	NK_AUTOFREE char *text = NULL;
	char procpath[256];

	if (!old) {
		fx_failed(x, "cannot read %s (a regular file of at most 64 KiB): not fixed", SYSCTL_DROPIN);
		return;
	}
	if (!(text = dropin_with(old, key, value, before))) {
		fx_failed(x, "out of memory: %s not fixed", key);
		return;
	}
	if (strcmp(text, old) != 0 && dropin_write(x, text) < 0)
		return;
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

		if (fd < 0 || nk_write_full(fd, value, strlen(value)) < 0)
			fx_failed(x, "cannot write %s: %s", procpath, strerror(errno));
	}
}

/* A note, every line a shell comment: --dry-run's output can be run. */
static void fx_note(struct dr_fixer *x, const char *fmt, ...) NK_PRINTF(2, 3);
static void fx_note(struct dr_fixer *x, const char *fmt, ...)
{
	NK_AUTOFREE char *text = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0) {
		text = NULL;
		fx_failed(x, "out of memory");
		return;
	}
	for (const char *p = text; *p;) {
		size_t cut = dr_wrap_cut(p, DR_TABLE_WIDTH - 2);

		printf("# %.*s\n", (int)cut, p);
		p += cut;
		p += strspn(p, " ");
	}
}

static int failing(const struct dr_findings *fs, const char *id)
{
	const struct dr_finding *f = dr_findings_get(fs, id);

	return f && f->status != DR_OK;
}

/* --- the machine -------------------------------------------------------- */

static void fix_sysctls(struct dr_fixer *x, const struct diag *d)
{
	const struct dr_sys *s = &d->sys;
	char before[64];

	if (failing(&d->fs, "userns-max") && s->max_userns == 0)
		fx_sysctl(x, "user.max_user_namespaces", "15000", "0");
	if (failing(&d->fs, "userns-clone")) {
		if (x->sysctl_userns)
			fx_sysctl(x, "kernel.unprivileged_userns_clone", "1", "0");
		else
			fx_note(x, "not changed: kernel.unprivileged_userns_clone is 0, Debian's switch that keeps user "
				"namespaces from unprivileged users. To allow them, the line is "
				"'kernel.unprivileged_userns_clone = 1' in %s; 'nskit-doctor --fix=sysctl-userns' "
				"writes it", SYSCTL_DROPIN);
	}
	if (failing(&d->fs, "userns-apparmor")) {
		if (x->apparmor) {
			snprintf(before, sizeof before, "%ld", s->apparmor);
			fx_sysctl(x, "kernel.apparmor_restrict_unprivileged_userns", "0", before);
		} else
			fx_note(x, "not changed: kernel.apparmor_restrict_unprivileged_userns is %ld. Either give the "
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
}

/* Is the boot unit disabled (and systemctl there to say so)? */
static int boot_unit_disabled(void)
{
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
	return c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 127;
}

static void fix_root_shared(struct dr_fixer *x, const struct diag *d)
{
	char *share[] = { "mnt-share", "--no-recursive", "/", NULL };
	char *enable[] = { "systemctl", "enable", BOOT_UNIT, NULL };

	if (!failing(&d->fs, "root-shared") || d->sys.root_shared != 0)
		return;
	fx_note(x, "/ is private now (to undo: 'mnt-share --private --no-recursive /')");
	fx_run(x, share);
	/* systemd makes / shared at boot; where it runs and / is not shared,
	 * something undid it, and the boot unit does it again after that. */
	if (systemd_runs() && boot_unit_disabled()) {
		fx_note(x, "the boot unit makes / shared at every boot (to undo: 'systemctl disable %s')", BOOT_UNIT);
		fx_run(x, enable);
	}
}

/* --- one user -------------------------------------------------------------- */

/* New ranges where the user has none, or has ranges too small or holding
 * its own id (those are released first). */
static void fix_ranges(struct dr_fixer *x, const struct diag *d)
{
	static const char *const only[2] = { "--uid-only", "--gid-only" };
	static const char *const ids[2][3] = { { "subuid-range", "subuid-size", "subuid-self" },
					       { "subgid-range", "subgid-size", "subgid-self" } };
	const char *name = d->name;
	int need[2] = { 0, 0 }, replace[2] = { 0, 0 };

	for (int t = NK_UID; t <= NK_GID; t++) {
		if (!d->got[t])
			continue;       /* the ranges could not be read: nothing safe to do */
		need[t] = failing(&d->fs, ids[t][0]) && d->got[t]->n == 0;
		replace[t] = failing(&d->fs, ids[t][1]) || failing(&d->fs, ids[t][2]);
	}
	for (int t = NK_UID; t <= NK_GID; t++) {
		char *rel[] = { "subid-alloc", "--release", (char *)only[t], (char *)name, NULL };

		if (!replace[t])
			continue;
		for (size_t i = 0; i < d->got[t]->n; i++)
			fx_note(x, "'%s' has the unusable range %u:%u in %s (to undo: put the line '%s:%u:%u' back)",
				name, d->got[t]->r[i].start, d->got[t]->r[i].count, nk_subid_file(t), name,
				d->got[t]->r[i].start, d->got[t]->r[i].count);
		if (fx_run(x, rel) < 0)
			replace[t] = 0;
	}
	need[NK_UID] |= replace[NK_UID];
	need[NK_GID] |= replace[NK_GID];
	if (need[NK_UID] && need[NK_GID]) {
		char *argv[] = { "subid-alloc", (char *)name, NULL };

		fx_run(x, argv);
	} else if (need[NK_UID] || need[NK_GID]) {
		char *argv[] = { "subid-alloc", (char *)only[need[NK_UID] ? NK_UID : NK_GID], (char *)name, NULL };

		fx_run(x, argv);
	}
}

/* /run/user/UID for a user who has none (where no systemd-logind makes
 * it), or its mode. */
static void fix_runtime_dir(struct dr_fixer *x, const struct diag *d)
{
	char dir[64];
	struct stat st;

	if (!failing(&d->fs, "xdg-runtime-dir") || !d->runtime_dir)
		return;
	snprintf(dir, sizeof dir, "/run/user/%u", d->u.uid);
	if (systemd_runs()) {
		fx_note(x, "not changed: systemd-logind makes %s at login; for a user who does not log in, "
			"'loginctl enable-linger %s'", dir, d->name);
	} else if (lstat(dir, &st) < 0 && errno == ENOENT) {
		printf("install -d -m 0700 -o %u -g %u %s\n", d->u.uid, d->u.gid, dir);
		x->changes++;
		if (!x->dry && ((mkdir("/run/user", 0755) < 0 && errno != EEXIST) || mkdir(dir, 0700) < 0 ||
				chown(dir, d->u.uid, d->u.gid) < 0 || chmod(dir, 0700) < 0))
			fx_failed(x, "cannot make %s: %s", dir, strerror(errno));
	} else if (S_ISDIR(st.st_mode) && st.st_uid == d->u.uid && (st.st_mode & 07777) != 0700) {
		printf("chmod 0700 %s\n", dir);
		x->changes++;
		if (!x->dry && chmod(dir, 0700) < 0)
			fx_failed(x, "cannot chmod %s: %s", dir, strerror(errno));
	} else
		fx_note(x, "not changed: %s is not a folder of '%s' (who else uses it cannot be known: "
			"move it away by hand)", dir, d->name);
}

static void fix_user(struct dr_fixer *x, const struct diag *d)
{
	if (d->subid_central && (failing(&d->fs, "subuid-range") || failing(&d->fs, "subgid-range") ||
				 failing(&d->fs, "subuid-size") || failing(&d->fs, "subgid-size")))
		fx_note(x, "not changed: the ranges of '%s' come from a central source (the 'subid:' line of "
			"/etc/nsswitch.conf), which nskit never writes; %s", d->name, nk_subid_fix(d->name));
	else
		fix_ranges(x, d);
	fix_runtime_dir(x, d);
}

/* --- the run ------------------------------------------------------------------ */

/* Where nskit-doctor is: its sibling tools are run from there. */
static void find_bindir(struct dr_fixer *x)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);

	if (len <= 0)
		return;
	self[len] = '\0';
	snprintf(x->bindir, sizeof x->bindir, "%s", self);
	if (strrchr(x->bindir, '/'))
		*strrchr(x->bindir, '/') = '\0';
}

/* The findings of USER (NULL: the caller), all of them. */
static int diag_all(struct diag *d, const char *user, int runtime_dir, struct nk_err *e)
{
	memset(d, 0, sizeof *d);
	if (dr_diag_user(d, user, e) < 0)
		return -e->code;
	d->runtime_dir = runtime_dir < 0 ? !d->caller : runtime_dir;
	if (dr_diagnose(d, G_ALL, NULL, e) < 0 || dr_diag_lost(d, e) < 0)
		return -e->code;
	return 0;
}

/* Each finding of B that was not ok, then and now (A; NULL with
 * --dry-run: B again). MACHINE: only the machine's were fixed. 1 when one
 * still fails. */
static int report_user(const struct dr_fixer *x, const struct diag *b, const struct diag *a, int machine)
{
	int shown = 0, bad = 0;

	for (size_t j = 0; j < b->fs.n; j++) {
		const struct dr_finding *f = &b->fs.f[j];
		const struct dr_finding *g = a ? dr_findings_get(&a->fs, f->id) : f;

		if (f->status == DR_OK || (machine && !(dr_group_of(f->id) & (G_USERNS | G_MOUNTS))))
			continue;
		if (!shown)
			printf("\n%-16s %-6s %-6s '%s'\n", "ID", "BEFORE", x->dry ? "NOW" : "AFTER", b->name);
		shown = 1;
		printf("%-16s %-6s %-6s ", f->id, dr_status_name(f->status), g ? dr_status_name(g->status) : "-");
		dr_put_wrapped(g ? g->what : f->what, (size_t)DR_TABLE_WIDTH - 31, 31);
		if (g && g->status == DR_FAIL)
			bad = 1;
	}
	if (!shown)
		printf("# every finding of '%s' was ok\n", b->name);
	return bad;
}

static void apply(struct dr_fixer *x, const struct diag *before, size_t n, int machine_only)
{
	if (x->dry)
		printf("# nskit-doctor --fix --dry-run: the changes, none made\n");
	fix_sysctls(x, &before[0]);
	fix_root_shared(x, &before[0]);
	if (!machine_only)
		for (size_t i = 0; i < n; i++)
			fix_user(x, &before[i]);
	else
		fx_note(x, "the machine only: give --user USER for a user's own fixes (ranges, runtime folder)");
	if (!x->changes)
		printf("# nothing to change\n");
	fflush(stdout);
}

int dr_fix(struct dr_fixer *x, const char **users, size_t nusers, struct nk_err *e)
{
	static struct diag before[DR_MAX_USERS], after;
	size_t n = nusers ? nusers : 1;
	int machine_only = !nusers && getuid() == 0, bad = 0, r = 0;

	if (geteuid() != 0 && !x->dry)
		return nk_errf(e, EPERM, "--fix changes the system and needs root (--fix --dry-run shows the changes)");
	find_bindir(x);
	for (size_t i = 0; i < n && r == 0; i++)
		r = diag_all(&before[i], nusers ? users[i] : NULL, -1, e);
	if (r == 0) {
		apply(x, before, n, machine_only);
		/* Check again. */
		nk_subid_forget();
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (!x->dry && (r = diag_all(&after, nusers ? users[i] : NULL, before[i].runtime_dir, e)) < 0)
			break;
		bad |= report_user(x, &before[i], x->dry ? NULL : &after, machine_only);
		dr_diag_free(&after);
	}
	dr_diag_free(&after);
	for (size_t i = 0; i < n; i++)
		dr_diag_free(&before[i]);
	if (r < 0)
		return r;
	return bad || x->failed ? 1 : 0;
}
