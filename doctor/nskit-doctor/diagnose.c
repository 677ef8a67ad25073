/* diagnose.c - gather nskit-doctor's findings for one user
 *
 * Reads what it can (sysctls, /etc/subuid and /etc/subgid through libsubid
 * and as files, the helpers, this process's state), probes what reading
 * cannot tell (checks.c's probe), and hands each to its check in checks.c.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mapwrite.h"
#include "newidmap.h"
#include "tool.h"
#include "idmap.h"
#include "num.h"
#include "nskit-doctor.h"

unsigned dr_group_of(const char *id)
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
	if (strcmp(id, "setgroups-order") == 0)
		return G_MESSAGE;
	return G_MOUNTS;
}

int dr_diag_user(struct diag *d, const char *user, struct nk_err *e)
{
	struct passwd *pw;

	if (user) {
		uint32_t id;

		pw = getpwnam(user);
		if (!pw && nk_parse_id(user, &id) == 0)
			pw = getpwuid(id);
		if (!pw)
			return nk_errf(e, ENOENT, "no user '%s' (give a name or uid from the passwd database)", user);
	} else {
		pw = getpwuid(getuid());
		if (!pw)
			return nk_errf(e, ENOENT, "your uid %u has no name in the passwd database (add one: "
				       "newuidmap and libsubid look users up by name)", getuid());
	}
	snprintf(d->name, sizeof d->name, "%s", pw->pw_name);
	d->u.name = d->name;
	d->u.uid = pw->pw_uid;
	d->u.gid = pw->pw_gid;
	d->caller = d->u.uid == getuid();
	return 0;
}

void dr_diag_free(struct diag *d)
{
	dr_findings_free(&d->fs);
	nk_ranges_free(&d->ranges[NK_UID]);
	nk_ranges_free(&d->ranges[NK_GID]);
	d->got[NK_UID] = d->got[NK_GID] = NULL;
}

/* --- subid-requested: the ids a message names, against the user's ranges -- */

/* Ids inside the namespace (podman's "requested U:G"): the default
 * rootless map has the user at 0 and its ranges from 1. 1 when they fit. */
static int requested_inner(struct diag *d, enum nk_idtype t, const struct dr_ex_req *rq)
{
	const struct nk_ranges *r = d->got[t];
	const char *tn = nk_idtype_name(t);
	uint64_t total = 0;

	for (size_t i = 0; i < r->n; i++)
		total += r->r[i].count;
	if (rq->hi[t] <= total)
		return 1;
	dr_finding_add(&d->fs, "subid-requested", DR_FAIL, nk_subid_fix(d->name),
		       "the message asks for %s %llu inside the namespace, but '%s' has %llu "
		       "subordinate %ss: the namespace maps %ss 0-%llu only (with podman's "
		       "--userns=keep-id too)", tn, (unsigned long long)rq->hi[t], d->name,
		       (unsigned long long)total, tn, tn, (unsigned long long)total);
	return 0;
}

/* Host ids (newuidmap's "range [A-B) -> [C-D)"): inside the ranges. */
static int requested_host(struct diag *d, enum nk_idtype t, const struct dr_ex_req *rq)
{
	const struct nk_ranges *r = d->got[t];
	const char *tn = nk_idtype_name(t);
	char have[256] = "none";
	size_t o = 0;

	if (rq->hi[t] - rq->lo[t] < UINT32_MAX &&
	    nk_ranges_cover(r, (uint32_t)rq->lo[t], (uint32_t)(rq->hi[t] - rq->lo[t] + 1)))
		return 1;
	for (size_t i = 0; i < r->n && o < sizeof have - 32; i++)
		o += (size_t)snprintf(have + o, sizeof have - o, "%s%u-%llu", i ? ", " : "", r->r[i].start,
				      (unsigned long long)r->r[i].start + r->r[i].count - 1);
	dr_finding_add(&d->fs, "subid-requested", DR_FAIL,
		       "map only ids inside the user's ranges, or give the user a range that covers them",
		       "the message asks for host %ss %llu-%llu, outside the subordinate %s ranges "
		       "of '%s' (%s)", tn, (unsigned long long)rq->lo[t], (unsigned long long)rq->hi[t],
		       tn, d->name, have);
	return 0;
}

static void check_requested(struct diag *d, const struct dr_ex_req *rq)
{
	for (int t = NK_UID; t <= NK_GID; t++) {
		if (!rq->have[t] || !d->got[t])
			continue;
		if (!(rq->inner ? requested_inner : requested_host)(d, t, rq))
			return;
	}
	if (rq->have[NK_UID] || rq->have[NK_GID])
		dr_finding_add(&d->fs, "subid-requested", DR_OK, NULL,
			       "the ids the message names lie inside the ranges of '%s'", d->name);
}

/* --- the groups of checks ------------------------------------------------- */

/* Probe as the user: ourselves, or a child that becomes the user when we
 * are root. */
static int diag_userns(struct diag *d, struct nk_err *e)
{
	struct dr_probe probe;

	memset(&probe, 0, sizeof probe);
	if ((d->caller || geteuid() == 0) && dr_run_probe(&probe, &d->u, !d->caller, e) < 0)
		return -e->code;
	dr_check_userns(&d->fs, &d->sys, &probe, &d->u);
	return 0;
}

/* The user's ranges (kept for the other checks and --fix), and with
 * CHECK the subordinate id checks on them and on the files. */
static int diag_subids(struct diag *d, int check, struct nk_err *e)
{
	for (int t = NK_UID; t <= NK_GID; t++) {
		const char *path = nk_subid_file(t);
		struct nk_sf sf;
		struct nk_err re, fe;
		int r = nk_subid_ranges(d->name, t, &d->ranges[t], &re);
		int lr = nk_sf_load(&sf, path, &fe);

		if (r == 0)
			d->got[t] = &d->ranges[t];
		if (lr == -ENOMEM)
			return nk_errf(e, ENOMEM, "out of memory");
		if (check)
			dr_check_subids(&d->fs, t, &d->u, d->got[t], r < 0 ? re.msg : NULL, path, &sf,
					 lr < 0 ? &fe : NULL, &dr_system_db);
		nk_sf_free(&sf);
	}
	return 0;
}

static void check_helper(struct dr_findings *fs, enum nk_idtype t)
{
	char path[PATH_MAX];
	struct nk_helper_info h;
	struct nk_err e;

	if (nk_find_helper(t, path, sizeof path, &e) < 0) {
		dr_check_helper(fs, t, e.msg, NULL);
		return;
	}
	/* Usable or not, H says what was found; an error of no kind is a
	 * file that cannot be opened. */
	if (nk_helper_usable(t, path, &h, &e) < 0 && e.kind == NK_ERRK_NONE)
		dr_check_helper(fs, t, e.msg, NULL);
	else
		dr_check_helper(fs, t, NULL, &h);
}

static int diag_parent(struct diag *d, struct nk_err *e)
{
	struct nk_maps own = { 0 };

	if (nk_maps_read_proc(0, &own, e) < 0)
		return -e->code;
	dr_check_parent_map(&d->fs, &own, d->got, &d->u);
	nk_maps_free(&own);
	return 0;
}

/* The caller's session: its runtime folder and variables; for another
 * user (with --fix) the folder /run/user/UID only. */
static void diag_session(struct diag *d)
{
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
		dr_check_xdg(&d->fs, xdg, have ? &st : NULL, err, &d->u);
	}
	if (d->caller)
		dr_check_user_env(&d->fs, getenv("USER"), getenv("LOGNAME"), &d->u);
}

static void diag_mounts(struct diag *d)
{
	gid_t groups[256];
	uint32_t gids[256];
	int ngroups = (int)NK_ARRAY_SIZE(groups);

	if (getgrouplist(d->name, d->u.gid, groups, &ngroups) < 0)
		ngroups = (int)NK_ARRAY_SIZE(groups);
	for (int i = 0; i < ngroups; i++)
		gids[i] = groups[i];
	dr_check_mounts(&d->fs, &d->sys, gids, (size_t)ngroups, &d->u);
}

int dr_diagnose(struct diag *d, unsigned groups, const struct dr_ex_req *rq, struct nk_err *e)
{
	char src[64];

	dr_sys_read(&d->sys);
	d->subid_central = nk_subid_source(src, sizeof src) == 1;
	if ((groups & G_USERNS) && diag_userns(d, e) < 0)
		return -e->code;
	if (groups & (G_SUBIDS | G_PARENT)) {
		if (diag_subids(d, groups & G_SUBIDS, e) < 0)
			return -e->code;
		if (rq)
			check_requested(d, rq);
	}
	if (groups & G_HELPERS) {
		check_helper(&d->fs, NK_UID);
		check_helper(&d->fs, NK_GID);
	}
	if (groups & G_PRIVS)
		dr_check_privs(&d->fs, &d->sys);
	if ((groups & G_PARENT) && diag_parent(d, e) < 0)
		return -e->code;
	if (groups & G_SESSION)
		diag_session(d);
	if (groups & G_MOUNTS)
		diag_mounts(d);
	/* The kernel refuses a write of "deny" to /proc/PID/setgroups (EPERM)
	 * only once gid_map is written: the message is the proof. */
	if (groups & G_MESSAGE)
		dr_finding_add(&d->fs, "setgroups-order", DR_FAIL,
			       "leave out unshare's --setgroups deny: --map-root-user and --map-current-user deny "
			       "setgroups themselves, and with --map-auto, --map-users or --map-groups newgidmap "
			       "writes the map first (for a full map with setgroups denied: 'nsenter-user "
			       "--setgroups deny')",
			       "setgroups was written after gid_map: the kernel takes /proc/PID/setgroups only "
			       "before gid_map, which was written already (by unshare's own map, or by newgidmap)");
	return 0;
}

int dr_diag_lost(const struct diag *d, struct nk_err *e)
{
	if (d->fs.lost)
		return nk_errf(e, ENOMEM, "cannot record %zu finding%s: %s (nothing can be said about %s)",
			       d->fs.lost, d->fs.lost == 1 ? "" : "s", strerror(ENOMEM),
			       d->fs.lost == 1 ? "it" : "them");
	return 0;
}
