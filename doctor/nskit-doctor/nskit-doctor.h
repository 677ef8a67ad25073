/* nskit-doctor.h - what the files of nskit-doctor share
 *
 * diagnose.c gathers the findings for one user (the checks of checks.c on
 * what it reads and probes), report.c prints them (report.h), explain-cmd.c is
 * --explain, fix.c is --fix. Each returns errors (-errno, struct nk_err);
 * only main (nskit-doctor.c) prints them, once.
 */
#ifndef NSKIT_DOCTOR_TOOL_H
#define NSKIT_DOCTOR_TOOL_H

#include <limits.h>
#include <stddef.h>
#include "checks.h"
#include "causes.h"
#include "report.h"
#include "subid.h"

/* --- diagnose.c ------------------------------------------------------- */

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
	/* --explain only, decided by the message itself (not in G_ALL):
	 * setgroups-order. */
	G_MESSAGE = 1 << 7,
};
/* The groups whose checks make the finding ID. */
unsigned dr_group_of(const char *id);

struct diag {
	char name[256];
	struct dr_user u;
	int caller;            /* the user is the caller */
	int runtime_dir;       /* --fix: check /run/user/UID for another user */
	struct dr_sys sys;
	struct dr_findings fs;
	struct nk_ranges ranges[2];
	const struct nk_ranges *got[2];
	int subid_central;     /* ranges come from a central source (not the files) */
};

/* D for USER (a name or uid; NULL: the caller). */
int dr_diag_user(struct diag *d, const char *user, struct nk_err *e);
/* Run the checks of GROUPS for D's user (RQ: the ids a message names, or
 * NULL). An error when a probe or a read fails. */
int dr_diagnose(struct diag *d, unsigned groups, const struct dr_ex_req *rq, struct nk_err *e);
/* An error when a finding of D could not be recorded (it may have been
 * the failing one), else 0. */
int dr_diag_lost(const struct diag *d, struct nk_err *e);
void dr_diag_free(struct diag *d);

/* --- explain-cmd.c --------------------------------------------------------- */

/* --explain ARG (the text, or - for standard input) for USER (NULL: the
 * caller): 0 when a cause was found for every known message, 1 when not
 * (or none is known), or an error. */
int dr_explain(const char *user, const char *arg, struct nk_err *e);

/* --- fix.c ------------------------------------------------------------------ */

struct dr_fixer {
	int dry;
	int apparmor, sysctl_userns;   /* --fix=apparmor, --fix=sysctl-userns */
	int changes;
	int failed;
	char bindir[PATH_MAX];         /* where nskit-doctor is: its sibling tools */
};

#define DR_MAX_USERS 64

/* --fix for USERS (none: the caller; as root, the machine only): 0 when
 * every finding is ok after it and every fix worked, 1 when not, or an
 * error. */
int dr_fix(struct dr_fixer *x, const char **users, size_t nusers, struct nk_err *e);

#endif
