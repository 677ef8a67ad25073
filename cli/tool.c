#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include "subid.h"
#include "tool.h"

const char *nk_progname = "nskit";
static int stdout_was_closed;
static struct sigaction caller_sigchld;
static int have_caller_sigchld;

int nk_is_secure(void)
{
	return getauxval(AT_SECURE) != 0;
}

static void close_stdout(void)
{
	int bad = 0;

	/* A write error that stdio buffered (EPIPE excepted, as util-linux does)
	 * must not turn into a silent exit 0. */
	if (ferror(stdout))
		bad = errno ? errno : EIO;
	if (fclose(stdout) != 0 && errno != EBADF && errno != EPIPE)
		bad = errno;
	if (bad && bad != EPIPE) {
		fprintf(stderr, "%s: write error: %s\n", nk_progname,
			stdout_was_closed ? "standard output is closed" : strerror(bad));
		_exit(1);
	}
	/* stderr is flushed, not closed: sanitizers report after us. */
	if (fflush(stderr) != 0 && errno != EBADF)
		_exit(1);
}

void nk_tool_init(const char *name, char **argv)
{
	nk_progname = name;
	/* getopt_long prints argv[0] in its messages, which is a full path when
	 * the tool is run by path: point argv[0] at the bare name, so every
	 * message starts with "tool:". Only the pointer changes: the strings
	 * of argv are never written, so /proc/PID/cmdline (ps, top) shows the
	 * command line as it was given (util-linux's program_invocation_short_name). */
	if (argv && argv[0])
		argv[0] = (char *)name;
	if (nk_is_secure()) {
		/* The message goes out with write(2): under AT_SECURE nothing that
		 * depends on the environment (locale, stdio setup) is trusted. */
		static const char msg[] =
			": refusing to run setuid, setgid or with file capabilities; "
			"nskit delegates privileged steps to newuidmap/newgidmap\n";
		if (write(2, name, strlen(name)) < 0 || write(2, msg, sizeof msg - 1) < 0)
			_exit(1);
		_exit(1);
	}
	/* Keep 0, 1, 2 occupied so that no descriptor we open lands there
	 * (and no file of ours is written as someone's output). A closed
	 * stdin reads as empty; a closed stdout or stderr is /dev/full, so a
	 * tool that has something to say there fails with a write error
	 * instead of exiting 0 having said nothing. */
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open(fd == 0 ? "/dev/null" : "/dev/full", fd == 0 ? O_RDONLY : O_WRONLY);

			if (fd == 1)
				stdout_was_closed = 1;
			if (n < 0)
				_exit(1);
			if (n != fd) {
				close(n);
				_exit(1);
			}
		}
	}
	/* A caller that ignores SIGCHLD would have our children reaped behind
	 * our back (waitpid fails with ECHILD, exit statuses are lost): take
	 * the default for ourselves; nk_tool_restore_signals() gives the
	 * caller's setting back to a command we exec. */
	{
		struct sigaction dfl;

		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		have_caller_sigchld = sigaction(SIGCHLD, &dfl, &caller_sigchld) == 0;
	}
	atexit(close_stdout);
}

void nk_tool_restore_signals(void)
{
	if (have_caller_sigchld)
		sigaction(SIGCHLD, &caller_sigchld, NULL);
}

static void vwarn(int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;

	fflush(stdout);
	fprintf(stderr, "%s: ", nk_progname);
	vfprintf(stderr, fmt, ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
}

void nk_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
}

void nk_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(1, fmt, ap);
	va_end(ap);
}

const char *nk_subid_fix(const char *user)
{
	static char buf[512];
	const char *central = nk_subid_central_fix();

	if (central)
		snprintf(buf, sizeof buf, "%s", central);
	else
		snprintf(buf, sizeof buf, "run 'subid-alloc %s' as root", user);
	return buf;
}

const char *nk_err_text(const struct nk_err *e, char *buf, size_t len)
{
	const char *msg = e->msg[0] ? e->msg : strerror(e->code ? e->code : EIO);

	const char *central = nk_subid_central_fix();

	if (e->kind == NK_ERRK_NO_SUBIDS && !central && e->want)
		snprintf(buf, len, "%s (run 'subid-alloc --count %llu %s' as root%s)", msg,
			 (unsigned long long)e->want, e->subject, e->alt ? e->alt : "");
	else if (e->kind == NK_ERRK_NO_SUBIDS)
		snprintf(buf, len, "%s (%s%s)", msg, nk_subid_fix(e->subject), e->alt ? e->alt : "");
	else
		snprintf(buf, len, "%s", msg);
	return buf;
}

void nk_err_print(const struct nk_err *e)
{
	char buf[NK_ERR_MAX + 600];

	nk_warnx("%s", nk_err_text(e, buf, sizeof buf));
}

void nk_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
	exit(status);
}

void nk_die_err(int status, const struct nk_err *e)
{
	nk_err_print(e);
	exit(status);
}

void nk_usage_error(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", nk_progname);
	exit(1);
}

void nk_usage_errorx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
	nk_usage_error();
}

void nk_print_version(void)
{
	printf("%s from nskit %s\n", nk_progname, NSKIT_VERSION);
	exit(0);
}

void nk_std_option_or_err(int c, void (*usage)(void))
{
	if (c == 'h')
		usage();
	if (c == 'V')
		nk_print_version();
	nk_usage_error();
}
