/* check_caps - lib/caps: capget against /proc/self/status, and the parts
 * that load libcap-ng on demand */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include "nkcheck.h"
#include "caps.h"

/* The 64-bit mask on line FIELD ("CapEff:") of /proc/self/status. */
static uint64_t status_mask(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	uint64_t v = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtoull(line + strlen(field), NULL, 16);
	fclose(f);
	return v;
}

START_TEST(test_effective)
{
	uint64_t eff = status_mask("CapEff:");

	ck_assert_uint_eq(nk_caps_effective(), eff);
	for (unsigned c = 0; c < 64; c++)
		ck_assert_int_eq(nk_cap_effective(c), (int)((eff >> c) & 1));
	ck_assert_int_eq(nk_cap_effective(64), 0);
	ck_assert_int_eq(nk_cap_effective(1000), 0);
}
END_TEST

/* With every capability dropped (a child of a root test run), none is
 * reported, whatever the uid. */
START_TEST(test_effective_dropped)
{
	pid_t c = fork();

	ck_assert_int_ge(c, 0);
	if (c == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];

		memset(d, 0, sizeof d);
		if (syscall(SYS_capset, &h, d) < 0)
			_exit(2);
		for (unsigned k = 0; k < 64; k++)
			if (nk_cap_effective(k))
				_exit(3);
		_exit(0);
	}
	ck_assert_int_eq(nk_test_exit_status(c), 0);
}
END_TEST

START_TEST(test_bounding)
{
	uint64_t bnd = status_mask("CapBnd:");
	struct nk_err e;

	ck_assert_int_eq(nk_capng_load(&e), 0);
	ck_assert_int_eq(nk_cap_bounding(CAP_SETUID, &e), (int)((bnd >> CAP_SETUID) & 1));
	ck_assert_int_eq(nk_cap_bounding(CAP_SETGID, &e), (int)((bnd >> CAP_SETGID) & 1));
	ck_assert_int_eq(nk_cap_bounding(CAP_SYS_ADMIN, &e), (int)((bnd >> CAP_SYS_ADMIN) & 1));
}
END_TEST

START_TEST(test_file_caps)
{
	char path[PATH_MAX];
	char cmd[PATH_MAX + 64];
	struct nk_err e;
	int fd = nk_test_mkstemp(path, sizeof path, "nskit-caps");

	ck_assert_int_ge(fd, 0);
	/* No file capabilities at all. */
	ck_assert_int_eq(nk_cap_file_permitted(fd, CAP_SETUID, &e), 0);
	close(fd);
	if (geteuid() != 0)
		unlink(path);
	NK_SKIP_UNLESS(geteuid() == 0, "setting file capabilities needs root");
	snprintf(cmd, sizeof cmd, "setcap cap_setuid+ep %s", path);
	ck_assert_int_eq(system(cmd), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(nk_cap_file_permitted(fd, CAP_SETUID, &e), 1);
	ck_assert_int_eq(nk_cap_file_permitted(fd, CAP_SETGID, &e), 0);
	close(fd);
	unlink(path);
}
END_TEST

/* --keep-caps: after a change of uid with PR_SET_KEEPCAPS, every permitted
 * capability is effective, inheritable and ambient. */
START_TEST(test_to_ambient)
{
	pid_t c;

	NK_SKIP_UNLESS(geteuid() == 0, "changing uid needs root");
	c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		struct nk_err e;
		uint64_t prm;

		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		prm = status_mask("CapPrm:");
		if (prm == 0 || status_mask("CapEff:") != 0)
			_exit(3);
		if (nk_caps_to_ambient(&e) < 0)
			_exit(4);
		if (status_mask("CapEff:") != prm || status_mask("CapInh:") != prm ||
		    status_mask("CapAmb:") != prm)
			_exit(5);
		_exit(0);
	}
	ck_assert_int_eq(nk_test_exit_status(c), 0);
}
END_TEST

static Suite *caps_suite(void)
{
	Suite *s = suite_create("caps");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_effective);
	tcase_add_test(tc, test_effective_dropped);
	tcase_add_test(tc, test_bounding);
	tcase_add_test(tc, test_file_caps);
	tcase_add_test(tc, test_to_ambient);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(caps_suite)
