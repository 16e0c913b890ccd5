// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers shared by the prochandle commands: messages, parsing, operands,
 * reading events.  Error texts come from ph_strerror(); this file only adds
 * the operand they are about, and maps errors to exit codes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const char *prog = "prochandle";

void msg(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int usage_error(const char *fmt, ...)
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
int parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ULL }, { "", 1000000000ULL },
		{ "m", 60000000000ULL }, { "min", 60000000000ULL },
		{ "h", 3600000000000ULL }, { "d", 86400000000000ULL },
	};
	uint64_t ip = 0, frac = 0, scale = 1, mult = 0, res;
	unsigned __int128 f;
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
	if (!mult || ip > UINT64_MAX / mult)
		return -1;
	res = ip * mult;
	/* frac/scale * mult, without overflow: frac < scale <= 1e18. */
	f = (unsigned __int128)frac * mult / scale;
	if (f > UINT64_MAX - res)
		return -1;
	*ns = res + (uint64_t)f;
	return 0;
}

int parse_number(const char *s, long min, long max, long *out)
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

/*
 * Signal names are glibc's (sigabbrev_np()); these older spellings are
 * accepted as well but never printed.
 */
static const struct { int sig; const char *name; } sig_aliases[] = {
	{ SIGABRT, "IOT" }, { SIGIO, "IO" }, { SIGCHLD, "CLD" },
};

/* A signal name (any case, with or without SIG) or number; -1 if bad. */
int parse_signal(const char *s)
{
	const char *abbrev;
	long v;
	int sig;
	size_t i;

	if (!parse_number(s, 0, SIGRTMAX, &v))
		return (int)v;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (sig = 1; sig < SIGRTMIN; sig++) {
		abbrev = sigabbrev_np(sig);
		if (abbrev && !strcasecmp(s, abbrev))
			return sig;
	}
	for (i = 0; i < sizeof(sig_aliases) / sizeof(sig_aliases[0]); i++)
		if (!strcasecmp(s, sig_aliases[i].name))
			return sig_aliases[i].sig;
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

/* "SIGTERM", "SIGRTMIN+3", or "signal N" for a number without a name. */
const char *signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else if (sig == SIGRTMIN)
		snprintf(buf, len, "SIGRTMIN");
	else if (sig > SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

void describe_status(int status, char *buf, size_t len)
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
int status_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EX_FAILURE;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CLOCK_BOOTTIME ns: the clock of the exit record's exit_time. */
uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- operands ---------------------------------------------------------- */

int parse_target(const char *s, struct target *t)
{
	const char *at = strchr(s, '@');
	char num[24];
	long v;

	memset(t, 0, sizeof(*t));
	if (at) {
		unsigned long long ticks;
		char *end;

		if ((size_t)(at - s) >= sizeof(num) || at[1] < '0' || at[1] > '9')
			return -1;
		memcpy(num, s, (size_t)(at - s));
		num[at - s] = '\0';
		errno = 0;
		ticks = strtoull(at + 1, &end, 10);
		if (errno || *end)
			return -1;
		t->pinned = 1;
		t->ticks = ticks;
		s = num;
	}
	if (parse_number(s, 1, INT_MAX, &v))
		return -1;
	t->pid = (pid_t)v;
	if (t->pinned)
		snprintf(t->name, sizeof(t->name), "%d@%llu", t->pid,
			 (unsigned long long)t->ticks);
	else
		snprintf(t->name, sizeof(t->name), "%d", t->pid);
	return 0;
}

int parse_targets(int argc, char **argv, struct target **out)
{
	struct target *t;
	int i;

	if (argc < 1) {
		usage_error("no PID given");
		return -1;
	}
	t = calloc((size_t)argc, sizeof(*t));
	if (!t) {
		msg("out of memory");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (parse_target(argv[i], &t[i])) {
			usage_error("'%s': not a process id (PID or PID@START)", argv[i]);
			free(t);
			return -1;
		}
	}
	*out = t;
	return argc;
}

/*
 * A bare PID is looked up once, by the kernel, at ACQUIRE: the handle is
 * for whoever has the number at that instant.  (Pinning it to a start
 * time read just before would only move that instant, not make it the
 * process the user meant.)  PID@START is refused unless the number still
 * names the process that started then.
 */
int acquire_target(int fd, const struct target *t, __u64 *handle)
{
	if (t->pinned)
		return ph_acquire_ticks(fd, t->pid, t->ticks, handle);
	return ph_acquire(fd, t->pid, handle);
}

int target_error(const struct target *t, int err)
{
	switch (err) {
	case -EINVAL:
		/* ACQUIRE's only EINVAL for a valid operand. */
		msg("%s: not a process (a thread of another process)", t->name);
		return EX_NOPROC;
	case -ESRCH:
		msg("%s: %s", t->name, ph_strerror(err));
		return EX_NOPROC;
	case -EPERM:
	case -EACCES:
		msg("%s: %s", t->name, ph_strerror(-EPERM));
		return EX_NOPERM;
	default:
		msg("%s: %s", t->name, ph_strerror(err));
		return EX_FAILURE;
	}
}

__u64 info_start_ticks(const struct ph_info *info)
{
	/* The kernel's nsec_to_clock_t(): USER_HZ divides NSEC_PER_SEC. */
	long hz = sysconf(_SC_CLK_TCK);

	return info->start_time / (1000000000ULL / (__u64)(hz > 0 ? hz : 100));
}

/* Read queued events as V2 records (V1 ones get an empty exit record). */
static int read_events(int fd, int v2, struct ph_event2 *ev, unsigned int max)
{
	struct ph_event v1[64];
	int got, i;

	if (v2)
		return ph_read_events2(fd, ev, max, sizeof(*ev));
	got = ph_read_events(fd, v1, max < 64 ? max : 64);
	for (i = 0; i < got; i++) {
		memset(&ev[i], 0, sizeof(ev[i]));
		ev[i].handle = v1[i].handle;
		ev[i].status = v1[i].status;
	}
	return got;
}

int read_each_event(int fd, int v2, event_fn fn, void *arg)
{
	struct ph_event2 ev[64];
	int got, i, stop;

	for (;;) {
		got = read_events(fd, v2, ev, sizeof(ev) / sizeof(ev[0]));
		if (got == -EAGAIN)
			return 0;
		if (got == -EINTR)
			continue;
		if (got < 0) {
			msg("reading events: %s", ph_strerror(got));
			return got;
		}
		stop = 0;
		for (i = 0; i < got; i++)
			stop |= fn(&ev[i], arg);
		if (stop)
			return 0;
	}
}

int open_device(unsigned int flags)
{
	int fd = ph_open(flags);

	if (fd < 0)
		msg("%s: %s", PH_DEVICE_PATH, ph_strerror(fd));
	return fd;
}
