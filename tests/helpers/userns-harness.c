/* userns-harness - run commands that map a fresh user namespace
 *
 *   userns-harness [-i] [-p] CMD [ARG...] [';' CMD [ARG...]]...
 *
 * Forks a child that unshares a user namespace and waits, then runs each
 * CMD in turn (one after the other), with every argument "{}" replaced by
 * the child's pid. Exits 0 when every command exited 0 and the child saw
 * its uid_map written (-i: whatever the child saw; -p: start the commands
 * all at once, then wait for them). Used by bench/idmap-apply so that idmap-apply and a
 * sequential newuidmap + newgidmap pay exactly the same set-up cost.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	int ready[2], go[2], st, rc = 0;
	char c, pidbuf[16];
	pid_t child;
	int ignore_map = 0, parallel = 0;
	pid_t running[16];
	int nrunning = 0;

	while (argc > 1 && argv[1][0] == '-' && argv[1][2] == '\0') {
		if (argv[1][1] == 'i')
			ignore_map = 1;
		else if (argv[1][1] == 'p')
			parallel = 1;
		else
			break;
		argv++;
		argc--;
	}

	if (argc < 2) {
		fprintf(stderr, "usage: userns-harness CMD [ARG...] [';' CMD...]\n");
		return 2;
	}
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		return 2;
	child = fork();
	if (child < 0)
		return 2;
	if (child == 0) {
		char buf[64];
		int fd;
		ssize_t n;

		if (unshare(CLONE_NEWUSER) < 0)
			_exit(3);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		close(go[1]);
		if (read(go[0], &c, 1) < 0)
			_exit(3);
		fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
		_exit(n > 0 || ignore_map ? 0 : 4);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1)
		return 2;
	snprintf(pidbuf, sizeof pidbuf, "%d", (int)child);
	for (int i = 1; i < argc && rc == 0;) {
		int j = i;
		char **av;

		while (j < argc && strcmp(argv[j], ";") != 0)
			j++;
		av = calloc((size_t)(j - i + 1), sizeof *av);
		for (int k = i; k < j; k++)
			av[k - i] = strcmp(argv[k], "{}") == 0 ? pidbuf : argv[k];
		{
			pid_t p;

			if (posix_spawnp(&p, av[0], NULL, NULL, av, environ) != 0)
				rc = 1;
			else if (parallel && nrunning < 16)
				running[nrunning++] = p;
			else if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				rc = 1;
		}
		free(av);
		i = j + 1;
	}
	for (int k = 0; k < nrunning; k++)
		if (waitpid(running[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = 1;
	close(go[1]);
	if (waitpid(child, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		rc = rc ? rc : 1;
	return rc;
}
