#include <limits.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include "num.h"

int nk_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	/* Junk anywhere makes it not a number, whatever its size. */
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	for (const char *p = s; *p; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int nk_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int r = nk_parse_u64(s, max, &v);

	if (r < 0)
		return r;
	*out = (uint32_t)v;
	return 0;
}

int nk_parse_id(const char *s, uint32_t *out)
{
	return nk_parse_u32(s, NK_ID_MAX, out);
}

int nk_parse_pid(const char *s, pid_t *out)
{
	uint64_t v;
	int r = nk_parse_u64(s, INT_MAX, &v);

	if (r < 0)
		return r;
	if (v == 0)
		return -ERANGE;
	*out = (pid_t)v;
	return 0;
}

int nk_parse_fd(const char *s, int *out)
{
	uint64_t v;
	int r = nk_parse_u64(s, INT_MAX, &v);

	if (r < 0)
		return r;
	*out = (int)v;
	return 0;
}

int nk_parse_signal(const char *s, int *out)
{
	uint64_t v;

	if (nk_parse_u64(s, (uint64_t)SIGRTMAX, &v) == 0) {
		/* 0 is no signal; below SIGRTMIN, a number without a name is one
		 * the C library keeps for itself (32 and 33 in glibc). */
		if (v == 0 || ((int)v < SIGRTMIN && !sigabbrev_np((int)v)))
			return -EINVAL;
		*out = (int)v;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (!*s)
		return -EINVAL;
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *name = sigabbrev_np(i);

		if (name && strcasecmp(s, name) == 0) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

int nk_parse_u32_e(const char *s, uint32_t max, uint32_t *out,
		   const char *what, struct nk_err *e)
{
	int r = nk_parse_u32(s, max, out);

	if (r == -ERANGE)
		return nk_errf(e, EINVAL, "%s '%s' is out of range (at most %lu)",
			       what, s, (unsigned long)max);
	if (r < 0)
		return nk_errf(e, EINVAL, "invalid %s '%s': not a decimal number",
			       what, s);
	return 0;
}

int nk_parse_id_e(const char *s, uint32_t *out, const char *what,
		  struct nk_err *e)
{
	return nk_parse_u32_e(s, NK_ID_MAX, out, what, e);
}

int nk_parse_pid_e(const char *s, pid_t *out, struct nk_err *e)
{
	int r = nk_parse_pid(s, out);

	if (r == -ERANGE)
		return nk_errf(e, EINVAL, "invalid pid '%s': out of range", s);
	if (r < 0)
		return nk_errf(e, EINVAL, "invalid pid '%s': not a decimal number", s);
	return 0;
}
