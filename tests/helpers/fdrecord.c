/* fdrecord - stand in for a program another tool runs: write the open file
 * descriptors ("0 1 2") to ARGV0.fds, then exec the real program named by
 * the link target ARGV0.real (or exit 0 when there is none). Used to check
 * that no tool leaks a descriptor into a program it starts, whatever
 * environment it gives it. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], real[PATH_MAX];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fds[1024], n = 0;
	FILE *f;
	ssize_t l;

	(void)argc;
	if (!d)
		return 1;
	while ((de = readdir(d)) && n < 1024) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	qsort(fds, (size_t)n, sizeof fds[0], cmp_int);
	snprintf(path, sizeof path, "%s.fds", argv[0]);
	f = fopen(path, "we");
	if (!f)
		return 1;
	for (int i = 0; i < n; i++)
		fprintf(f, i ? " %d" : "%d", fds[i]);
	fputc('\n', f);
	fclose(f);
	snprintf(path, sizeof path, "%s.real", argv[0]);
	l = readlink(path, real, sizeof real - 1);
	if (l <= 0)
		return 0;
	real[l] = '\0';
	argv[0] = real;
	execv(real, argv);
	return 127;
}
