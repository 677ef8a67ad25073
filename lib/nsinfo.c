#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/nsfs.h>
#include "nsinfo.h"
#include "num.h"
#include "proc.h"
#include "subid.h"
#include "util.h"

void nk_nschain_free(struct nk_nschain *c)
{
	for (size_t i = 0; i < c->n; i++) {
		nk_maps_free(&c->lv[i].parent);
		nk_maps_free(&c->lv[i].host);
	}
	free(c->lv);
	c->lv = NULL;
	c->n = 0;
}

int nk_ns_pids(uint64_t ino, pid_t **pids, size_t *n, struct nk_err *e)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t *v = NULL;
	size_t cnt = 0, cap = 0;

	*pids = NULL;
	*n = 0;
	if (!d)
		return nk_syserr(e, errno, "cannot read /proc");
	while ((de = readdir(d))) {
		pid_t p;
		char path[64];
		struct stat st;

		if (nk_parse_pid(de->d_name, &p) < 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/ns/user", (int)p);
		if (stat(path, &st) < 0 || (uint64_t)st.st_ino != ino)
			continue;
		if (nk_grow(&v, cnt, &cap, sizeof *v, 16) < 0) {
			free(v);
			closedir(d);
			return nk_errf(e, ENOMEM, "out of memory");
		}
		v[cnt++] = p;
	}
	closedir(d);
	/* readdir order of /proc is ascending already; sort to be sure. */
	for (size_t i = 1; i < cnt; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			pid_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*pids = v;
	*n = cnt;
	return 0;
}

int nk_map_rebase(const struct nk_map *child, const struct nk_map *parent,
		  struct nk_map *out)
{
	nk_map_init(out);
	for (size_t i = 0; i < child->n; i++) {
		const struct nk_extent *x = &child->ext[i];
		uint64_t done = 0;

		while (done < x->count) {
			uint64_t cur = (uint64_t)x->outer + done, chunk = 0;
			uint32_t in = 0;
			int found = 0;

			for (size_t j = 0; j < parent->n; j++) {
				const struct nk_extent *p = &parent->ext[j];
				uint64_t pend = (uint64_t)p->outer + p->count;

				if (cur >= p->outer && cur < pend) {
					in = p->inner + (uint32_t)(cur - p->outer);
					chunk = pend - cur;
					found = 1;
					break;
				}
			}
			if (!found) {
				nk_map_free(out);
				return -ENOENT;
			}
			if (chunk > x->count - done)
				chunk = x->count - done;
			if (nk_map_add(out, x->inner + (uint32_t)done, in, (uint32_t)chunk) < 0) {
				nk_map_free(out);
				return -ENOMEM;
			}
			done += chunk;
		}
	}
	return 0;
}

static int add_level(struct nk_nschain *c, int fd, struct nk_err *e)
{
	struct nk_nslevel *x = realloc(c->lv, (c->n + 1) * sizeof *x);
	struct nk_nslevel *l;
	struct stat st;
	uid_t owner;

	if (!x)
		return nk_errf(e, ENOMEM, "out of memory");
	c->lv = x;
	l = &c->lv[c->n++];
	memset(l, 0, sizeof *l);
	if (fstat(fd, &st) < 0)
		return nk_syserr(e, errno, "cannot read a user namespace");
	l->ino = (uint64_t)st.st_ino;
	l->owner = ioctl(fd, NS_GET_OWNER_UID, &owner) == 0 ? (uint32_t)owner : NK_ID_INVALID;
	return 0;
}

static int read_level_maps(struct nk_nslevel *l, struct nk_err *e)
{
	if (l->pid == 0)
		return 0;
	if (nk_maps_read_proc(l->pid, &l->host, e) < 0) {
		nk_maps_free(&l->host);
		return -e->code;
	}
	l->have_maps = 1;
	return 0;
}

static int open_userns(pid_t pid, int *fd, struct nk_err *e)
{
	char path[64];

	if (pid > 0)
		snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
	else
		snprintf(path, sizeof path, "/proc/self/ns/user");
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	if (errno == ENOENT)
		return nk_errf(e, ESRCH, "no process with pid %d", (int)pid);
	return nk_syserr(e, errno, "cannot open %s", path);
}

/* From the namespace FD (PID's, taken over) up with NS_GET_PARENT to the
 * level whose parent is MINE, ours. */
static int walk_up(struct nk_nschain *c, int fd, pid_t pid, uint64_t mine, struct nk_err *e)
{
	NK_AUTOCLOSE int cur = fd;
	struct stat st;
	int pfd, r;

	for (;;) {
		if ((r = add_level(c, cur, e)) < 0)
			return r;
		if (c->n == 1) {
			c->lv[0].pid = pid > 0 ? pid : getpid();
			if (c->lv[0].ino == mine) {
				c->self = 1;
				return 0;
			}
		}
		pfd = ioctl(cur, NS_GET_PARENT);
		/* EPERM: the parent is ours or above it; the walk is done. */
		if (pfd < 0 && errno == EPERM)
			return 0;
		if (pfd < 0)
			return nk_syserr(e, errno, "cannot find the parent of user namespace %llu",
					 (unsigned long long)c->lv[c->n - 1].ino);
		close(cur);
		cur = pfd;
		if (fstat(cur, &st) == 0 && (uint64_t)st.st_ino == mine)
			return 0;
		if (c->n >= 64)
			return nk_errf(e, ELOOP, "user namespaces nested deeper than 64 levels");
	}
}

/* One process per ancestor level, and every level's maps as we see them. */
static int read_levels(struct nk_nschain *c, struct nk_err *e)
{
	for (size_t i = 1; i < c->n; i++) {
		NK_AUTOFREE pid_t *pids = NULL;
		size_t np;

		if (nk_ns_pids(c->lv[i].ino, &pids, &np, e) < 0)
			return -e->code;
		if (np)
			c->lv[i].pid = pids[0];
	}
	for (size_t i = 0; i < c->n; i++)
		if (read_level_maps(&c->lv[i], e) < 0)
			return nk_err_prefix(e, "cannot read the maps of process %d", (int)c->lv[i].pid);
	return 0;
}

/* Parent-relative maps: through the next level up; the top level's parent
 * is us, so its view is ours, and an unknown parent view is shown as ours
 * rather than guessed. */
static int parent_maps(struct nk_nschain *c, struct nk_err *e)
{
	for (size_t i = 0; i < c->n; i++) {
		struct nk_nslevel *l = &c->lv[i];
		const struct nk_nslevel *up = i + 1 < c->n && c->lv[i + 1].have_maps ? &c->lv[i + 1] : NULL;

		if (!l->have_maps)
			continue;
		for (int t = NK_UID; t <= NK_GID; t++) {
			if (up && nk_map_rebase(&l->host.map[t], &up->host.map[t], &l->parent.map[t]) == 0)
				continue;
			if (nk_map_copy(&l->parent.map[t], &l->host.map[t]) < 0)
				return nk_errf(e, ENOMEM, "out of memory");
		}
	}
	return 0;
}

int nk_nschain_read(pid_t pid, struct nk_nschain *c, struct nk_err *e)
{
	uint64_t mine;
	int fd, r;

	c->n = 0;
	c->lv = NULL;
	c->self = 0;
	if (nk_proc_ns_ino(0, "user", &mine, e) < 0)
		return -e->code;
	if ((r = open_userns(pid, &fd, e)) < 0)
		return r;
	r = walk_up(c, fd, pid, mine, e);
	if (r == 0)
		r = read_levels(c, e);
	if (r == 0)
		r = parent_maps(c, e);
	if (r < 0)
		nk_nschain_free(c);
	return r;
}

/* "caller NAME", "user NAME" or "group NAME" for a single real id; 0 when
 * the id is neither ours nor named. */
static int real_owner(enum nk_idtype t, uint32_t id, char *buf, size_t len)
{
	static const char *const what[2] = { "user", "group" };
	const uint32_t mine[2] = { getuid(), getgid() };
	uint32_t me = mine[t];
	const char *name = NULL;
	struct passwd *pw;
	struct group *gr;

	if (t == NK_UID && (pw = getpwuid(id)))
		name = pw->pw_name;
	else if (t == NK_GID && (gr = getgrgid(id)))
		name = gr->gr_name;
	if (id == me) {
		if (name)
			snprintf(buf, len, "caller %s", name);
		else
			snprintf(buf, len, "caller %u", id);
		return 1;
	}
	if (!name)
		return 0;
	snprintf(buf, len, "%s %s", what[t], name);
	return 1;
}

void nk_range_owner(enum nk_idtype t, uint32_t first, uint32_t count,
		    char *buf, size_t len)
{
	static const char *const what[2] = { "subuid", "subgid" };
	struct nk_ranges r = { 0, NULL };
	struct nk_err e;
	char name[256];
	int whole = 1;

	if (first == NK_ID_INVALID) {
		snprintf(buf, len, "unmapped");
		return;
	}
	if (first == 0 && count == NK_ID_INVALID) {
		snprintf(buf, len, "host");
		return;
	}
	if (count == 1 && real_owner(t, first, buf, len))
		return;
	/* The source of subordinate ids (the files, or a central one through
	 * libsubid, loaded only then) names the owner. */
	if (nk_subid_owner(t, first, name, sizeof name, &e) <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (nk_subid_ranges(name, t, &r, &e) == 0)
		whole = nk_ranges_cover(&r, first, count);
	nk_ranges_free(&r);
	snprintf(buf, len, "%s %s%s", what[t], name, whole ? "" : " (partly)");
}

uint32_t nk_overflow_id(enum nk_idtype t)
{
	static const char *const paths[2] = { "/proc/sys/kernel/overflowuid", "/proc/sys/kernel/overflowgid" };
	const char *path = paths[t];
	NK_AUTOFCLOSE FILE *f = fopen(path, "re");
	char buf[32];
	uint32_t v;

	if (!f || !fgets(buf, sizeof buf, f))
		return 65534;
	buf[strcspn(buf, "\n")] = '\0';
	if (nk_parse_id(buf, &v) < 0)
		return 65534;
	return v;
}

int nk_name_in_file(const char *path, uint32_t id, char *buf, size_t len)
{
	NK_AUTOFCLOSE FILE *f = fopen(path, "re");
	char line[1024];

	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		char *name = line, *p, *idf;
		uint32_t v;

		line[strcspn(line, "\n")] = '\0';
		p = strchr(line, ':');
		if (!p)
			continue;
		*p = '\0';
		p = strchr(p + 1, ':');       /* skip the password field */
		if (!p)
			continue;
		idf = p + 1;
		p = strchr(idf, ':');
		if (p)
			*p = '\0';
		if (nk_parse_id(idf, &v) == 0 && v == id && *name) {
			snprintf(buf, len, "%s", name);
			return 0;
		}
	}
	return -ENOENT;
}
