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

/* Room for one more element in the array *ARRAY (pass &array) of elements
 * of SIZE bytes, N of them used, *CAP allocated: the allocation doubles,
 * starting at FIRST. 0, or -ENOMEM with the array as it was. */
static inline int nk_grow(void *array, size_t n, size_t *cap, size_t size, size_t first)
{
	void **a = (void **)array;
	size_t nc;
	void *x;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : first;
	if (nc > (size_t)-1 / size || !(x = realloc(*a, nc * size)))
		return -ENOMEM;
	*a = x;
	*cap = nc;
	return 0;
}

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

/* write(2)/read(2) of exactly LEN bytes, across short transfers and
 * EINTR: 0, or -1 (errno set; a read that meets end of file first is -1
 * with errno 0). */
static inline int nk_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t r = write(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static inline int nk_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t r = read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = 0;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

#define NK_UNUSED __attribute__((unused))
#define NK_PRINTF(a, b) __attribute__((format(printf, a, b)))

#endif
