// SPDX-License-Identifier: GPL-2.0-only
/*
 * prochandle run: a timeout(1) kept by the kernel, whose command can be
 * made to die with prochandle; prochandle deadline: the same deadline for
 * processes that already run.  Both use PH_IOC_DEADLINE (and
 * PH_ACQUIRE_KILL_ON_RELEASE) through libprochandle (SPEC 11).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "tree.h"

/* timeout(1)'s conventions for a command that cannot be run. */
#define EX_CANNOT_INVOKE	126
#define EX_NOT_FOUND		127

struct deadline_opts {
	uint64_t timeout;	/* ns, 0: none */
	uint64_t kill_after;	/* ns, 0: no escalation */
	int sig;		/* at the deadline */
	int kill_on_exit;
	int tree;		/* run --tree */
};

static void run_usage(FILE *f)
{
	fprintf(f,
"Usage: prochandle run [-t DUR] [-s SIG] [-k DUR] [-K] [-T] [--] COMMAND [ARG]...\n"
"       prochandle deadline [-s SIG] [-k DUR] DUR PID...\n"
"\n"
"run: start COMMAND; with --timeout, send it SIG (default TERM) when DUR\n"
"passes and, with --kill-after, SIGKILL if it still runs that much later.\n"
"The kernel keeps the deadline. With --kill-on-exit COMMAND is killed when\n"
"prochandle ends, however it ends (SIGKILL included).\n"
"  -t, --timeout DUR        the deadline (200ms, 1.5s, 2m, 1h; plain numbers\n"
"                           are seconds)\n"
"  -s, --signal SIG         the signal sent at the deadline (default TERM)\n"
"  -k, --kill-after DUR     then SIGKILL if it still runs DUR later\n"
"  -K, --kill-on-exit       kill COMMAND when prochandle ends\n"
"  -T, --tree               COMMAND and every process it starts, tracked\n"
"                           from before it runs (double-forking daemons\n"
"                           included): wait until all have ended; the\n"
"                           deadline signals all of them; -K kills all\n"
"Exit status (as timeout(1)): COMMAND's, or 128+N if signal N killed it;\n"
"124 if the deadline passed (137 if it took SIGKILL); 125 prochandle\n"
"failed; 126 COMMAND cannot be run; 127 COMMAND not found.\n"
"\n"
"deadline: give running processes a deadline DUR from now and wait until\n"
"they end (the deadline lasts while prochandle runs). Options as for run.\n"
"Exit status: 0, or 124 if a deadline passed while its process still ran;\n"
"126/127 as for wait.\n");
}

static int bad_opt(const char *what)
{
	usage_error("'%s': %s", optarg, what);
	return -1;
}

/* Parses the options shared by run and deadline; returns optind or -1. */
static int parse_deadline_opts(int argc, char **argv, int with_timeout,
			       struct deadline_opts *o)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "signal", required_argument, NULL, 's' },
		{ "kill-after", required_argument, NULL, 'k' },
		{ "kill-on-exit", no_argument, NULL, 'K' },
		{ "tree", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *opts = with_timeout ? "+t:s:k:KTh" : "+s:k:h";
	int c;

	memset(o, 0, sizeof(*o));
	o->sig = SIGTERM;
	optind = 1;
	while ((c = getopt_long(argc, argv, opts, longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_duration(optarg, &o->timeout))
				return bad_opt("not a duration");
			break;
		case 's':
			o->sig = parse_signal(optarg);
			if (o->sig <= 0)
				return bad_opt("not a signal");
			break;
		case 'k':
			if (parse_duration(optarg, &o->kill_after))
				return bad_opt("not a duration");
			break;
		case 'K':
			o->kill_on_exit = 1;
			break;
		case 'T':
			o->tree = 1;
			break;
		case 'h':
			run_usage(stdout);
			exit(0);
		default:
			usage_error("see 'prochandle run --help'");
			return -1;
		}
	}
	return optind;
}

/* The exit status timeout(1) gives for @status. */
static int run_exit_code(int status, int timed_out)
{
	if (!timed_out)
		return status_exit_code(status);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return 128 + SIGKILL;
	return EX_TIMEOUT;
}

/*
 * The child waits on @go until the parent holds its handle (and deadline),
 * then runs the command; if exec fails it writes errno to @err (close on
 * exec: EOF there means exec succeeded).
 */
static void run_child(char **cmd, int go, int err)
{
	char b;
	int e;

	signal(SIGTTIN, SIG_DFL);
	signal(SIGTTOU, SIG_DFL);
	if (read(go, &b, 1) != 1)
		_exit(EX_FAILURE);
	execvp(cmd[0], cmd);
	e = errno;
	if (write(err, &e, sizeof(e)) != sizeof(e))
		_exit(EX_FAILURE);
	_exit(e == ENOENT ? EX_NOT_FOUND : EX_CANNOT_INVOKE);
}

static volatile sig_atomic_t run_child_pid;

/* As timeout(1): the signals that would end prochandle go to COMMAND. */
static void run_forward(int sig)
{
	if (run_child_pid > 0)
		kill(run_child_pid, sig);
}

static void run_forward_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_forward;
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/*
 * run --tree: wait until the whole tree has ended; the deadline (and its
 * escalation) signals every process of the tree.  Returns -1 or, through
 * @timed_out, whether the deadline passed.
 */
static int run_tree_wait(struct tree *tr, const struct deadline_opts *o,
			 uint64_t start, int *timed_out)
{
	int rc;

	*timed_out = 0;
	rc = tree_wait(tr, o->timeout ? start + o->timeout : 0, NULL, NULL);
	if (rc == EX_TIMEOUT) {
		*timed_out = 1;
		tree_signal(tr, o->sig);
		rc = tree_wait(tr, o->kill_after ?
			       now_ns() + o->kill_after : 0, NULL, NULL);
		if (rc == EX_TIMEOUT) {
			tree_signal(tr, SIGKILL);
			rc = tree_wait(tr, 0, NULL, NULL);
		}
	}
	return rc ? -1 : 0;
}

int cmd_run(int argc, char **argv)
{
	int go[2], err[2], fd, ret, status, e, timed_out = 0;
	struct deadline_opts o;
	struct tree tr;
	uint64_t start;
	__u64 h;
	pid_t pid;
	int first = parse_deadline_opts(argc, argv, 1, &o);

	if (first < 0)
		return EX_FAILURE;
	if (first >= argc)
		return usage_error("run: no COMMAND given");
	if (o.tree) {
		if (tree_open(&tr, 0, o.kill_on_exit ?
			      PH_ACQUIRE_KILL_ON_RELEASE : 0))
			return EX_FAILURE;
		fd = tr.fd;
	} else {
		fd = open_device(0);
	}
	if (fd < 0)
		return EX_FAILURE;
	if (pipe2(go, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		msg("run: pipe: %s", strerror(errno));
		return EX_FAILURE;
	}
	pid = fork();
	if (pid < 0) {
		msg("run: fork: %s", strerror(errno));
		return EX_FAILURE;
	}
	if (pid == 0) {
		close(go[1]);
		close(err[0]);
		run_child(argv + first, go[0], err[1]);
	}
	close(go[0]);
	close(err[1]);
	if (o.tree)	/* tracked before COMMAND runs: all it starts too */
		ret = tree_add_root(&tr, pid, &h);
	else
		ret = ph_acquire_flags(fd, pid, o.kill_on_exit ?
				       PH_ACQUIRE_KILL_ON_RELEASE : 0, 0, &h);
	start = now_ns();
	if (!ret && o.timeout && !o.tree)
		ret = ph_deadline(fd, h, o.timeout, o.sig, o.kill_after);
	if (ret) {
		msg("run: %d: %s", (int)pid, ph_strerror(ret));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return EX_FAILURE;
	}
	if (write(go[1], "g", 1) != 1) {
		msg("run: %s", strerror(errno));
		kill(pid, SIGKILL);
	}
	close(go[1]);
	run_child_pid = pid;
	run_forward_signals();
	e = 0;
	if (read(err[0], &e, sizeof(e)) == sizeof(e))
		msg("%s: %s", argv[first], strerror(e));
	close(err[0]);
	ret = o.tree ? run_tree_wait(&tr, &o, start, &timed_out) : 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			msg("run: waitpid: %s", strerror(errno));
			return EX_FAILURE;
		}
	}
	if (o.tree) {
		tree_close(&tr);
		return ret ? EX_FAILURE : run_exit_code(status, timed_out);
	}
	timed_out = o.timeout && now_ns() - start >= o.timeout;
	ph_close(fd);
	return run_exit_code(status, timed_out);
}

int cmd_deadline(int argc, char **argv)
{
	int first, n, i, fd, fail = 0, timed_out = 0, ret, st;
	struct deadline_opts o;
	struct target *t;
	uint64_t timeout, end, now, *due;
	struct ph_info info;
	__u64 *h;

	first = parse_deadline_opts(argc, argv, 0, &o);
	if (first < 0)
		return EX_FAILURE;
	if (first >= argc)
		return usage_error("deadline: no DUR given");
	if (parse_duration(argv[first], &timeout) || !timeout)
		return usage_error("'%s': not a duration", argv[first]);
	n = parse_targets(argc - first - 1, argv + first + 1, &t);
	if (n < 0)
		return EX_FAILURE;
	h = calloc((size_t)n, sizeof(*h));
	due = calloc((size_t)n, sizeof(*due));
	fd = h && due ? open_device(0) : -1;
	if (fd < 0) {
		free(h);
		free(due);
		free(t);
		return EX_FAILURE;
	}
	end = now_ns() + timeout;
	for (i = 0; i < n; i++) {
		ret = acquire_target(fd, &t[i], &h[i]);
		/* The kernel's deadline is no earlier than this (BOOTTIME). */
		due[i] = boottime_ns() + timeout;
		if (!ret)
			ret = ph_deadline(fd, h[i], timeout, o.sig, o.kill_after);
		if (ret == -ESRCH && h[i])
			ret = 0;	/* it ended already: before its deadline */
		if (ret) {
			if (h[i])
				ph_release(fd, h[i]);
			h[i] = 0;
			fail = target_error(&t[i], ret);
		}
	}
	/*
	 * The deadlines last as long as the handles: wait for each, first
	 * until the deadline (did it pass while the process ran?), then for
	 * its end.  A process found already exited when its wait starts may
	 * have been ended by its deadline (a busy machine reaches the wait
	 * late): its exit record's time tells.
	 */
	for (i = 0; i < n; i++) {
		int passed;

		if (!h[i])
			continue;
		now = now_ns();
		ret = ph_wait_timeout(fd, h[i], end > now ? end - now : 0, &st);
		passed = ret == -ETIMEDOUT;
		if (passed)
			ret = ph_wait(fd, h[i], &st);
		else if (!ret && !ph_info2(fd, h[i], &info, sizeof(info)) &&
			 (info.exit.exit_flags & PH_EXIT_F_VALID))
			passed = info.exit.exit_time >= due[i];
		if (passed) {
			timed_out = 1;
			if (!ret) {
				char what[64];

				describe_status(st, what, sizeof(what));
				msg("%s: deadline passed; %s", t[i].name, what);
			}
		}
		if (ret)
			fail = target_error(&t[i], ret);
	}
	ph_close(fd);
	free(h);
	free(due);
	free(t);
	if (fail)
		return fail;
	return timed_out ? EX_TIMEOUT : 0;
}
