#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <cap-ng.h>
#include <linux/capability.h>
#include "caps.h"
#include "dl.h"
#include "util.h"
#include "num.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

uint64_t nk_caps_effective(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

int nk_cap_effective(unsigned cap)
{
	return cap < 64 && ((nk_caps_effective() >> cap) & 1);
}

/* The functions of libcap-ng we use, typed from its own header. */
static struct {
	int loaded;
	__typeof__(capng_clear) *clear;
	__typeof__(capng_get_caps_process) *get_caps_process;
	__typeof__(capng_get_caps_fd) *get_caps_fd;
	__typeof__(capng_have_capability) *have_capability;
	__typeof__(capng_update) *update;
	__typeof__(capng_apply) *apply;
} capng;

int nk_capng_load(struct nk_err *e)
{
	const struct nk_dl_sym syms[] = {
		{ "capng_clear", (void **)&capng.clear },
		{ "capng_get_caps_process", (void **)&capng.get_caps_process },
		{ "capng_get_caps_fd", (void **)&capng.get_caps_fd },
		{ "capng_have_capability", (void **)&capng.have_capability },
		{ "capng_update", (void **)&capng.update },
		{ "capng_apply", (void **)&capng.apply },
	};

	if (capng.loaded)
		return 0;
	if (nk_dl_load("libcap-ng.so.0", "libcap-ng0", syms, NK_ARRAY_SIZE(syms), e) < 0)
		return -e->code;
	capng.loaded = 1;
	return 0;
}

int nk_cap_bounding(unsigned cap, struct nk_err *e)
{
	if (nk_capng_load(e) < 0)
		return -e->code;
	capng.clear(CAPNG_SELECT_BOTH);
	if (capng.get_caps_process() < 0)
		return nk_errf(e, EPERM, "cannot read the capabilities of this process");
	return capng.have_capability(CAPNG_BOUNDING_SET, cap) != 0;
}

int nk_cap_file_permitted(int fd, unsigned cap, struct nk_err *e)
{
	int r = 0;

	if (nk_capng_load(e) < 0)
		return -e->code;
	capng.clear(CAPNG_SELECT_BOTH);
	if (capng.get_caps_fd(fd) == 0)
		r = capng.have_capability(CAPNG_PERMITTED, cap) != 0;
	capng.clear(CAPNG_SELECT_BOTH);
	return r;
}

static unsigned last_cap(void)
{
	unsigned last = CAP_LAST_CAP;
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		char buf[16];
		ssize_t n = read(fd, buf, sizeof buf - 1);
		uint32_t v;

		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (nk_parse_u32(buf, 63, &v) == 0)
				last = v;
		}
		close(fd);
	}
	return last;
}

int nk_caps_to_ambient(struct nk_err *e)
{
	unsigned last = last_cap();

	if (nk_capng_load(e) < 0)
		return -e->code;
	capng.clear(CAPNG_SELECT_BOTH);
	if (capng.get_caps_process() < 0)
		return nk_errf(e, EPERM, "cannot read the capabilities of this process");
	for (unsigned c = 0; c <= last; c++)
		if (capng.have_capability(CAPNG_PERMITTED, c))
			capng.update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_INHERITABLE, c);
	if (capng.apply(CAPNG_SELECT_CAPS) < 0)
		return nk_errf(e, EPERM, "cannot set the capabilities of this process");
	for (unsigned c = 0; c <= last; c++)
		if (capng.have_capability(CAPNG_PERMITTED, c) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return nk_syserr(e, errno, "cannot raise capability %u in the ambient set", c);
	return 0;
}
