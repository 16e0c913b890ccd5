// SPDX-License-Identifier: GPL-2.0
/*
 * The calls into the device: every ioctl with random (valid, stale and
 * garbage) handles, flags, sizes and signal numbers, its argument in good
 * memory, unmapped memory, a read-only page or straddling the end of a
 * mapping; read(), poll() and fdinfo.
 *
 * Safety rule: a "kill" table holds handles only on our own children
 * (acquired while they cannot have been reaped, or through a pidfd), so a
 * real signal, a kill-on-release or a deadline sent through any id in it,
 * stale or garbage, hits only our own children.  A "probe" table may hold
 * any process (init, ourselves, random pids); through it only signal 0 or
 * invalid arguments are ever sent, and no kill-on-release.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define PAGE		4096UL
#define GUARD(t)	((t)->buf + (BUFPAGES - 1) * PAGE)
#define E(...)		((const int[]){ __VA_ARGS__, 0 })

/* Every ioctl may fail so, whatever its command: a bad pointer, a size
 * below its first version, a non-zero tail, wrong direction, a file
 * opened without the right (SPEC 8). */
#define IOC_ERRS	EFAULT, EINVAL, E2BIG, ENOTTY, EBADF

#ifndef PH_ACQUIRE_KILL_ON_RELEASE
#define PH_ACQUIRE_KILL_ON_RELEASE	0
#endif
#ifndef PH_ACQUIRE_TRACK
#define PH_ACQUIRE_TRACK		0
#endif
#ifndef PH_ACQUIRE_PIDFD
#define PH_ACQUIRE_PIDFD		0
#endif

int pick_slot(struct thread *t, int kill)
{
	int i = below(&t->rng, NSLOTS), n;

	for (n = 0; n < NSLOTS; n++, i = (i + 1) % NSLOTS)
		if (kill < 0 || t->w->slot[i].kill == kill)
			return i;
	return 0;
}

void remember_id(struct worker *w, struct slot *s, uint64_t id)
{
	pthread_mutex_lock(&w->lock);
	s->ids[s->nids++ % NIDS] = id;
	pthread_mutex_unlock(&w->lock);
}

/* A valid, stale or garbage handle id. */
uint64_t pick_id(struct thread *t, struct slot *s)
{
	struct slot *o = &t->w->slot[below(&t->rng, NSLOTS)];
	unsigned int k = below(&t->rng, 100);
	uint64_t id = 0;

	pthread_mutex_lock(&t->w->lock);
	if (k < 70 && s->nids)
		id = s->ids[below(&t->rng, s->nids < NIDS ? s->nids : NIDS)];
	else if (k < 78 && o->nids)	/* another table's: stale here */
		id = o->ids[below(&t->rng, o->nids < NIDS ? o->nids : NIDS)];
	pthread_mutex_unlock(&t->w->lock);
	if (id || k < 78)
		return id + (k == 77);
	switch (k % 5) {
	case 0: return 0;
	case 1: return below(&t->rng, 300);
	case 2: return ~0ULL - below(&t->rng, 3);
	case 3: return 1ULL << below(&t->rng, 64);
	default: return rnd(&t->rng);
	}
}

/*
 * Make the command: mostly the published one; else another encoded size
 * (smaller than the first version, larger, up to the 14-bit maximum), the
 * wrong direction, or another number.
 */
static unsigned long mkcmd(struct thread *t, unsigned long cmd, size_t *usize)
{
	static const size_t sizes[] = { 0, 1, 4, 8, 16, 40, 48, 64, 128, 4096, 16383 };
	unsigned int k = below(&t->rng, 100);
	unsigned long dir = _IOC_DIR(cmd), nr = _IOC_NR(cmd);
	size_t size = _IOC_SIZE(cmd);

	if (k >= 80 && k < 90)
		size = chance(&t->rng, 50) ? sizes[below(&t->rng, 11)] :
			size + 8 * below(&t->rng, 8);
	else if (k >= 90 && k < 95)
		dir = below(&t->rng, 4);
	else if (k >= 95)
		size = below(&t->rng, 1 << 14);
	*usize = size;
	return _IOC(dir, PH_IOC_MAGIC, nr, size);
}

/*
 * Put @len bytes of @arg where the call will find them for an encoded size
 * of @usize: right before the guard page (so reading past @usize faults),
 * with a zero tail or now and then a non-zero byte in it; or at NULL, a
 * kernel address, the guard page, straddling into it, or a read-only page.
 */
static void *place(struct thread *t, const void *arg, size_t len, size_t usize,
		   bool *good)
{
	unsigned int k = below(&t->rng, 100);
	unsigned char *p;
	size_t n;

	*good = false;
	if (usize > (BUFPAGES - 1) * PAGE)
		usize = (BUFPAGES - 1) * PAGE;
	n = len < usize ? len : usize;
	if (k < 82) {
		p = GUARD(t) - usize;
		memset(p, 0, usize);
		memcpy(p, arg, n);
		if (usize > len && chance(&t->rng, 10))
			p[len + below(&t->rng, usize - len)] = 1 + below(&t->rng, 255);
		*good = true;
		return p;
	}
	if (k < 85)	/* NULL, or a kernel address */
		return (void *)(uintptr_t)(k == 82 ? 0 : 0xffff888000000000ULL); /* NOLINT(performance-no-int-to-ptr) */
	if (k < 88)
		return GUARD(t);
	if (k < 94 && usize > 1) {	/* the first bytes readable */
		p = GUARD(t) - 1 - below(&t->rng, usize - 1);
		memcpy(p, arg, (size_t)(GUARD(t) - p) < n ? (size_t)(GUARD(t) - p) : n);
		return p;
	}
	mprotect(t->ro, PAGE, PROT_READ | PROT_WRITE);
	memset(t->ro, 0, PAGE);
	memcpy(t->ro, arg, n < PAGE ? n : PAGE);
	mprotect(t->ro, PAGE, PROT_READ);
	return t->ro;
}

/* A process id for ACQUIRE: our child in a kill table (the caller holds
 * the worker's lock so it cannot be reaped meanwhile), else anyone. */
static int32_t pick_pid(struct thread *t, bool kill)
{
	pid_t kid = pick_kid(t);

	if (kill)	/* a copy's kids are not its own: they may be reaped */
		return kid > 0 && !t->w->forked_copy ? kid : -1;
	switch (below(&t->rng, 9)) {
	case 0: return 1;
	case 1: return getpid();
	case 2: return getppid();
	case 3: return 2;		/* kthreadd */
	case 4: return 0;
	case 5: return -(int32_t)below(&t->rng, 5) - 1;
	case 6: return INT_MAX;
	case 7: return 1 + below(&t->rng, 1100);
	default: return kid > 0 ? kid : 1;
	}
}

static uint32_t acquire_flags(struct thread *t, bool kill)
{
	static const uint32_t valid[] = {
		0, 0, PH_ACQUIRE_STARTTIME, PH_ACQUIRE_STARTTIME_TICKS,
		PH_ACQUIRE_KILL_ON_RELEASE, PH_ACQUIRE_TRACK,
		PH_ACQUIRE_TRACK | PH_ACQUIRE_KILL_ON_RELEASE, PH_ACQUIRE_PIDFD,
		PH_ACQUIRE_PIDFD | PH_ACQUIRE_KILL_ON_RELEASE,
	};
	uint32_t f = chance(&t->rng, 85) ? valid[below(&t->rng, 9)] :
		(uint32_t)rnd(&t->rng) >> below(&t->rng, 32);

	if (!kill)	/* never kill anything but our own children (SPEC 11's
			 * bit, even where the header lacks it) */
		f &= ~(1U << 2);
	return f;
}

static long do_acquire(struct thread *t, struct slot *s, int *err)
{
	struct ph_acquire a = { 0 };
	size_t usize;
	unsigned long cmd = mkcmd(t, PH_IOC_ACQUIRE, &usize);
	int pidfd = -1;
	bool good;
	void *p;
	long ret;

	a.flags = acquire_flags(t, s->kill);
	pthread_mutex_lock(&t->w->lock);	/* no reap until it is done */
	a.pid = pick_pid(t, s->kill);
	if (a.flags & PH_ACQUIRE_PIDFD) {
		if (a.pid > 0 && chance(&t->rng, 80))
			pidfd = sys_pidfd_open(a.pid);
		a.pid = pidfd >= 0 ? pidfd : (s->kill ? -1 : s->fd);
	}
	if (chance(&t->rng, 15))
		a.start_time = chance(&t->rng, 50) ? below(&t->rng, 100000) : rnd(&t->rng);
	if (chance(&t->rng, 4))
		a.reserved[below(&t->rng, 2)] = 1 + below(&t->rng, 9);
	p = place(t, &a, sizeof(a), usize, &good);
	ret = ioctl(s->fd, cmd, p);
	*err = errno;
	pthread_mutex_unlock(&t->w->lock);
	if (pidfd >= 0)
		close(pidfd);
	if (!ret && good) {
		memcpy(&a, p, sizeof(a) < usize ? sizeof(a) : usize);
		if (!a.handle) {
			printf("# ACQUIRE returned handle 0\n");
			atomic_fetch_add(&stats->unexpected, 1);
		}
		remember_id(t->w, s, a.handle);
	}
	return ret;
}

static int pick_sig(struct thread *t, bool kill)
{
	static const int sigs[] = { 0, SIGKILL, SIGTERM, SIGSTOP, SIGCONT, SIGUSR1, SIGCHLD };

	if (kill && chance(&t->rng, 80))
		return chance(&t->rng, 70) ? sigs[below(&t->rng, 7)] :
			(int)below(&t->rng, 65);
	switch (below(&t->rng, 4)) {	/* 0 or invalid: changes nothing */
	case 0: return 0;
	case 1: return -1 - (int)below(&t->rng, 3);
	case 2: return 65 + (int)below(&t->rng, 100);
	default: return (int)(rnd(&t->rng) | 0x80000000u);
	}
}

/* A time too far to ever come: it must neither overflow nor fire. */
static uint64_t pick_huge_ns(struct thread *t)
{
	static const uint64_t huge[] = {
		~0ULL, 1ULL << 63, (1ULL << 63) - 1, 1ULL << 62,
		365ULL * 24 * 3600 * 1000000000ULL,
	};

	return huge[below(&t->rng, 5)] - below(&t->rng, 2);
}

/* NOLINTBEGIN(bugprone-macro-parentheses): @var is a declarator */
#define ARG(type, var, ioc, fill) do {					\
		type var = { 0 };					\
		cmd = mkcmd(t, ioc, &usize);				\
		fill;							\
		p = place(t, &var, sizeof(var), usize, &good);		\
	} while (0)
/* NOLINTEND(bugprone-macro-parentheses) */

static long do_other(struct thread *t, struct slot *s, enum op op, int *err)
{
	unsigned long cmd = 0;
	size_t usize = 0;
	bool good, block = false;
	void *p = NULL;
	long ret;

	switch (op) {
	case OP_RELEASE:
		ARG(uint64_t, h, PH_IOC_RELEASE, h = pick_id(t, s));
		break;
	case OP_SIGNAL:
		ARG(struct ph_signal, a, PH_IOC_SIGNAL, ({
			a.handle = pick_id(t, s);
			a.sig = pick_sig(t, s->kill);
			if (chance(&t->rng, 4))
				a.flags = 1u << below(&t->rng, 32);
			if (chance(&t->rng, 4))
				a.reserved = rnd(&t->rng);
		}));
		break;
	case OP_WAIT:
		ARG(struct ph_wait, a, PH_IOC_WAIT, ({
			a.handle = pick_id(t, s);
			a.flags = below(&t->rng, 3);
			if (chance(&t->rng, 5))
				a.flags = rnd(&t->rng);
			if (a.flags & PH_WAIT_TIMEOUT || chance(&t->rng, 4))
				a.timeout_ns = below(&t->rng, 20000000);
			if (chance(&t->rng, 4))
				a.reserved = 1;
			block = !a.flags;
		}));
		break;
	case OP_INFO:
		ARG(struct ph_info, a, PH_IOC_INFO, ({
			a.handle = pick_id(t, s);
			if (chance(&t->rng, 4))
				a.pad = 1;
			if (chance(&t->rng, 4))
				a.reserved[below(&t->rng, 2)] = rnd(&t->rng);
		}));
		break;
#ifdef PH_IOC_SET_EVENTS
	case OP_SET_EVENTS:
		ARG(struct ph_events, a, PH_IOC_SET_EVENTS, ({
			static const uint32_t fmt[] = { 0, 2, 0, 2, 1, 3 };

			a.format = chance(&t->rng, 90) ? fmt[below(&t->rng, 6)] : rnd(&t->rng);
			a.mask = chance(&t->rng, 85) ? below(&t->rng, 8) & ~1u : rnd(&t->rng);
			if (chance(&t->rng, 4))
				a.reserved[below(&t->rng, 2)] = 1;
		}));
		break;
#endif
#ifdef PH_IOC_DEADLINE
	case OP_DEADLINE:
		ARG(struct ph_deadline, a, PH_IOC_DEADLINE, ({
			/* cancel, fire soon, or (huge) never: ktime clamps */
			a.handle = pick_id(t, s);
			a.timeout_ns = chance(&t->rng, 20) ? 0 :
				chance(&t->rng, 10) ? pick_huge_ns(t) :
				1000000 + below(&t->rng, 50000000);
			a.sig = pick_sig(t, s->kill);
			a.grace_ns = chance(&t->rng, 50) ? 0 :
				chance(&t->rng, 10) ? pick_huge_ns(t) :
				below(&t->rng, 20000000);
			if (chance(&t->rng, 4))
				a.flags = 1u << below(&t->rng, 32);
			if (chance(&t->rng, 4))
				a.reserved = 1;
			if (!s->kill)	/* only ever rejected here */
				a.flags |= 1u << below(&t->rng, 32);
		}));
		break;
#endif
	default:		/* an unknown command, or one not built in */
		usize = below(&t->rng, 64);
		cmd = _IOC(below(&t->rng, 4), chance(&t->rng, 80) ? PH_IOC_MAGIC :
			   0xB8 + 2 * below(&t->rng, 2), 0x20 + below(&t->rng, 0xe0), usize);
		if (chance(&t->rng, 10))
			cmd = _IOC(_IOC_NONE, PH_IOC_MAGIC, 0, 0);
		p = GUARD(t) - usize;
		break;
	}
	if (block)
		arm_timer(t);
	ret = ioctl(s->fd, cmd, p);
	*err = errno;
	if (block)
		disarm_timer(t);
	(void)good;
	return ret;
}

void op_ioctl(struct thread *t, enum op op)
{
	const int *const allowed[] = {
		[OP_ACQUIRE] = E(IOC_ERRS, ESRCH, EPERM, EMFILE, ENOMEM),
		[OP_RELEASE] = E(IOC_ERRS),
		[OP_SIGNAL] = E(IOC_ERRS, ESRCH, EPERM),
		[OP_WAIT] = E(IOC_ERRS, EAGAIN, ETIMEDOUT, EINTR),
		[OP_INFO] = E(IOC_ERRS),
		[OP_SET_EVENTS] = E(IOC_ERRS, ENOMEM),
		[OP_DEADLINE] = E(IOC_ERRS, ESRCH, EPERM, ENOMEM),
		[OP_BADCMD] = E(ENOTTY, EBADF),
	};
	int i = pick_slot(t, -1), err = 0;
	struct slot *s = &t->w->slot[i];
	long ret;

#ifndef PH_IOC_SET_EVENTS
	if (op == OP_SET_EVENTS)
		op = OP_BADCMD;
#endif
#ifndef PH_IOC_DEADLINE
	if (op == OP_DEADLINE)
		op = OP_BADCMD;
#endif
	if (op == OP_ACQUIRE)
		ret = do_acquire(t, s, &err);
	else
		ret = do_other(t, s, op, &err);
	count(op, ret, err, allowed[op]);
}

void op_read(struct thread *t)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 32, 48, 64, 100, 256, 4096, 16384 };
	struct slot *s = &t->w->slot[pick_slot(t, -1)];
	size_t len = sizes[below(&t->rng, 12)];
	bool good;
	void *p = place(t, "", 0, len, &good);
	ssize_t n;

	arm_timer(t);
	n = read(s->fd, p, len);
	count(OP_READ, n < 0 ? -1 : 0, errno, E(EAGAIN, EINVAL, EFAULT, EINTR, EBADF));
	disarm_timer(t);
	if (n > (ssize_t)len) {
		printf("# read returned %zd for %zu bytes\n", n, len);
		atomic_fetch_add(&stats->unexpected, 1);
	}
}

void op_poll(struct thread *t)
{
	struct pollfd pfd[3];
	int i, n = 1 + below(&t->rng, 3);

	for (i = 0; i < n; i++) {
		pfd[i].fd = t->w->slot[pick_slot(t, -1)].fd;
		pfd[i].events = POLLIN | (chance(&t->rng, 20) ? POLLOUT : 0);
	}
	i = poll(pfd, n, below(&t->rng, 3));
	count(OP_POLL, i < 0 ? -1 : 0, errno, E(EINTR));
}

void op_fdinfo(struct thread *t)
{
	char path[64], buf[4096];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d",
		 t->w->slot[pick_slot(t, -1)].fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	count(OP_FDINFO, fd < 0 ? -1 : 0, errno, E(ENOENT));
}
