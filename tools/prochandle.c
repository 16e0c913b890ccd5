// SPDX-License-Identifier: GPL-2.0-only
/*
 * prochandle: wait for, signal, watch and describe processes by pid,
 * race-free, through /dev/prochandle handles.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <prochandle.h>

#ifndef PROCHANDLE_VERSION
#define PROCHANDLE_VERSION "unknown"
#endif

/* Exit codes of prochandle itself; keep in sync with usage() and man/. */
#define EX_TIMEOUT	124	/* --timeout passed first */
#define EX_FAILURE	125	/* usage error, module missing, other failure */
#define EX_NOPERM	126	/* a PID: not permitted */
#define EX_NOPROC	127	/* a PID: no such process (or not a process) */

static const char *prog = "prochandle";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: prochandle COMMAND [OPTION]... PID...\n"
"Wait for, signal, watch and describe processes without the pid-reuse race.\n"
"Every PID is acquired pinned to its start time, so a number that is reused\n"
"in the meantime is refused, never mistaken for the process you meant.\n"
"\n"
"Commands:\n"
"  wait [-t DUR] [-a] [-q] [-v] PID...\n"
"                              wait until the processes end (they need not\n"
"                              be children) and print how each ended:\n"
"                              'PID: exited N' or 'PID: killed by SIGNAME'\n"
"     -t, --timeout DUR        give up after DUR (200ms, 1.5s, 2m, 1h; plain\n"
"                              numbers are seconds)\n"
"     -a, --any                return as soon as the first one ends\n"
"     -q, --quiet              print nothing on success\n"
"     -v, --verbose            say on stderr when all PIDs are acquired\n"
"  kill [-s SIG | -SIG] PID...  send SIG (default TERM) to each process;\n"
"                              SIG is a name (TERM, SIGTERM, RTMIN+1) or a\n"
"                              number; 0 only checks; -l lists the names\n"
"  watch [-t DUR] [-v] PID...  print each exit as it happens until all ended\n"
"  info PID...                 print state, start time, status and name\n"
"\n"
"  -h, --help                  show this help\n"
"  -V, --version               show the version\n"
"\n"
"Exit status:\n"
"  wait      the exit code of the last PID given (of the first to end with\n"
"            --any), 128+N when it was killed by signal N, like sh's wait\n"
"  others    0 on success\n"
"  124       --timeout passed before the processes ended\n"
"  125       usage error, module not loaded, or another failure of prochandle\n"
"  126       a PID could not be acquired or signalled: not permitted\n"
"  127       a PID could not be acquired: no such process\n"
"  When a PID fails (126, 127) the others are still handled, and the exit\n"
"  status is that of the last PID that failed.\n"
"\n"
"Errors are one line each: 'prochandle: PID: reason'.\n"
"See prochandle(1).\n");
}

static void __attribute__((format(printf, 1, 2))) msg(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'prochandle --help' for more information.\n");
	return EX_FAILURE;
}

/* ---- parsing ---------------------------------------------------------- */

/*
 * "1.5s", "200ms", "2m", "3" (seconds): a decimal number with an optional
 * unit ns, us, ms, s, m, h, d.  Exact integer arithmetic, no floats.
 */
static int parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ULL }, { "", 1000000000ULL },
		{ "m", 60000000000ULL }, { "min", 60000000000ULL },
		{ "h", 3600000000000ULL }, { "d", 86400000000000ULL },
	};
	uint64_t ip = 0, frac = 0, scale = 1, mult = 0, res;
	const char *p = s;
	size_t i;

	if (*p < '0' || *p > '9') {
		if (*p != '.' || p[1] < '0' || p[1] > '9')
			return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (ip > (UINT64_MAX - 9) / 10)
			return -1;
		ip = ip * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if ((*p < '0' || *p > '9') && p - 1 == s)
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale < 1000000000000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(p, units[i].unit))
			mult = units[i].ns;
	if (!mult)
		return -1;
	if (ip > UINT64_MAX / mult)
		return -1;
	res = ip * mult;
	/* frac/scale * mult, without overflow: frac < scale <= 1e18. */
	{
		unsigned __int128 f = (unsigned __int128)frac * mult / scale;

		if (f > UINT64_MAX - res)
			return -1;
		res += (uint64_t)f;
	}
	*ns = res;
	return 0;
}

static const struct { int sig; const char *name; } signames[] = {
	{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
	{ SIGILL, "ILL" }, { SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" },
	{ SIGBUS, "BUS" }, { SIGFPE, "FPE" }, { SIGKILL, "KILL" },
	{ SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" },
	{ SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
#ifdef SIGSTKFLT
	{ SIGSTKFLT, "STKFLT" },
#endif
	{ SIGCHLD, "CHLD" }, { SIGCONT, "CONT" }, { SIGSTOP, "STOP" },
	{ SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" }, { SIGTTOU, "TTOU" },
	{ SIGURG, "URG" }, { SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" },
	{ SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" }, { SIGWINCH, "WINCH" },
	{ SIGIO, "IO" },
#ifdef SIGPWR
	{ SIGPWR, "PWR" },
#endif
	{ SIGSYS, "SYS" },
	/* Aliases, accepted but never printed. */
	{ SIGABRT, "IOT" }, { SIGIO, "POLL" }, { SIGCHLD, "CLD" },
};

#define NSIGNAMES (sizeof(signames) / sizeof(signames[0]))

static int parse_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_pid(const char *s, pid_t *pid)
{
	long v;

	if (parse_number(s, 1, INT_MAX, &v))
		return -1;
	*pid = (pid_t)v;
	return 0;
}

/* A signal name (any case, with or without SIG) or number; -1 if bad. */
static int parse_signal(const char *s)
{
	long v;
	size_t i;

	if (!parse_number(s, 0, SIGRTMAX, &v))
		return (int)v;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < NSIGNAMES; i++)
		if (!strcasecmp(s, signames[i].name))
			return signames[i].sig;
	if (!strncasecmp(s, "RTMIN", 5)) {
		if (!s[5])
			return SIGRTMIN;
		if (s[5] == '+' && !parse_number(s + 6, 0, SIGRTMAX - SIGRTMIN, &v))
			return SIGRTMIN + (int)v;
	}
	if (!strncasecmp(s, "RTMAX", 5)) {
		if (!s[5])
			return SIGRTMAX;
		if (s[5] == '-' && !parse_number(s + 6, 0, SIGRTMAX - SIGRTMIN, &v))
			return SIGRTMAX - (int)v;
	}
	return -1;
}

static const char *signal_name(int sig, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < NSIGNAMES; i++)
		if (signames[i].sig == sig) {
			snprintf(buf, len, "SIG%s", signames[i].name);
			return buf;
		}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		if (sig == SIGRTMIN)
			snprintf(buf, len, "SIGRTMIN");
		else
			snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
		return buf;
	}
	snprintf(buf, len, "signal %d", sig);
	return buf;
}

static void describe_status(int status, char *buf, size_t len)
{
	char name[32];

	if (WIFEXITED(status))
		snprintf(buf, len, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s%s",
			 signal_name(WTERMSIG(status), name, sizeof(name)),
			 WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "status %#x", (unsigned int)status);
}

/* Like the shell: the exit code, or 128 + the signal that killed it. */
static int status_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EX_FAILURE;
}

/* ---- device and pids -------------------------------------------------- */

static int open_device(unsigned int flags)
{
	int fd = ph_open(flags);

	if (fd == -ENOENT)
		msg("%s: module not loaded: run 'modprobe prochandle'",
		    PH_DEVICE_PATH);
	else if (fd < 0)
		msg("%s: %s", PH_DEVICE_PATH, fd == -EACCES ?
		    "permission denied" : ph_strerror(fd));
	return fd;
}

/* Report a failure about @pid; returns the exit code it stands for. */
static int pid_error(pid_t pid, int err)
{
	switch (err) {
	case -ESRCH:
		msg("%d: no such process", pid);
		return EX_NOPROC;
	case -EINVAL:
		/* The number names a thread, not a thread-group leader. */
		msg("%d: not a process (a thread of another process)", pid);
		return EX_NOPROC;
	case -EPERM:
	case -EACCES:
		msg("%d: operation not permitted", pid);
		return EX_NOPERM;
	default:
		msg("%d: %s", pid, ph_strerror(err));
		return EX_FAILURE;
	}
}

/* Acquire @pid pinned to its start time; on success *ticks holds it. */
static int acquire(int fd, pid_t pid, __u64 *handle, __u64 *ticks)
{
	__u64 t;
	int ret = ph_start_ticks(pid, &t);

	if (!ret)
		ret = ph_acquire_ticks(fd, pid, t, handle);
	if (!ret && ticks)
		*ticks = t;
	return ret;
}

static int parse_pids(int argc, char **argv, pid_t **out)
{
	pid_t *pids;
	int i;

	if (argc < 1) {
		usage_error("no PID given");
		return -1;
	}
	pids = calloc((size_t)argc, sizeof(*pids));
	if (!pids) {
		msg("out of memory");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (parse_pid(argv[i], &pids[i])) {
			usage_error("'%s': not a process id", argv[i]);
			free(pids);
			return -1;
		}
	}
	*out = pids;
	return argc;
}

/* ---- wait and watch ---------------------------------------------------- */

struct target {
	pid_t pid;
	int acquired;
	int done;
	int status;
	__u64 handle;
};

static struct target *targets;

static int cmp_handle(const void *a, const void *b)
{
	__u64 x = targets[*(const int *)a].handle;
	__u64 y = targets[*(const int *)b].handle;

	return x < y ? -1 : x > y;
}

static int find_target(const int *index, int n, __u64 handle)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		__u64 h = targets[index[mid]].handle;

		if (h == handle)
			return index[mid];
		if (h < handle)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void report(const struct target *t, int quiet)
{
	char buf[64];

	if (quiet)
		return;
	describe_status(t->status, buf, sizeof(buf));
	printf("%d: %s\n", t->pid, buf);
	fflush(stdout);
}

enum { MODE_WAIT, MODE_WATCH };

static int wait_or_watch(int mode, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "any", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int any = 0, quiet = 0, verbose = 0, has_timeout = 0, c, n, i, fd;
	int fail = 0, acquired = 0, remaining = 0, first = -1, *index;
	uint64_t timeout = 0, deadline = 0;
	struct ph_event ev[256];
	pid_t *pids;
	int rc;

	while ((c = getopt_long(argc, argv, mode == MODE_WAIT ? "+t:aqvh" : "+t:vh",
				opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_duration(optarg, &timeout))
				return usage_error("'%s': not a duration (e.g. 200ms, 1.5s, 2m)",
						   optarg);
			has_timeout = 1;
			break;
		case 'a':
			any = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("bad option");
		}
	}
	n = parse_pids(argc - optind, argv + optind, &pids);
	if (n < 0)
		return EX_FAILURE;
	fd = -1;
	targets = calloc((size_t)n, sizeof(*targets));
	index = calloc((size_t)n, sizeof(*index));
	if (!targets || !index) {
		msg("out of memory");
		rc = EX_FAILURE;
		goto out;
	}
	fd = open_device(PH_OPEN_NONBLOCK);
	if (fd < 0) {
		rc = EX_FAILURE;
		goto out;
	}
	if (has_timeout)
		deadline = now_ns() + timeout;

	for (i = 0; i < n; i++) {
		struct target *t = &targets[i];
		int ret;

		t->pid = pids[i];
		ret = acquire(fd, t->pid, &t->handle, NULL);
		if (ret) {
			fail = pid_error(t->pid, ret);
			if (fail == EX_FAILURE) {
				rc = fail;
				goto out;
			}
			continue;
		}
		t->acquired = 1;
		index[acquired++] = i;
	}
	if (!acquired) {
		rc = fail;
		goto out;
	}
	qsort(index, (size_t)acquired, sizeof(*index), cmp_handle);

	/* Already exited (zombies): report them now, in argument order. */
	for (i = 0; i < n; i++) {
		struct target *t = &targets[i];
		struct ph_info info;

		if (!t->acquired)
			continue;
		if (ph_info(fd, t->handle, &info) == 0 &&
		    info.state != PH_STATE_RUNNING) {
			t->done = 1;
			t->status = info.status;
			if (first < 0 || !any)
				report(t, quiet);
			if (first < 0)
				first = i;
		} else {
			remaining++;
		}
	}
	if (verbose)
		msg("waiting for %d process%s", remaining, remaining == 1 ? "" : "es");

	while (remaining && !(any && first >= 0)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct timespec ts, *tsp = NULL;
		int r;

		if (has_timeout) {
			uint64_t now = now_ns(), left = now < deadline ? deadline - now : 0;

			ts.tv_sec = (time_t)(left / 1000000000ULL);
			ts.tv_nsec = (long)(left % 1000000000ULL);
			tsp = &ts;
		}
		r = ppoll(&pfd, 1, tsp, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			msg("poll: %s", strerror(errno));
			rc = EX_FAILURE;
			goto out;
		}
		if (r == 0) {
			for (i = 0; i < n; i++)
				if (targets[i].acquired && !targets[i].done)
					msg("%d: still running, timed out", targets[i].pid);
			rc = EX_TIMEOUT;
			goto out;
		}
		for (;;) {
			int got = ph_read_events(fd, ev, sizeof(ev) / sizeof(ev[0]));

			if (got == -EAGAIN)
				break;
			if (got == -EINTR)
				continue;
			if (got < 0) {
				msg("reading events: %s", ph_strerror(got));
				rc = EX_FAILURE;
				goto out;
			}
			for (c = 0; c < got; c++) {
				int k = find_target(index, acquired, ev[c].handle);
				struct target *t;

				if (k < 0 || targets[k].done)
					continue;
				t = &targets[k];
				t->done = 1;
				t->status = ev[c].status;
				remaining--;
				if (first < 0 || !any)
					report(t, quiet);
				if (first < 0)
					first = k;
			}
			if (any && first >= 0)
				break;
		}
	}
	if (fail)
		rc = fail;
	else if (mode == MODE_WATCH)
		rc = 0;
	else
		rc = status_exit_code(targets[any ? first : n - 1].status);
out:
	/* Closing the table releases every handle. */
	if (fd >= 0)
		ph_close(fd);
	free(index);
	free(targets);
	free(pids);
	return rc;
}

/* ---- kill --------------------------------------------------------------- */

static void list_signals(void)
{
	char buf[32];
	int sig;

	for (sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig < SIGRTMIN && !strncmp(signal_name(sig, buf, sizeof(buf)),
					       "signal ", 7))
			continue;
		printf("%2d %s\n", sig, signal_name(sig, buf, sizeof(buf)) + 3);
	}
}

static int cmd_kill(int argc, char **argv)
{
	int sig = SIGTERM, fail = 0, fd, n, i;
	pid_t *pids;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "-l") || !strcmp(a, "--list")) {
			list_signals();
			return 0;
		}
		if (!strcmp(a, "-s") || !strcmp(a, "--signal") || !strcmp(a, "-n")) {
			if (++i == argc)
				return usage_error("%s needs a signal", a);
			a = argv[i];
		} else if (!strncmp(a, "--signal=", 9)) {
			a += 9;
		} else {
			a++;
		}
		sig = parse_signal(a);
		if (sig < 0)
			return usage_error("'%s': unknown signal", a);
	}
	n = parse_pids(argc - i, argv + i, &pids);
	if (n < 0)
		return EX_FAILURE;
	fd = open_device(0);
	if (fd < 0) {
		free(pids);
		return EX_FAILURE;
	}
	for (i = 0; i < n; i++) {
		__u64 h;
		int ret = acquire(fd, pids[i], &h, NULL);

		if (!ret) {
			ret = ph_signal(fd, h, sig);
			ph_release(fd, h);
		}
		if (ret) {
			fail = pid_error(pids[i], ret);
			if (fail == EX_FAILURE)
				break;
		}
	}
	ph_close(fd);
	free(pids);
	return fail;
}

/* ---- info ------------------------------------------------------------- */

static const char *state_name(__u32 state)
{
	switch (state) {
	case PH_STATE_RUNNING:
		return "running";
	case PH_STATE_EXITED:
		return "exited";
	case PH_STATE_DONE:
		return "done";
	}
	return "unknown";
}

/* /proc/PID/comm, empty when unreadable. */
static void read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	else
		buf[0] = '\0';
	fclose(f);
}

static int cmd_info(int argc, char **argv)
{
	int fail = 0, fd, n, i;
	pid_t *pids;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	i = argc > 1 && !strcmp(argv[1], "--") ? 2 : 1;
	n = parse_pids(argc - i, argv + i, &pids);
	if (n < 0)
		return EX_FAILURE;
	fd = open_device(0);
	if (fd < 0) {
		free(pids);
		return EX_FAILURE;
	}
	for (i = 0; i < n; i++) {
		char comm[64], status[64];
		struct ph_info info;
		__u64 h, ticks, again;
		int ret = acquire(fd, pids[i], &h, &ticks);

		if (!ret)
			ret = ph_info(fd, h, &info);
		if (ret) {
			fail = pid_error(pids[i], ret);
			if (fail == EX_FAILURE)
				break;
			continue;
		}
		/* The name is only ours if the start time still matches. */
		read_comm(pids[i], comm, sizeof(comm));
		if (ph_start_ticks(pids[i], &again) || again != ticks)
			comm[0] = '\0';
		if (info.state == PH_STATE_RUNNING)
			snprintf(status, sizeof(status), "-");
		else
			describe_status(info.status, status, sizeof(status));
		printf("%spid:         %d\n", i ? "\n" : "", pids[i]);
		printf("name:        %s\n", comm[0] ? comm : "-");
		printf("state:       %s\n", state_name(info.state));
		printf("status:      %s\n", status);
		printf("start_time:  %llu.%09llu s after boot (%llu ticks)\n",
		       (unsigned long long)(info.start_time / 1000000000ULL),
		       (unsigned long long)(info.start_time % 1000000000ULL),
		       (unsigned long long)ticks);
		ph_release(fd, h);
	}
	ph_close(fd);
	free(pids);
	return fail;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EX_FAILURE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("prochandle %s\n", PROCHANDLE_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "wait"))
		return wait_or_watch(MODE_WAIT, argc - 1, argv + 1);
	if (!strcmp(cmd, "watch"))
		return wait_or_watch(MODE_WATCH, argc - 1, argv + 1);
	if (!strcmp(cmd, "kill"))
		return cmd_kill(argc - 1, argv + 1);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc - 1, argv + 1);
	return usage_error("'%s': unknown command", cmd);
}
