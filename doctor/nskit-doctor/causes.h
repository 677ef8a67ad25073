/* causes.h - nskit-doctor --explain: the error lines of rootless tools, and the findings that cause them
 *
 * One table (causes.c) holds every message nskit-doctor --explain
 * knows: the tool and the versions that print it, the text as printed, the
 * pieces a line must contain to be that message, and the findings
 * (checks.h ids) that can cause it, in the order they are told apart.
 * Matching and the verdict are pure functions: the doctor gathers the
 * findings, this module decides.
 */
#ifndef NSKIT_DOCTOR_CAUSES_H
#define NSKIT_DOCTOR_CAUSES_H

#include <stddef.h>
#include <stdint.h>
#include "checks.h"

#define DR_EX_MAX_CAUSES 10

struct dr_ex_cause {
	const char *id;        /* a finding id, "subid-requested" or "setgroups-order" */
	/* A property of the process that failed (no_new_privs, its bounding
	 * set, its environment): an ok finding of the doctor's own process
	 * does not rule it out. */
	int per_process;
};

struct dr_ex_msg {
	const char *key;       /* stable name of the entry */
	const char *tool;      /* the program that prints it */
	const char *versions;  /* the versions that print it, exactly as quoted */
	const char *text;      /* the message, printf parts as in the source */
	const char *match[3];  /* pieces a line must contain, in this order */
	struct dr_ex_cause causes[DR_EX_MAX_CAUSES];   /* ends at id NULL */
	const char *sample;    /* a real line (from the tool, in the sandbox or upstream) */
};

extern const struct dr_ex_msg dr_ex_msgs[];
extern const size_t dr_ex_nmsgs;

/* A line as logrus prints it in text form (time="..." level=error
 * msg="\"/\" is not ..."): *OUT a copy with each quoted value unquoted and
 * its escapes undone (\" \\ \n \t), so that it reads as the message
 * printed without logrus. 1 with *OUT (the caller frees it), 0 (*OUT NULL)
 * when LINE is not a logrus line, -ENOMEM. */
int dr_ex_unwrap(const char *line, char **out);

/* The entry LINE is (the first in table order whose pieces it contains,
 * a logrus line unwrapped first), or NULL. */
const struct dr_ex_msg *dr_ex_match(const char *line);

/* The ids a message names: podman's and buildah's "(requested U:G for
 * PATH)" (INNER: ids inside the namespace), newuidmap's "uid range [A-B)
 * -> [C-D) not allowed" (host ids C to D-1). have[t] for each type named. */
struct dr_ex_req {
	int inner;
	int have[2];
	uint64_t lo[2], hi[2];
};
/* 0, or -EINVAL when LINE names no ids (a logrus line unwrapped first). */
int dr_ex_requested(const char *line, struct dr_ex_req *r);

enum dr_ex_state { DR_EX_FOUND, DR_EX_RULED_OUT, DR_EX_UNTESTED };

struct dr_ex_verdict {
	const char *id;
	enum dr_ex_state state;
	const struct dr_finding *f;   /* the finding, NULL when none was made */
};

/* Each cause of M, in order, against the findings FS: found (the finding
 * warns or fails), ruled out (ok, and not a per-process property the doctor
 * cannot see), untested (no finding). Returns the number found. */
size_t dr_ex_judge(const struct dr_ex_msg *m, const struct dr_findings *fs,
		   struct dr_ex_verdict out[DR_EX_MAX_CAUSES], size_t *n);

#endif
