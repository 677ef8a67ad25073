/* caps.h - capabilities
 *
 * The question every run asks (is CAP_SETUID, CAP_SETGID, ... in our
 * effective set?) is one capget(2). Everything else - file capabilities of
 * newuidmap, the bounding set, raising capabilities for --keep-caps - goes
 * through libcap-ng, which is loaded with dlopen(3) the first time it is
 * needed. Linking it would cost every run of every tool its constructor
 * (it reads /proc/sys/kernel/cap_last_cap and makes four prctl calls) plus
 * the library load: about 0.09 ms on the reference machine, a tenth of
 * `nsenter-user --join`'s whole run.
 */
#ifndef NSKIT_CAPS_H
#define NSKIT_CAPS_H

#include <stdint.h>
#include "err.h"

/* This process's effective set, one capget(2) (bit N: capability N; 0
 * when capget fails). */
uint64_t nk_caps_effective(void);
/* Is CAP in it? 1 yes, 0 no (also when capget fails, or CAP >= 64). */
int nk_cap_effective(unsigned cap);

/* Is CAP in the bounding set? 1 yes, 0 no, < 0 error (libcap-ng missing). */
int nk_cap_bounding(unsigned cap, struct nk_err *e);

/* Does the file open at FD carry CAP in its permitted file capabilities?
 * 1 yes, 0 no (or no file capabilities), < 0 error. */
int nk_cap_file_permitted(int fd, unsigned cap, struct nk_err *e);

/* For --keep-caps after a change of ids: effective and inheritable from
 * permitted, then every permitted capability raised in the ambient set,
 * the only set that survives an exec of a file without file capabilities
 * by a non-root uid. */
int nk_caps_to_ambient(struct nk_err *e);

/* Load libcap-ng now (0), or say why not (< 0). Used by the tests. */
int nk_capng_load(struct nk_err *e);

#endif
