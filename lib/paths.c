#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "paths.h"

const char *nk_sysconfdir(void)
{
	const char *d = getenv("NSKIT_SYSCONFDIR");

	return d && d[0] == '/' ? d : "/etc";
}

int nk_runtime_nskit_path(uid_t uid, char *out, size_t len)
{
	struct stat st;
	char p[64];

	if (lstat(NK_RUNDIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return 0;
	snprintf(p, sizeof p, NK_RUNDIR "/%u", (unsigned)uid);
	if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077))
		return 0;
	return snprintf(out, len, "%s/nskit", p) < (int)len;
}

int nk_home_cache_nskit_path(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[4096], cache[4096];
	struct stat st;

	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || !res || pw.pw_dir[0] != '/')
		return 0;
	if (lstat(pw.pw_dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid)
		return 0;
	if (snprintf(cache, sizeof cache, "%s/.cache", strcmp(pw.pw_dir, "/") ? pw.pw_dir : "") >= (int)sizeof cache)
		return 0;
	if (mkdir(cache, 0700) < 0 && errno != EEXIST)
		return 0;
	if (lstat(cache, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid)
		return 0;
	return snprintf(out, len, "%s/nskit", cache) < (int)len;
}
