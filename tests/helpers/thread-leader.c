/* thread-leader - a process whose main thread has ended while another runs
 * on: the main thread calls pthread_exit(), a second thread sleeps until
 * the process is killed. /proc then shows the process as a zombie
 * ("State: Z") with "Threads: 2", and it is still in its namespaces: what
 * a multithreaded program whose main() returned through pthread_exit looks
 * like. Prints its pid, then the main thread ends. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, sleeper, NULL) != 0) {
		fprintf(stderr, "thread-leader: cannot create a thread\n");
		return 1;
	}
	printf("%d\n", (int)getpid());
	fflush(stdout);
	pthread_exit(NULL);
}
