/* subreaper CMD [ARG...] - run CMD as a child subreaper that never reaps:
 * what a container's pid 1 that reaps late does to the orphans it
 * inherits (a session holder, say). Waits for CMD alone, prints "done" and
 * its exit status, then sleeps until killed, leaving every orphan that ends
 * a zombie. */
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t c;
	int st;

	if (argc < 2) {
		fprintf(stderr, "usage: subreaper CMD [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		perror("subreaper: prctl");
		return 1;
	}
	c = fork();
	if (c < 0) {
		perror("subreaper: fork");
		return 1;
	}
	if (c == 0) {
		execvp(argv[1], argv + 1);
		perror("subreaper: exec");
		_exit(127);
	}
	while (waitpid(c, &st, 0) < 0)
		;
	printf("done %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	fflush(stdout);
	for (;;)
		pause();
}
