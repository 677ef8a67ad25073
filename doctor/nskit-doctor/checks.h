/* checks.h - nskit-doctor's findings about a machine's rootless user
 * namespace setup: the finding container, the checks and their texts, and
 * the probe (only nskit-doctor uses them, so they live in its folder)
 *
 * A finding has a stable id ("subuid-range"), a status (ok, warn, fail), a
 * sentence saying what was found and, unless ok, the fix. The checks are
 * pure functions of what was read (sysctl values, stat results, the
 * subordinate id file, the user's ranges as newuidmap reads them), so that every
 * broken state can be unit-tested; the gathering and the probes (a real
 * user namespace made in a child, with a full map written through
 * newuidmap/newgidmap) are separate.
 */
#ifndef NSKIT_DOCTOR_CHECKS_H
#define NSKIT_DOCTOR_CHECKS_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "err.h"
#include "mapwrite.h"
#include "newidmap.h"
#include "idmap.h"
#include "subid.h"
#include "subidfile.h"

enum dr_status { DR_OK = 0, DR_WARN = 1, DR_FAIL = 2 };

struct dr_finding {
	const char *id;        /* static string */
	enum dr_status status;
	char *what;
	char *fix;             /* NULL when ok */
};

struct dr_findings {
	size_t n, cap;
	struct dr_finding *f;
	size_t lost;           /* findings dr_finding_add could not record */
};

const char *dr_status_name(enum dr_status s);       /* "ok" "warn" "fail" */
/* Add a finding; FIX may be NULL. Returns -ENOMEM on failure, and counts
 * the finding in FS->lost: the checks are void, so a dropped finding is
 * remembered where every caller looks (dr_findings_worst). */
int dr_finding_add(struct dr_findings *fs, const char *id, enum dr_status st,
		   const char *fix, const char *fmt, ...) NK_PRINTF(5, 6);
void dr_findings_free(struct dr_findings *fs);
const struct dr_finding *dr_findings_get(const struct dr_findings *fs, const char *id);
/* The worst status; DR_FAIL when a finding was lost (an unrecorded finding
 * may have been the failing one). */
enum dr_status dr_findings_worst(const struct dr_findings *fs);

/* --- /etc/subuid, /etc/subgid as a file ------------------------------- */

/* The files are read by lib/subidfile (nk_sf_load), the reading subid-check
 * makes: a malformed line is an NK_SF_BAD line. */
struct dr_sfsum {
	size_t ranges;         /* NK_SF_RANGE lines */
	size_t bad;            /* NK_SF_BAD lines */
	unsigned first_bad;    /* line number of the first one; 0 when none */
};
struct dr_sfsum dr_sf_sum(const struct nk_sf *sf);

/* --- the user checked ------------------------------------------------- */

struct dr_user {
	const char *name;
	uint32_t uid, gid;
};

/* Callbacks into the user and group databases (replaced in unit tests). */
struct dr_db {
	/* Does a subuid owner field name an existing user (name or uid)? */
	int (*owner_exists)(const char *owner, void *ctx);
	/* A real uid (t == NK_UID) or gid in [lo, hi] other than SKIP: its
	 * name in BUF and 1, or 0 when none. */
	int (*real_id_in)(enum nk_idtype t, uint64_t lo, uint64_t hi, uint32_t skip,
			  char *buf, size_t len, void *ctx);
	void *ctx;
};
extern const struct dr_db dr_system_db;   /* getpwent/getgrent */

/* subXid-range, -file, -self, -overlap, -realid, -size, -extents, -stale.
 * RANGES: the user's ranges through libsubid (NULL when libsubid failed,
 * LIBMSG its message). SF: the file PATH as nk_sf_load read it (missing
 * when !SF->exists); READERR: nk_sf_load's error when it failed (SF is then
 * not looked at), else NULL. */
void dr_check_subids(struct dr_findings *fs, enum nk_idtype t, const struct dr_user *u,
		      const struct nk_ranges *ranges, const char *libmsg, const char *path,
		      const struct nk_sf *sf, const struct nk_err *readerr, const struct dr_db *db);

/* --- kernel and process state ----------------------------------------- */

/* Values of sysctls; -1 when the file does not exist. */
struct dr_sys {
	long max_userns;       /* /proc/sys/user/max_user_namespaces */
	long userns_clone;     /* /proc/sys/kernel/unprivileged_userns_clone (Debian) */
	long apparmor;         /* /proc/sys/kernel/apparmor_restrict_unprivileged_userns */
	int seccomp;           /* Seccomp: of /proc/self/status (0 none, 1 strict, 2 filter) */
	int container;         /* a container manager's marker was found */
	long ping_lo, ping_hi; /* net.ipv4.ping_group_range; -1 unknown */
	long overflowuid, overflowgid;
	int root_shared;       /* 1 shared, 0 not, -1 unknown */
	int no_new_privs;
	int bound_setuid, bound_setgid;  /* in the capability bounding set */
};
/* Read them all (never fails: what cannot be read stays -1). */
void dr_sys_read(struct dr_sys *s);

/* What the probe child found, running as the user. */
struct dr_probe {
	int ran;               /* 0: not probed (another user, not root) */
	int create_errno;      /* unshare(CLONE_NEWUSER): 0 or errno */
	int levels;            /* nested user namespaces that could still be made */
	int nest_errno;        /* why the last one failed */
	int map_tried;         /* a full map was written */
	int map_ok;
	char map_msg[NK_ERR_MAX];
};

/* Fork a child that (as U when DROP, after initgroups/setgid/setuid) makes
 * a user namespace, counts how deep it can nest, and writes the default
 * rootless map (U to 0 and every subordinate range) to a grandchild's new
 * namespace through nk_write_maps. */
int dr_run_probe(struct dr_probe *p, const struct dr_user *u, int drop,
		    struct nk_err *e);

/* userns-max, userns-clone, userns-apparmor, userns-seccomp, userns-create,
 * userns-nesting, userns-map. */
void dr_check_userns(struct dr_findings *fs, const struct dr_sys *s,
		      const struct dr_probe *p, const struct dr_user *u);

/* newuidmap / newgidmap: H as nk_helper_usable judged it (lib/newidmap.h),
 * NULL when the helper was not found or cannot be opened (WHY says why).
 * Id "newuidmap"/"newgidmap" and "-nosuid". */
void dr_check_helper(struct dr_findings *fs, enum nk_idtype t, const char *why,
		      const struct nk_helper_info *h);
/* no-new-privs, cap-bounding. */
void dr_check_privs(struct dr_findings *fs, const struct dr_sys *s);
/* parent-map: OWN is this process's map (identity: not nested); the
 * user's ranges must lie inside it. */
void dr_check_parent_map(struct dr_findings *fs, const struct nk_maps *own,
			  const struct nk_ranges *sub[2], const struct dr_user *u);
/* xdg-runtime-dir: VAL the variable (NULL unset); ST its lstat or NULL
 * with ERR the errno. */
void dr_check_xdg(struct dr_findings *fs, const char *val, const struct stat *st, int err,
		   const struct dr_user *u);
/* user-env: $USER / $LOGNAME against the caller. */
void dr_check_user_env(struct dr_findings *fs, const char *env_user, const char *env_logname,
			const struct dr_user *u);
/* root-shared, ping-group-range, overflow-ids. GIDS: the user's groups. */
void dr_check_mounts(struct dr_findings *fs, const struct dr_sys *s,
		      const uint32_t *gids, size_t ngids, const struct dr_user *u);

#endif
