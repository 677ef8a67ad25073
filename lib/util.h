/* util.h - small helpers shared by every nskit module
 *
 * Cleanup attributes in the style of bubblewrap's utils.h: a variable
 * declared with NK_AUTOFREE / NK_AUTOCLOSE is released when it goes out of
 * scope, and nk_steal() hands ownership out of such a variable.
 */
#ifndef NSKIT_UTIL_H
#define NSKIT_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

#define NK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void nk_freep(void *p)
{
	free(*(void **)p);
}

static inline void nk_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void nk_fclosep(FILE **f)
{
	if (*f) {
		int saved = errno;
		fclose(*f);
		errno = saved;
	}
}

#define NK_AUTOFREE __attribute__((cleanup(nk_freep)))
#define NK_AUTOCLOSE __attribute__((cleanup(nk_closep)))
#define NK_AUTOFCLOSE __attribute__((cleanup(nk_fclosep)))

/* Take the pointer out of a cleanup variable so it is not freed. The
 * typeof keeps the type checked, as bubblewrap's steal_pointer does. */
#define nk_steal(pp) \
	({ __typeof__(*(pp)) _nk_p = *(pp); *(pp) = NULL; _nk_p; })

static inline int nk_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

#define NK_UNUSED __attribute__((unused))
#define NK_PRINTF(a, b) __attribute__((format(printf, a, b)))

#endif
