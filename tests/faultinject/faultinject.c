// SPDX-License-Identifier: GPL-2.0
/*
 * Slab fault injection over every prochandle call that can allocate.
 *
 * For each operation below, and n = 1, 2, 3, ...: arm
 * /proc/self/task/TID/fail-nth with n (the n-th failable allocation of
 * this thread's next system call fails, nothing else does), make the call,
 * disarm.  The loop ends when fail-nth is still armed after the call: the
 * call made fewer than n allocations, so every one of them has been failed
 * once.  For each n the call must either
 *
 *   - fail with ENOMEM, with the counters in /sys/class/misc/prochandle
 *     (files, handles, task_refs) exactly as they were before the call and
 *     no handle created (the table's handle count unchanged), or
 *   - return its normal result (the failed allocation was one the kernel
 *     retries or does without, e.g. kmemleak's or debugobjects' own
 *     metadata),
 *
 * and once the operation's objects are torn down the counters must be back
 * at their baseline.  An operation whose success has more than one right
 * outcome says which it got (op.outcome): a fork of a tracked process
 * either made the child's handle or reported its loss (track_lost and a
 * FORK record with PH_EVENT_F_TRACK_LOST), never neither.
 *
 * failslab (and fail_page_alloc, which fail-nth also counts) is set up so
 * that only this task is ever failed: task-filter on, probability 0 (no
 * random failures anywhere), verbose 0 (an injected failure must not print
 * a stack trace the log scan would take for a splat), and, for failslab,
 * ignore-gfp-wait off (GFP_KERNEL allocations are failable; the default
 * skips them).  kmemleak and debugobjects allocate their own metadata
 * (failable too, and recovered from) next to the allocations under test,
 * not always the same number: the sweep therefore ends only when a whole
 * call went by without reaching its n-th failure point, and an allocating
 * call must have returned ENOMEM at least once.  (6.1's
 * /sys/kernel/slab/NAME/failslab is read-only, so the debugging caches
 * cannot be left out with cache-filter.)  The previous settings are
 * restored on exit.
 *
 * Needs CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS, debugfs and the
 * module loaded; exits 4 (kselftest "skip") without them.  Output is TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/prochandle.h>

#define DEV		"/dev/" PH_DEVICE_NAME
#define SYSDIR		"/sys/class/misc/" PH_DEVICE_NAME "/"
#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc/"
#define MAX_NTH		500
#define MAX_SWEEPS	5	/* sweeps of a creating call, see run_op() */
#define KSFT_SKIP	4

struct counters {
	long files, handles, task_refs;
};

/* What one operation works on; set up afresh for every injection. */
struct ctx {
	int fd;			/* the table the operation uses */
	int fd2;		/* a second table, for the cross-file cases */
	__u64 h;		/* a handle in @fd, when the setup made one */
	__u64 h2;		/* a handle in @fd2, when the setup made one */
	__u64 made;		/* a handle the operation created, to release */
	int opened;		/* an fd the operation opened, to close */
	long track_lost;	/* the track_lost counter before the call */
};

struct op {
	const char *name;
	int (*setup)(struct ctx *c);	/* 0 or -errno */
	int (*call)(struct ctx *c);	/* the call under test: 0 or -errno */
	int handles_delta;		/* table handle count after a success */
	/*
	 * If set: after a success (injection disarmed), whether the outcome
	 * is right, and the table handle count it implies (-1 if wrong).
	 */
	int (*outcome)(struct ctx *c);
};

static pid_t runner;	/* a child that sleeps until killed */
static pid_t zombie;	/* a child that exited and is never reaped */
static int fail_nth_fd = -1;
static int tests, failures;
static int verbose;	/* FAULTINJECT_VERBOSE=1: one line per injection */

static void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static int read_long(const char *path, long *v)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	*v = strtol(buf, NULL, 0);
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		err = -errno;
	close(fd);
	return err;
}

static int read_str(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static void get_counters(struct counters *c)
{
	/* Zeroed first: clang's analyzer cannot see that open() sets errno. */
	memset(c, 0, sizeof(*c));
	if (read_long(SYSDIR "files", &c->files) ||
	    read_long(SYSDIR "handles", &c->handles) ||
	    read_long(SYSDIR "task_refs", &c->task_refs)) {
		printf("Bail out! cannot read the counters in " SYSDIR "\n");
		exit(1);
	}
}

static int same(const struct counters *a, const struct counters *b)
{
	return a->files == b->files && a->handles == b->handles &&
	       a->task_refs == b->task_refs;
}

/*
 * Freeing may be deferred (RCU, work): give the counters up to 3 s to
 * come back to @want.
 */
static int settle(const struct counters *want, struct counters *got)
{
	int i;

	for (i = 0; i < 300; i++) {
		get_counters(got);
		if (same(want, got))
			return 1;
		usleep(10000);
	}
	return 0;
}

/* ---- fault injection ---- */

/* Every failure point fail-nth can hit: quiet, and never random. */
static const struct knob {
	const char *path, *value;
} knobs[] = {
	{ FAILSLAB "task-filter",	"Y" },
	{ FAILSLAB "probability",	"0" },
	{ FAILSLAB "interval",		"1" },
	{ FAILSLAB "times",		"-1" },
	{ FAILSLAB "space",		"0" },
	{ FAILSLAB "verbose",		"0" },
	{ FAILSLAB "cache-filter",	"N" },
	{ FAILSLAB "ignore-gfp-wait",	"N" },
	{ FAIL_PAGE "task-filter",	"Y" },
	{ FAIL_PAGE "probability",	"0" },
	{ FAIL_PAGE "verbose",		"0" },
};
#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))
static char saved[NKNOBS][32];

static void failslab_restore(void)
{
	size_t i;

	for (i = 0; i < NKNOBS; i++)
		if (saved[i][0])
			write_str(knobs[i].path, saved[i]);
}

static int failslab_setup(void)
{
	size_t i;
	int err;

	for (i = 0; i < NKNOBS; i++)
		if (read_str(knobs[i].path, saved[i], sizeof(saved[i])))
			saved[i][0] = 0;
	atexit(failslab_restore);
	for (i = 0; i < NKNOBS; i++) {
		/* fail_page_alloc is optional (CONFIG_FAIL_PAGE_ALLOC). */
		if (!saved[i][0] && !strncmp(knobs[i].path, FAIL_PAGE, strlen(FAIL_PAGE)))
			continue;
		err = write_str(knobs[i].path, knobs[i].value);
		if (err) {
			diag("cannot write %s: %s", knobs[i].path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Arm: the n-th failable allocation of this thread's next call fails. */
static void fail_nth_arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(fail_nth_fd, buf, len, 0) != len) {
		printf("Bail out! fail-nth: %s\n", strerror(errno));
		exit(1);
	}
}

/* Disarm; true if a failure was injected (the count reached 0). */
static int fail_nth_disarm(void)
{
	char buf[16] = "";
	ssize_t n;

	/* Neither pread nor pwrite of fail-nth allocates through failslab. */
	n = pread(fail_nth_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0 || pwrite(fail_nth_fd, "0", 1, 0) != 1) {
		printf("Bail out! fail-nth: %s\n", strerror(errno));
		exit(1);
	}
	buf[n] = 0;
	return strtoul(buf, NULL, 10) == 0;
}

/* ---- the device ---- */

static int ioc_open(void)
{
	int fd = open(DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int ioc_acquire(int fd, pid_t pid, __u64 *h)
{
	struct ph_acquire a = { .pid = pid };

	if (ioctl(fd, PH_IOC_ACQUIRE, &a))
		return -errno;
	*h = a.handle;
	return 0;
}

static int ioc_release(int fd, __u64 h)
{
	return ioctl(fd, PH_IOC_RELEASE, &h) ? -errno : 0;
}

static int ioc_info(int fd, __u64 h, struct ph_info *i)
{
	memset(i, 0, sizeof(*i));
	i->handle = h;
	return ioctl(fd, PH_IOC_INFO, i) ? -errno : 0;
}

/* ---- operations ---- */

static int setup_fd(struct ctx *c)
{
	c->fd = ioc_open();
	return c->fd < 0 ? c->fd : 0;
}

static int setup_handle(struct ctx *c)
{
	int err = setup_fd(c);

	return err ? err : ioc_acquire(c->fd, runner, &c->h);
}

static int setup_zombie_handle(struct ctx *c)
{
	int err = setup_fd(c);

	return err ? err : ioc_acquire(c->fd, zombie, &c->h);
}

/* The runner already has a handle in another table. */
static int setup_other_file(struct ctx *c)
{
	int err;

	c->fd2 = ioc_open();
	if (c->fd2 < 0)
		return c->fd2;
	err = ioc_acquire(c->fd2, runner, &c->h2);
	return err ? err : setup_fd(c);
}

/* 63 ids used (one still live): the next id needs a new xarray level. */
static int setup_xa_grow(struct ctx *c)
{
	__u64 h = 0;
	int err, i;

	err = setup_handle(c);
	for (i = 0; !err && i < 62; i++) {
		err = ioc_acquire(c->fd, runner, &h);
		if (!err)
			err = ioc_release(c->fd, h);
	}
	return err;
}

static int call_open(struct ctx *c)
{
	int fd = ioc_open();

	if (fd < 0)
		return fd;
	c->opened = fd;
	return 0;
}

static int acquire_made(struct ctx *c, pid_t pid)
{
	return ioc_acquire(c->fd, pid, &c->made);
}

static int call_acquire_runner(struct ctx *c)
{
	return acquire_made(c, runner);
}

static int call_acquire_zombie(struct ctx *c)
{
	return acquire_made(c, zombie);
}

static int call_acquire_self(struct ctx *c)
{
	return acquire_made(c, getpid());
}

/* Kill on release allocates its credentials' keeper; the zombie is
 * never killed, so the teardown's close leaves the runner alone. */
static int call_acquire_kor(struct ctx *c)
{
	struct ph_acquire a = { .pid = zombie,
				.flags = PH_ACQUIRE_KILL_ON_RELEASE };
	int err = ioctl(c->fd, PH_IOC_ACQUIRE, &a) ? -errno : 0;

	if (!err)
		c->made = a.handle;
	return err;
}

/* A deadline far away, of a signal the runner ignores. */
static int call_deadline(struct ctx *c)
{
	struct ph_deadline d = { .handle = c->h, .timeout_ns = 60000000000ULL,
				 .sig = SIGWINCH };

	return ioctl(c->fd, PH_IOC_DEADLINE, &d) ? -errno : 0;
}

static int call_acquire_track(struct ctx *c)
{
	struct ph_acquire a = { .pid = runner, .flags = PH_ACQUIRE_TRACK };
	int err = ioctl(c->fd, PH_IOC_ACQUIRE, &a) ? -errno : 0;

	if (!err)
		c->made = a.handle;
	return err;
}

/*
 * This process tracked (its forks make handles in @fd), format V2 with
 * FORK records, O_NONBLOCK for outcome_fork_tracked()'s read.
 */
static int setup_fork_tracked(struct ctx *c)
{
	struct ph_events ev = { .format = PH_EVENTS_V2, .mask = PH_EVENT_FORK };
	struct ph_acquire a = { .pid = getpid(), .flags = PH_ACQUIRE_TRACK };
	int err = setup_fd(c);

	if (err)
		return err;
	if (ioctl(c->fd, PH_IOC_SET_EVENTS, &ev) ||
	    ioctl(c->fd, PH_IOC_ACQUIRE, &a) ||
	    fcntl(c->fd, F_SETFL, O_NONBLOCK))
		return -errno;
	c->h = a.handle;
	return read_long(SYSDIR "track_lost", &c->track_lost);
}

/*
 * A fork of a tracked process: the failable allocations are the fork's
 * own (then ENOMEM), the probe's (GFP_ATOMIC) and, when the forking
 * thread's task work makes the handles, the FORK record, the handle and
 * its tracker.  The child exits at once; it is reaped before the
 * injection is disarmed (wait4 does not allocate through failslab).
 */
static int call_fork_tracked(struct ctx *c)
{
	pid_t pid = fork();

	(void)c;
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(0);
	return waitpid(pid, NULL, 0) == pid ? 0 : -errno;
}

/*
 * The child was tracked (its handle in the table: one handle more) or its
 * loss was reported (track_lost grew, and a FORK record with child 0 and
 * PH_EVENT_F_TRACK_LOST is queued: the table as it was), never neither.
 */
static int outcome_fork_tracked(struct ctx *c)
{
	struct ph_event2 ev[8];
	long lost = 0;
	ssize_t n, i;

	if (read_long(SYSDIR "track_lost", &lost)) {
		diag("fork-tracked: cannot read track_lost");
		return -1;
	}
	n = read(c->fd, ev, sizeof(ev));
	for (i = 0; n > 0 && i < n / (ssize_t)sizeof(ev[0]); i++) {
		if (ev[i].type != PH_EVENT_FORK || ev[i].handle != c->h)
			continue;
		if (ev[i].flags & PH_EVENT_F_TRACK_LOST)
			return lost > c->track_lost && !ev[i].child ? 0 : -1;
		return ev[i].child && lost == c->track_lost ? 1 : -1;
	}
	diag("fork-tracked: no FORK record (read: %zd, track_lost %ld -> %ld)",
	     n, c->track_lost, lost);
	return -1;
}

static int call_release(struct ctx *c)
{
	int err = ioc_release(c->fd, c->h);

	if (!err)
		c->h = 0;
	return err;
}

static int call_signal(struct ctx *c, int sig)
{
	struct ph_signal s = { .handle = c->h, .sig = sig };

	return ioctl(c->fd, PH_IOC_SIGNAL, &s) ? -errno : 0;
}

static int call_signal0(struct ctx *c)
{
	return call_signal(c, 0);
}

static int call_signal_winch(struct ctx *c)
{
	return call_signal(c, SIGWINCH);	/* ignored by the runner */
}

static int call_wait(struct ctx *c, __u32 flags, __u64 timeout_ns)
{
	struct ph_wait w = { .handle = c->h, .flags = flags,
			     .timeout_ns = timeout_ns };

	return ioctl(c->fd, PH_IOC_WAIT, &w) ? -errno : 0;
}

static int call_wait_nohang(struct ctx *c)
{
	return call_wait(c, PH_WAIT_NOHANG, 0);
}

static int call_wait_timeout(struct ctx *c)
{
	return call_wait(c, PH_WAIT_TIMEOUT, 1000000);
}

static int call_wait_zombie(struct ctx *c)
{
	return call_wait(c, 0, 0);
}

static int call_info(struct ctx *c)
{
	struct ph_info i;

	return ioc_info(c->fd, c->h, &i);
}

static int call_read(struct ctx *c)
{
	struct ph_event ev[4];
	ssize_t n;

	n = read(c->fd, ev, sizeof(ev));
	return n < 0 ? -errno : 0;
}

static int call_poll(struct ctx *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	return poll(&p, 1, 0) < 0 ? -errno : 0;
}

/*
 * A zombie's handle with its event queued (queuing may be deferred: wait
 * for it), on a non-blocking file.
 */
static int setup_read(struct ctx *c)
{
	struct pollfd p = { .events = POLLIN };
	int err = setup_zombie_handle(c);

	if (err)
		return err;
	p.fd = c->fd;
	if (poll(&p, 1, 5000) != 1)
		return -ETIME;
	return fcntl(c->fd, F_SETFL, O_NONBLOCK) ? -errno : 0;
}

/* Every call that reaches the module. */
static const struct op ops[] = {
	{ "open",			NULL,			call_open,		0, NULL },
	{ "acquire-first",		setup_fd,		call_acquire_runner,	1, NULL },
	{ "acquire-second",		setup_handle,		call_acquire_runner,	1, NULL },
	{ "acquire-other-file",		setup_other_file,	call_acquire_runner,	1, NULL },
	{ "acquire-xa-grow",		setup_xa_grow,		call_acquire_runner,	1, NULL },
	{ "acquire-zombie",		setup_fd,		call_acquire_zombie,	1, NULL },
	{ "acquire-self",		setup_fd,		call_acquire_self,	1, NULL },
	{ "acquire-kill-on-release",	setup_fd,		call_acquire_kor,	1, NULL },
	{ "acquire-track",		setup_fd,		call_acquire_track,	1, NULL },
	{ "fork-tracked",		setup_fork_tracked,	call_fork_tracked,	1,
	  outcome_fork_tracked },
	{ "deadline",			setup_handle,		call_deadline,		0, NULL },
	{ "release",			setup_handle,		call_release,		-1, NULL },
	{ "signal-0",			setup_handle,		call_signal0,		0, NULL },
	{ "signal-winch",		setup_handle,		call_signal_winch,	0, NULL },
	{ "wait-nohang",		setup_handle,		call_wait_nohang,	0, NULL },
	{ "wait-timeout",		setup_handle,		call_wait_timeout,	0, NULL },
	{ "wait-zombie",		setup_zombie_handle,	call_wait_zombie,	0, NULL },
	{ "info",			setup_handle,		call_info,		0, NULL },
	{ "read",			setup_read,		call_read,		0, NULL },
	{ "poll",			setup_read,		call_poll,		0, NULL },
};

static void teardown(struct ctx *c)
{
	if (c->opened >= 0)
		close(c->opened);
	if (c->fd >= 0)
		close(c->fd);
	if (c->fd2 >= 0)
		close(c->fd2);
}

/* Number of handles in @fd's table, from its fdinfo; -1 if not listed. */
static int table_handles(int fd)
{
	char path[64], line[256];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "handle", 6))
			n++;
	fclose(f);
	return n;
}

static void run_op(const struct op *op)
{
	struct counters base, before, after;
	int ref, r, n, injected, nomem = 0, recovered = 0, bad = 0, sweeps = 0;
	int lost = 0;	/* successes whose outcome was a reported loss */
	int th_before, th_after;
	struct ctx c;

	/* The result without injection is the reference. */
	get_counters(&base);
	memset(&c, 0, sizeof(c));
	c.fd = c.fd2 = c.opened = -1;
	r = op->setup ? op->setup(&c) : 0;
	if (r) {
		printf("not ok %d - %s: setup failed: %s\n", ++tests, op->name,
		       strerror(-r));
		failures++;
		teardown(&c);
		return;
	}
	ref = op->call(&c);
	teardown(&c);
	if (!settle(&base, &after)) {
		printf("not ok %d - %s: counters not at baseline after an uninjected call\n",
		       ++tests, op->name);
		failures++;
		return;
	}

again:
	sweeps++;
	for (n = 1; n <= MAX_NTH; n++) {
		memset(&c, 0, sizeof(c));
		c.fd = c.fd2 = c.opened = -1;
		r = op->setup ? op->setup(&c) : 0;
		if (r) {
			diag("%s n=%d: setup failed: %s", op->name, n, strerror(-r));
			bad++;
			teardown(&c);
			break;
		}
		get_counters(&before);
		th_before = c.fd >= 0 ? table_handles(c.fd) : 0;

		fail_nth_arm(n);
		r = op->call(&c);
		injected = fail_nth_disarm();

		get_counters(&after);
		th_after = c.fd >= 0 ? table_handles(c.fd) : 0;
		if (verbose)
			diag("%s n=%d: %s, %s", op->name, n,
			     injected ? "injected" : "not injected",
			     r ? strerror(-r) : "success");
		if (injected && r == -ENOMEM) {
			nomem++;
			if (!same(&before, &after) && !settle(&before, &after)) {
				diag("%s n=%d: ENOMEM but counters moved: files %ld->%ld handles %ld->%ld task_refs %ld->%ld",
				     op->name, n, before.files, after.files,
				     before.handles, after.handles,
				     before.task_refs, after.task_refs);
				bad++;
			}
			if (th_before != th_after) {
				diag("%s n=%d: ENOMEM but the table went from %d to %d handles",
				     op->name, n, th_before, th_after);
				bad++;
			}
			/* A failed RELEASE leaves the handle usable. */
			if (op->call == call_release) {
				struct ph_info i;

				r = ioc_info(c.fd, c.h, &i);
				if (r) {
					diag("%s n=%d: handle unusable after ENOMEM: %s",
					     op->name, n, strerror(-r));
					bad++;
				}
			}
		} else if (r == ref) {
			int delta = op->handles_delta;

			if (injected)
				recovered++;
			if (!r && op->outcome) {
				delta = op->outcome(&c);
				if (delta < 0) {
					diag("%s n=%d: wrong outcome (injected: %s)",
					     op->name, n, injected ? "yes" : "no");
					bad++;
				}
				lost += delta == 0;
			}
			if (!r && delta >= 0 && th_before >= 0 && th_after >= 0 &&
			    th_after != th_before + delta) {
				diag("%s n=%d: success but the table went from %d to %d handles",
				     op->name, n, th_before, th_after);
				bad++;
			}
		} else {
			diag("%s n=%d: got %s (injected: %s), want %s or ENOMEM",
			     op->name, n, r ? strerror(-r) : "success",
			     injected ? "yes" : "no", ref ? strerror(-ref) : "success");
			bad++;
		}
		teardown(&c);
		if (!settle(&base, &after)) {
			diag("%s n=%d: counters not back at baseline: files %ld/%ld handles %ld/%ld task_refs %ld/%ld",
			     op->name, n, after.files, base.files, after.handles,
			     base.handles, after.task_refs, base.task_refs);
			bad++;
		}
		if (!injected || bad)
			break;
	}
	/*
	 * The debug kernel's own allocations (kmemleak metadata, debug
	 * objects, slab pages) also count for fail-nth, and how many there
	 * are varies from run to run: one sweep can miss the module's
	 * allocation.  Sweep again before calling that a failure.
	 */
	if (!bad && op->handles_delta > 0 && !nomem && n <= MAX_NTH &&
	    sweeps < MAX_SWEEPS)
		goto again;
	/* An operation that creates something must have met an ENOMEM. */
	if (!bad && op->handles_delta > 0 && !nomem) {
		diag("%s: no injected failure reached the caller: fault injection not working?",
		     op->name);
		bad++;
	}
	if (n > MAX_NTH) {
		diag("%s: still injecting after %d allocations", op->name, MAX_NTH);
		bad++;
	}
	tests++;
	if (bad)
		failures++;
	if (op->outcome)
		diag("%s: %d successes reported the loss of what they made",
		     op->name, lost);
	printf("%s %d - %s (%s): %d allocations failed in turn, %d ENOMEM, %d recovered\n",
	       bad ? "not ok" : "ok", tests, op->name, ref ? strerror(-ref) : "success",
	       n - 1, nomem, recovered);
	fflush(stdout);
}

static pid_t spawn(int exit_now)
{
	pid_t pid = fork();

	if (pid < 0) {
		printf("Bail out! fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (exit_now)
			_exit(7);
		for (;;)
			pause();
	}
	return pid;
}

int main(void)
{
	char path[64];
	siginfo_t si;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	verbose = getenv("FAULTINJECT_VERBOSE") != NULL;
	printf("TAP version 13\n");
	if (access(FAILSLAB "ignore-gfp-wait", W_OK)) {
		printf("1..0 # SKIP no failslab in debugfs (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)\n");
		return KSFT_SKIP;
	}
	if (access(DEV, R_OK | W_OK) || access(SYSDIR "handles", R_OK)) {
		printf("1..0 # SKIP " DEV " or its counters missing (module not loaded?)\n");
		return KSFT_SKIP;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	fail_nth_fd = open(path, O_RDWR | O_CLOEXEC);
	if (fail_nth_fd < 0) {
		printf("1..0 # SKIP %s: %s\n", path, strerror(errno));
		return KSFT_SKIP;
	}
	if (failslab_setup()) {
		printf("Bail out! cannot configure failslab\n");
		return 1;
	}

	runner = spawn(0);
	zombie = spawn(1);
	/* Wait for the exit without reaping: it stays a zombie. */
	if (waitid(P_PID, zombie, &si, WEXITED | WNOWAIT)) {
		printf("Bail out! waitid: %s\n", strerror(errno));
		return 1;
	}

	printf("1..%zu\n", sizeof(ops) / sizeof(ops[0]));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		run_op(&ops[i]);

	kill(runner, SIGKILL);
	waitpid(runner, NULL, 0);
	waitpid(zombie, NULL, 0);
	printf("# Totals: pass:%d fail:%d\n", tests - failures, failures);
	return failures ? 1 : 0;
}
