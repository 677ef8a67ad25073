/* fdcount - print the open file descriptors of this process, one line:
 * "0 1 2" (the descriptor used to read /proc/self/fd is left out).
 * Used by the nsenter-user tests: none of nsenter-user's own descriptors
 * may reach the command it runs. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int main(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fds[1024], n = 0;

	if (!d) {
		perror("fdcount: /proc/self/fd");
		return 1;
	}
	while ((de = readdir(d)) && n < 1024) {
		if (de->d_name[0] == '.')
			continue;
		if (atoi(de->d_name) == dirfd(d))
			continue;
		fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	qsort(fds, (size_t)n, sizeof *fds, cmp_int);
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? " " : "", fds[i]);
	printf("\n");
	return 0;
}
