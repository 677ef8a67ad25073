#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <cap-ng.h>
#include <linux/capability.h>
#include "helper.h"
#include "proc.h"
#include "subid.h"

static const char *helper_name(enum nk_idtype t)
{
	return t == NK_UID ? "newuidmap" : "newgidmap";
}

int nk_find_helper(enum nk_idtype t, char *out, size_t len, struct nk_err *e)
{
	const char *env = getenv(t == NK_UID ? "NEWUIDMAP" : "NEWGIDMAP");
	const char *name = helper_name(t);
	const char *path = getenv("PATH");
	static const char *fallback[] = { "/usr/bin", "/usr/sbin", "/bin", "/sbin" };

	if (env && *env) {
		if (strlen(env) >= len)
			return nk_errf(e, ENAMETOOLONG, "%s path from $%s is too long", name,
				       t == NK_UID ? "NEWUIDMAP" : "NEWGIDMAP");
		if (access(env, X_OK) < 0)
			return nk_syserr(e, errno, "%s '%s' (from $%s) cannot be run",
					 name, env, t == NK_UID ? "NEWUIDMAP" : "NEWGIDMAP");
		snprintf(out, len, "%s", env);
		return 0;
	}
	if (path) {
		NK_AUTOFREE char *dup = strdup(path);
		char *save = NULL;

		if (!dup)
			return nk_errf(e, ENOMEM, "out of memory");
		for (char *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			int w;

			if (*d != '/')
				continue;       /* never a relative PATH entry */
			w = snprintf(out, len, "%s/%s", d, name);
			if (w < 0 || (size_t)w >= len)
				continue;       /* never a truncated path */
			if (access(out, X_OK) == 0)
				return 0;
		}
	}
	for (size_t i = 0; i < NK_ARRAY_SIZE(fallback); i++) {
		snprintf(out, len, "%s/%s", fallback[i], name);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return nk_errf(e, ENOENT, "%s not found (install shadow-utils' %s: the 'uidmap' package on Debian and Ubuntu, "
		       "'shadow-utils' on Fedora)", name, name);
}

static int only_own_id(const struct nk_map *m, uint32_t id)
{
	return m->n == 1 && m->ext[0].outer == id && m->ext[0].count == 1;
}

int nk_plan_write(const struct nk_maps *m, enum nk_setgroups sg, struct nk_plan *p,
		  struct nk_err *e)
{
	const struct nk_map *maps[2] = { &m->uid, &m->gid };

	memset(p, 0, sizeof *p);
	p->setgroups = sg == NK_SETGROUPS_DENY ? NK_SETGROUPS_DENY : NK_SETGROUPS_DEFAULT;
	/* One read of our capabilities for both questions. */
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process() == 0) {
		p->privileged[NK_UID] = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) != 0;
		p->privileged[NK_GID] = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID) != 0;
	}
	for (int t = NK_UID; t <= NK_GID; t++) {
		uint32_t self = t == NK_UID ? geteuid() : getegid();

		if (p->privileged[t]) {
			p->how[t] = NK_WRITE_DIRECT;
		} else if (only_own_id(maps[t], self) &&
			   (t == NK_UID || sg != NK_SETGROUPS_ALLOW)) {
			p->how[t] = NK_WRITE_DIRECT;
			if (t == NK_GID)
				p->setgroups = NK_SETGROUPS_DENY;
		} else {
			p->how[t] = NK_WRITE_HELPER;
			if (nk_find_helper((enum nk_idtype)t, p->helper[t], sizeof p->helper[t], e) < 0)
				return -e->code;
		}
	}
	return 0;
}

static void range_text(char *buf, size_t len, const struct nk_extent *x)
{
	if (x->count == 1)
		snprintf(buf, len, "%u", x->outer);
	else
		snprintf(buf, len, "%u-%llu", x->outer, (unsigned long long)x->outer + x->count - 1);
}

int nk_maps_check_allowed(const struct nk_maps *m, const struct nk_plan *p,
			  const char *user, uid_t uid, gid_t gid, struct nk_err *e)
{
	for (int t = NK_UID; t <= NK_GID; t++) {
		const struct nk_map *map = t == NK_UID ? &m->uid : &m->gid;
		uint32_t self = t == NK_UID ? uid : gid;
		struct nk_map own;
		struct nk_ranges sub = { 0, NULL };
		int have_sub = 0, identity, r;
		char rt[64];

		if (nk_map_validate(map, (enum nk_idtype)t, e) < 0)
			return -e->code;
		/* Our own namespace's map: the ids that exist here at all. */
		nk_map_init(&own);
		r = nk_map_read_proc(0, (enum nk_idtype)t, &own, e);
		if (r < 0)
			return r;
		identity = own.n == 1 && own.ext[0].inner == 0 && own.ext[0].outer == 0 &&
			   own.ext[0].count == UINT32_MAX;
		for (size_t i = 0; i < map->n; i++) {
			const struct nk_extent *x = &map->ext[i];

			range_text(rt, sizeof rt, x);
			if (!identity && nk_map_find_inner_range(&own, x->outer, x->count) < 0) {
				/* Does some extent of ours meet the range at all? */
				int partly = 0;
				uint64_t lo = x->outer, hi = (uint64_t)x->outer + x->count - 1;

				for (size_t k = 0; k < own.n && !partly; k++)
					partly = own.ext[k].inner <= hi &&
						 lo <= (uint64_t)own.ext[k].inner + own.ext[k].count - 1;
				nk_map_free(&own);
				nk_ranges_free(&sub);
				if (partly)
					return nk_errf(e, EPERM, "cannot map %s range %s: it spans more than one extent "
						       "of this namespace's %s_map (split it at the extent boundaries)",
						       nk_idtype_name((enum nk_idtype)t), rt, nk_idtype_name((enum nk_idtype)t));
				return nk_errf(e, EPERM, "cannot map %s range %s: not mapped in this user namespace "
					       "(see /proc/self/%s_map)", nk_idtype_name((enum nk_idtype)t), rt,
					       nk_idtype_name((enum nk_idtype)t));
			}
			if (p->privileged[t])
				continue;
			if (x->count == 1 && x->outer == self)
				continue;
			if (!have_sub) {
				r = nk_subid_ranges(user, (enum nk_idtype)t, &sub, e);
				if (r < 0) {
					nk_map_free(&own);
					return r;
				}
				have_sub = 1;
			}
			if (!nk_ranges_cover(&sub, x->outer, x->count)) {
				nk_map_free(&own);
				nk_ranges_free(&sub);
				if (x->outer <= self && (uint64_t)self < (uint64_t)x->outer + x->count)
					return nk_errf(e, EPERM, "cannot map %s range %s: your own %s %u may only be mapped "
						       "alone (an extent with count 1)", nk_idtype_name((enum nk_idtype)t),
						       rt, nk_idtype_name((enum nk_idtype)t), self);
				return nk_errf(e, EPERM, "cannot map %s range %s: not in %s for '%s' (%s)",
					       nk_idtype_name((enum nk_idtype)t), rt,
					       nk_subid_where((enum nk_idtype)t), user, nk_subid_fix(user));
			}
		}
		nk_map_free(&own);
		nk_ranges_free(&sub);
	}
	return 0;
}

int nk_write_setgroups(pid_t pid, enum nk_setgroups sg, struct nk_err *e)
{
	char path[64];
	const char *v = sg == NK_SETGROUPS_DENY ? "deny" : "allow";
	int fd;

	snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nk_syserr(e, errno, "cannot open %s", path);
	if (write(fd, v, strlen(v)) < 0) {
		int err = errno;

		close(fd);
		return nk_syserr(e, err, "cannot write '%s' to %s", v, path);
	}
	close(fd);
	return 0;
}

/* Why might a write have failed? Appended to the message as a hint. */
static void explain(pid_t pid, enum nk_idtype t, const struct nk_plan *p, const char *msg,
		    char *hint, size_t len)
{
	struct nk_map cur;
	struct nk_err e2;
	const char *tn = nk_idtype_name(t);

	hint[0] = '\0';
	nk_map_init(&cur);
	if (nk_map_read_proc(pid, t, &cur, &e2) == 0 && cur.n > 0) {
		snprintf(hint, len, "the %s map of process %d is already written; a map can be written only once",
			 tn, (int)pid);
		nk_map_free(&cur);
		return;
	}
	nk_map_free(&cur);
	if (p->how[t] == NK_WRITE_HELPER) {
		const char *h = p->helper[t];
		struct stat st;
		struct statvfs vfs;
		int has_cap = 0, fd;

		if (nk_no_new_privs()) {
			snprintf(hint, len, "no_new_privs is set for this process, so the kernel ignores the setuid bit "
				 "and file capabilities of %s; run it from a context without no_new_privs", h);
			return;
		}
		fd = open(h, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			capng_clear(CAPNG_SELECT_BOTH);
			if (capng_get_caps_fd(fd) == 0)
				has_cap = capng_have_capability(CAPNG_PERMITTED,
								t == NK_UID ? CAP_SETUID : CAP_SETGID);
			close(fd);
		}
		if (stat(h, &st) == 0 && !(st.st_uid == 0 && (st.st_mode & S_ISUID)) && !has_cap) {
			snprintf(hint, len, "%s is neither setuid root nor has the %s file capability; "
				 "reinstall it (package uidmap) or run 'chmod u+s %s' as root",
				 h, t == NK_UID ? "cap_setuid" : "cap_setgid", h);
			return;
		}
		if (statvfs(h, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) {
			snprintf(hint, len, "%s is on a filesystem mounted nosuid, so its setuid bit has no effect", h);
			return;
		}
		if (msg && strstr(msg, "not allowed")) {
			snprintf(hint, len, "the range is not delegated to you in %s", nk_subid_where(t));
			return;
		}
	}
	if (msg && strstr(msg, "Operation not permitted")) {
		uid_t euid;

		if (nk_proc_ids(pid, NULL, &euid, NULL, NULL, &e2) == 0 && euid != geteuid())
			snprintf(hint, len, "process %d belongs to uid %u, not to you", (int)pid, euid);
	}
}

static int write_direct(pid_t pid, enum nk_idtype t, const struct nk_map *m,
			const struct nk_plan *p, struct nk_err *e)
{
	char path[64], buf[8192], hint[512];
	ssize_t len = nk_map_format(m, buf, sizeof buf);
	int fd, err;

	snprintf(path, sizeof path, "/proc/%d/%s_map", (int)pid, nk_idtype_name(t));
	if (len < 0)
		return nk_errf(e, E2BIG, "the %s map is too long", nk_idtype_name(t));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return nk_errf(e, ESRCH, "no process with pid %d", (int)pid);
		return nk_syserr(e, errno, "cannot open %s", path);
	}
	/* The kernel takes the whole map in one write, at offset 0. */
	if (write(fd, buf, (size_t)len) == len) {
		close(fd);
		return 0;
	}
	err = errno;
	close(fd);
	nk_syserr(e, err, "cannot write %s", path);
	explain(pid, t, p, e->msg, hint, sizeof hint);
	if (hint[0])
		nk_err_hint(e, "%s", hint);
	return -err;
}

struct spawned {
	pid_t pid;
	int fd;             /* read end of the helper's stdout+stderr */
	char out[2048];
	size_t len;
};

static int spawn_helper(pid_t target, enum nk_idtype t, const struct nk_map *m,
			const struct nk_plan *p, struct spawned *s, struct nk_err *e)
{
	char **argv;
	char pidbuf[16];
	int pfd[2], r;
	posix_spawn_file_actions_t fa;
	static char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	size_t n = 0;

	argv = calloc(3 + m->n * 3, sizeof *argv);
	if (!argv)
		return nk_errf(e, ENOMEM, "out of memory");
	snprintf(pidbuf, sizeof pidbuf, "%d", (int)target);
	argv[n++] = (char *)p->helper[t];
	argv[n++] = pidbuf;
	for (size_t i = 0; i < m->n; i++) {
		if (asprintf(&argv[n++], "%u", m->ext[i].inner) < 0 ||
		    asprintf(&argv[n++], "%u", m->ext[i].outer) < 0 ||
		    asprintf(&argv[n++], "%u", m->ext[i].count) < 0) {
			r = nk_errf(e, ENOMEM, "out of memory");
			goto out;
		}
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = nk_syserr(e, errno, "cannot create a pipe");
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	r = posix_spawn(&s->pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		r = nk_syserr(e, r, "cannot run %s", argv[0]);
		goto out;
	}
	s->fd = pfd[0];
	s->len = 0;
	r = 0;
out:
	for (size_t i = 2; i < n; i++)
		free(argv[i]);
	free(argv);
	return r;
}

/* Last non-empty line of a helper's output, for the message. */
static const char *last_line(char *out)
{
	char *end = out + strlen(out);

	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	for (char *q = end; q > out; q--)
		if (q[-1] == '\n')
			return q;
	return out;
}

int nk_write_maps(pid_t pid, const struct nk_maps *m, const struct nk_plan *p,
		  struct nk_err *e)
{
	struct spawned sp[2] = { { -1, -1, "", 0 }, { -1, -1, "", 0 } };
	const struct nk_map *maps[2] = { &m->uid, &m->gid };
	int r = 0, first_err = 0;
	struct nk_err e2;

	/* setgroups must be "deny" before gid_map is written. */
	if (p->setgroups == NK_SETGROUPS_DENY) {
		r = nk_write_setgroups(pid, NK_SETGROUPS_DENY, e);
		if (r < 0)
			return r;
	}
	/* Start both helpers, then do direct writes while they run. */
	for (int t = NK_UID; t <= NK_GID; t++) {
		if (p->how[t] != NK_WRITE_HELPER)
			continue;
		r = spawn_helper(pid, (enum nk_idtype)t, maps[t], p, &sp[t], first_err ? &e2 : e);
		if (r < 0 && !first_err)
			first_err = r;
	}
	for (int t = NK_UID; t <= NK_GID; t++) {
		if (p->how[t] != NK_WRITE_DIRECT)
			continue;
		r = write_direct(pid, (enum nk_idtype)t, maps[t], p, first_err ? &e2 : e);
		if (r < 0 && !first_err)
			first_err = r;
	}
	/* Collect the helpers' output until both close it. */
	for (;;) {
		struct pollfd pf[2];
		int np = 0, idx[2];

		for (int t = 0; t < 2; t++)
			if (sp[t].fd >= 0) {
				pf[np].fd = sp[t].fd;
				pf[np].events = POLLIN;
				idx[np++] = t;
			}
		if (np == 0)
			break;
		if (poll(pf, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < np; i++) {
			struct spawned *s = &sp[idx[i]];
			ssize_t n;

			if (!pf[i].revents)
				continue;
			n = read(s->fd, s->out + s->len, sizeof s->out - 1 - s->len);
			if (n > 0) {
				s->len += (size_t)n;
				if (s->len == sizeof s->out - 1)
					s->len = 0;   /* keep the tail */
			} else if (n == 0 || errno != EINTR) {
				close(s->fd);
				s->fd = -1;
			}
		}
	}
	for (int t = NK_UID; t <= NK_GID; t++) {
		int st = -1;
		struct spawned *s = &sp[t];
		pid_t w;

		if (s->pid <= 0)
			continue;
		while ((w = waitpid(s->pid, &st, 0)) < 0 && errno == EINTR)
			;
		s->out[s->len] = '\0';
		if (w < 0) {
			if (!first_err)
				first_err = nk_syserr(e, errno, "cannot wait for %s", helper_name((enum nk_idtype)t));
			continue;
		}
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && !first_err) {
			char hint[512];
			const char *line = last_line(s->out);

			if (WIFSIGNALED(st))
				nk_errf(e, EPERM, "%s was killed by signal %d", helper_name((enum nk_idtype)t), WTERMSIG(st));
			else if (*line)
				nk_errf(e, EPERM, "%s failed: %s", helper_name((enum nk_idtype)t), line);
			else
				nk_errf(e, EPERM, "%s failed with exit status %d", helper_name((enum nk_idtype)t),
					WEXITSTATUS(st));
			explain(pid, (enum nk_idtype)t, p, line, hint, sizeof hint);
			if (hint[0])
				nk_err_hint(e, "%s", hint);
			first_err = -EPERM;
		}
	}
	return first_err;
}
