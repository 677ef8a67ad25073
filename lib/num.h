/* num.h - strict number parsing
 *
 * In the manner of OpenBSD doas' parseuid(): no empty string, no sign, no
 * leading space, no trailing junk, no overflow. Ids are 0..4294967294:
 * (uid_t)-1 is never a valid id (the kernel uses it as "no change").
 */
#ifndef NSKIT_NUM_H
#define NSKIT_NUM_H

#include <stdint.h>
#include <sys/types.h>
#include "err.h"

#define NK_ID_MAX 4294967294UL       /* highest valid uid/gid */

/* Decimal only. 0 on success, -EINVAL (junk) or -ERANGE (> max). */
int nk_parse_u64(const char *s, uint64_t max, uint64_t *out);
int nk_parse_u32(const char *s, uint32_t max, uint32_t *out);
/* A uid or gid: 0..NK_ID_MAX. */
int nk_parse_id(const char *s, uint32_t *out);
/* A process id: 1..INT_MAX. */
int nk_parse_pid(const char *s, pid_t *out);
/* A file descriptor number: 0..INT_MAX. */
int nk_parse_fd(const char *s, int *out);

/* A signal: a name with or without "SIG" in any case ("TERM", "sigterm"),
 * or a number, 1..SIGRTMAX (not those the C library keeps for itself).
 * 0 or -EINVAL. */
int nk_parse_signal(const char *s, int *out);

/* Same, with a message naming what was parsed ("invalid count 'x'"). */
int nk_parse_u32_e(const char *s, uint32_t max, uint32_t *out,
		   const char *what, struct nk_err *e);
int nk_parse_id_e(const char *s, uint32_t *out, const char *what,
		  struct nk_err *e);
int nk_parse_pid_e(const char *s, pid_t *out, struct nk_err *e);

#endif
