// SPDX-License-Identifier: GPL-2.0
/*
 * The exit record (SPEC §10), how a process ended: the killer checked
 * against the siginfo a handler in the dying process saw for the same
 * sender's previous signal (kill, sigqueue, tgkill of one thread, another
 * user's kill, a real SIGSEGV), pid and user namespaces that hide or
 * translate the sender; the OOM killer's choice against its own report in
 * the kernel log (a memory cgroup); core dumps against WCOREDUMP of the
 * parent's status, and SIGKILL during a core dump.
 *
 * Also built -m32 (prochandle_killer_test_32).
 */
#include <sys/mount.h>

#include "ph_exit.h"

/* --------------------------------------------------------------------- */
/* the killer, against the siginfo the dying process saw                 */

struct seen {
	int signo, code;
	pid_t pid;
	uid_t uid;
};

static int seen_fd = -1;

static void seen_handler(int sig, siginfo_t *si, void *uc)
{
	struct seen s = { sig, si->si_code, si->si_pid, si->si_uid };

	(void)uc;
	if (write(seen_fd, &s, sizeof(s)) != sizeof(s))
		_exit(98);
}

static pid_t second_tid;

static void *tid_thread(void *arg)
{
	__atomic_store_n(&second_tid, ph_gettid(), __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return arg;
}

/*
 * fork() a child with seen_handler installed for @sig: SA_SIGINFO, and
 * SA_RESETHAND, so that the first @sig is reported and the next is fatal.
 * Returns 0 in the child, whose reports (and anything else it writes to
 * seen_fd) *@rep reads in the parent; the child's pid in the parent; -1 on
 * failure.
 */
static pid_t fork_seen(int sig, int *rep)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = {
			.sa_sigaction = seen_handler,
			.sa_flags = SA_SIGINFO | SA_RESETHAND,
		};

		close(p[0]);
		seen_fd = p[1];
		if (sigaction(sig, &sa, NULL))
			_exit(94);
		return 0;
	}
	close(p[1]);
	if (pid < 0)
		close(p[0]);
	else
		*rep = p[0];
	return pid;
}

/*
 * A child (as @uid unless 0) that reports the siginfo of the first @sig it
 * gets, and dies of the next one.  With @thread, a second thread is started
 * and its tid sent first.  Returns its pid; *@rep reads the reports.
 */
static pid_t spawn_observer(int sig, uid_t uid, bool thread, int *rep)
{
	pid_t pid = fork_seen(sig, rep);

	if (pid == 0) {
		pthread_t t;
		pid_t tid;

		if (uid && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
			_exit(97);
		if (thread) {
			/* the second thread's tid, for tgkill() */
			pthread_create(&t, NULL, tid_thread, NULL);
			if (!ph_until(__atomic_load_n(&second_tid, __ATOMIC_SEQ_CST),
				      10000))
				_exit(96);
			tid = __atomic_load_n(&second_tid, __ATOMIC_SEQ_CST);
			if (write(seen_fd, &tid, sizeof(tid)) != sizeof(tid))
				_exit(96);
		}
		if (write(seen_fd, "r", 1) != 1)
			_exit(95);
		for (;;)
			pause();
	}
	return pid;
}

static void expect_killer(struct __test_metadata *_metadata,
			  const struct ph_exit *e, const struct seen *s,
			  int status, int sig)
{
	TH_LOG("killer pid %d uid %u code %d flags %#x; siginfo pid %d uid %u code %d",
	       e->killer_pid, e->killer_uid, e->kill_code, e->exit_flags,
	       s->pid, s->uid, s->code);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(sig, WTERMSIG(status));
	EXPECT_EQ(PH_EXIT_F_VALID | PH_EXIT_F_KILLER, e->exit_flags);
	EXPECT_EQ(s->code, e->kill_code);
	EXPECT_EQ(s->pid, e->killer_pid);
	EXPECT_EQ(s->uid, e->killer_uid);
}

/* Send @sig twice by @how; the first is observed, the second kills. */
static void killer_case(struct __test_metadata *_metadata,
			FIXTURE_DATA(ph) *self, int sig, int how)
{
	union sigval v = { .sival_int = 42 };
	struct ph_info info;
	struct seen s;
	int rep, st, i;
	pid_t pid, tid = 0;
	char r;
	__u64 h;

	pid = spawn_observer(sig, 0, how == SI_TKILL, &rep);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	if (how == SI_TKILL) {
		ASSERT_EQ(sizeof(tid), ph_read_timeout(rep, &tid, sizeof(tid), 10000));
		EXPECT_NE(pid, tid);
	}
	ASSERT_EQ(1, ph_read_timeout(rep, &r, 1, 10000));
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	for (i = 0; i < 2; i++) {
		int r;

		if (how == SI_USER)
			r = kill(pid, sig);
		else if (how == SI_QUEUE)
			r = sigqueue(pid, sig, v);
		else
			r = syscall(SYS_tgkill, pid, tid, sig);
		ASSERT_EQ(0, r);
		if (!i)
			ASSERT_EQ(sizeof(s), ph_read_timeout(rep, &s, sizeof(s), 10000));
	}
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	ASSERT_EQ(0, ioc_info(self->fd, h, &info));
	EXPECT_EQ(st, ph_reap(pid));
	EXPECT_EQ(how, s.code);
	EXPECT_EQ(getpid(), s.pid);
	expect_killer(_metadata, &info.exit, &s, st, sig);
	close(rep);
}

TEST_F(ph, killer_kill)
{
	killer_case(_metadata, self, SIGTERM, SI_USER);
}

TEST_F(ph, killer_sigqueue)
{
	killer_case(_metadata, self, SIGUSR1, SI_QUEUE);
}

TEST_F(ph, killer_tgkill_one_thread)
{
	killer_case(_metadata, self, SIGINT, SI_TKILL);
}

/* A real-time signal is fatal by default too. */
TEST_F(ph, killer_realtime_signal)
{
	killer_case(_metadata, self, SIGRTMIN + 3, SI_USER);
}

/* Exited by itself, or killed before the record observed it: no killer. */
TEST_F(ph, killer_unknown_or_none)
{
	struct ph_info info;
	struct ph_kid k;
	int st;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, kill(k.pid, SIGTERM));
	ASSERT_EQ(0, ph_wait_zombie(k.pid));
	/* the signal came before any handle: acquired as a zombie */
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, ioc_wait(self->fd, h, PH_WAIT_NOHANG, 0, &st));
	ASSERT_EQ(0, ioc_info(self->fd, h, &info));
	EXPECT_EQ(SIGTERM, WTERMSIG(st));
	EXPECT_EQ(PH_EXIT_F_VALID, info.exit.exit_flags);
	EXPECT_EQ(0, info.exit.kill_code);
	EXPECT_EQ(0, info.exit.killer_pid);
	EXPECT_EQ(0, info.exit.killer_uid);
	EXPECT_EQ(st, ph_reap(k.pid));
	ph_kid_close(&k);
}

/* Another signal's sender is not the killer: the last fatal one's is. */
TEST_F(ph, killer_other_signal_not_reported)
{
	union sigval v = { .sival_int = 1 };
	struct ph_info info;
	int rep, st;
	struct seen s;
	pid_t pid, other;
	char r;
	__u64 h;

	pid = spawn_observer(SIGUSR1, 0, false, &rep);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	ASSERT_EQ(1, ph_read_timeout(rep, &r, 1, 10000));
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	/* SIGUSR1 (fatal by default, caught here) from another process */
	other = fork();
	ASSERT_LE(0, other);
	if (other == 0)
		_exit(sigqueue(pid, SIGUSR1, v) ? 1 : 0);
	ASSERT_EQ(0, ph_reap(other));
	ASSERT_EQ(sizeof(s), ph_read_timeout(rep, &s, sizeof(s), 10000));
	EXPECT_EQ(other, s.pid);
	/* then SIGKILL through the handle: kill(2) semantics, from us */
	ASSERT_EQ(0, ioc_signal(self->fd, h, SIGKILL));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	ASSERT_EQ(0, ioc_info(self->fd, h, &info));
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	EXPECT_EQ(PH_EXIT_F_VALID | PH_EXIT_F_KILLER, info.exit.exit_flags);
	EXPECT_EQ(getpid(), info.exit.killer_pid);
	EXPECT_EQ(getuid(), info.exit.killer_uid);
	EXPECT_EQ(SI_USER, info.exit.kill_code);
	EXPECT_EQ(st, ph_reap(pid));
	close(rep);
}

/*
 * A generation the kernel drops (the signal already pending) is not the
 * killer: the process dies of the queued one, and its siginfo names that
 * sender.  Here another process's SIGTERM waits, blocked, when ours comes.
 */
TEST_F(ph, killer_dropped_generation_not_counted)
{
	struct ph_info info;
	pid_t pid, other;
	int r[2], g[2], st;
	char b;
	__u64 h;

	ASSERT_EQ(0, pipe2(r, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(g, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		/* 'r', then both SIGTERMs are sent before 'g' comes */
		if (write(r[1], "r", 1) != 1 || read(g[0], &b, 1) != 1)
			_exit(90);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		_exit(91);
	}
	ph_track(self, pid);
	ASSERT_EQ(1, ph_read_timeout(r[0], &b, 1, 10000));
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	other = fork();
	ASSERT_LE(0, other);
	if (other == 0)
		_exit(kill(pid, SIGTERM) ? 1 : 0);
	ASSERT_EQ(0, ph_reap(other));
	ASSERT_EQ(0, kill(pid, SIGTERM));	/* already pending: dropped */
	ASSERT_EQ(1, write(g[1], "g", 1));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	ASSERT_EQ(0, ioc_info(self->fd, h, &info));
	EXPECT_EQ(st, ph_reap(pid));
	EXPECT_EQ(SIGTERM, WTERMSIG(st));
	EXPECT_EQ(PH_EXIT_F_VALID | PH_EXIT_F_KILLER, info.exit.exit_flags);
	EXPECT_EQ(other, info.exit.killer_pid);
	EXPECT_EQ(SI_USER, info.exit.kill_code);
	close(r[0]);
	close(r[1]);
	close(g[0]);
	close(g[1]);
}

/*
 * A child that crashes with SIGSEGV once it reads a byte from *@go, after
 * its handler reported the first fault's siginfo on *@rep; with @core_mib,
 * it dumps core (RLIMIT_CORE) holding that much memory.
 */
static pid_t spawn_crasher(int core_mib, int *go, int *rep)
{
	int g[2];
	pid_t pid;

	if (pipe2(g, O_CLOEXEC))
		return -1;
	pid = fork_seen(SIGSEGV, rep);
	if (pid == 0) {
		struct rlimit rl = { 0, 0 };
		char b;

		close(g[1]);
		if (core_mib) {
			rl.rlim_cur = RLIM_INFINITY;
			rl.rlim_max = RLIM_INFINITY;
			touch_mib(core_mib);
			if (chdir("/tmp"))
				_exit(96);
		}
		setrlimit(RLIMIT_CORE, &rl);
		if (read(g[0], &b, 1) != 1)
			_exit(99);
		/* faults twice: the handler returns to the faulting store */
		__atomic_store_n((int *)ph_bad_ptr, 1, __ATOMIC_RELAXED);
		_exit(98);
	}
	close(g[0]);
	if (pid < 0)
		close(g[1]);
	else
		*go = g[1];
	return pid;
}

/* Fault signals: the kernel's si_code, no sending process. */
static void expect_fault(struct __test_metadata *_metadata,
			 const struct ph_exit *e, const struct seen *s, int st)
{
	TH_LOG("fault: code %d flags %#x; siginfo code %d, status %#x",
	       e->kill_code, e->exit_flags, s->code, st);
	EXPECT_EQ(SEGV_MAPERR, s->code);
	EXPECT_EQ(s->code, e->kill_code);
	EXPECT_EQ(SIGSEGV, WTERMSIG(st));
	EXPECT_TRUE(e->exit_flags & PH_EXIT_F_KILLER);
	EXPECT_EQ(0, e->killer_pid);
	EXPECT_EQ(0, e->killer_uid);
	EXPECT_EQ(!!WCOREDUMP(st), !!(e->exit_flags & PH_EXIT_F_CORE));
	EXPECT_FALSE(e->exit_flags & PH_EXIT_F_OOM);
}

static void crash_case(struct __test_metadata *_metadata,
		       FIXTURE_DATA(ph) *self, int core_mib)
{
	struct ph_info info;
	int go, rep, st;
	struct seen s;
	char core[64];
	pid_t pid;
	__u64 h;

	pid = spawn_crasher(core_mib, &go, &rep);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	ASSERT_EQ(1, write(go, "g", 1));
	close(go);
	ASSERT_EQ(sizeof(s), ph_read_timeout(rep, &s, sizeof(s), 10000));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	ASSERT_EQ(0, ioc_info(self->fd, h, &info));
	EXPECT_EQ(st, ph_reap(pid));
	expect_fault(_metadata, &info.exit, &s, st);
	EXPECT_EQ(!!core_mib, !!WCOREDUMP(st));
	snprintf(core, sizeof(core), "/tmp/core.%d", pid);
	unlink(core);
	unlink("/tmp/core");
	close(rep);
}

TEST_F(ph, killer_segv)
{
	crash_case(_metadata, self, 0);
}

TEST_F(ph, killer_segv_core_dumped)
{
	crash_case(_metadata, self, 1);
}

/* --------------------------------------------------------------------- */
/* other users, other namespaces                                         */

/* What a reader in another process saw: a handle's status and record. */
struct seen_by {
	int ret, status;
	struct ph_exit exit;
};

/* WAIT and INFO on @h in @fd; the result goes to @res. */
static void report_record(int fd, __u64 h, int res)
{
	struct seen_by r = { 0 };
	struct ph_info info;

	r.ret = ioc_wait(fd, h, 0, 0, &r.status);
	if (!r.ret)
		r.ret = ioc_info(fd, h, &info);
	r.exit = info.exit;
	if (ph_write_full(res, &r, sizeof(r)))
		_exit(90);
}

/*
 * root kills a process of user nobody; that user, watching it through its
 * own table, sees the killer as the process's siginfo showed it: root's
 * uid and the killer's pid.
 */
TEST_F(ph, killer_other_user)
{
	int rep, res[2], ctl[2], st;
	pid_t pid, reader, killer;
	struct seen_by got;
	struct seen s;
	char r;

	pid = spawn_observer(SIGTERM, PH_NOBODY, false, &rep);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	ASSERT_EQ(1, ph_read_timeout(rep, &r, 1, 10000));
	ASSERT_EQ(0, pipe2(res, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ctl, O_CLOEXEC));
	reader = fork();
	ASSERT_LE(0, reader);
	if (reader == 0) {
		__u64 h;
		int fd;

		if (setresgid(PH_NOBODY, PH_NOBODY, PH_NOBODY) ||
		    setresuid(PH_NOBODY, PH_NOBODY, PH_NOBODY))
			_exit(91);
		fd = ioc_open();
		if (fd < 0 || ioc_acquire(fd, pid, &h) || write(res[1], "a", 1) != 1)
			_exit(92);
		report_record(fd, h, res[1]);
		_exit(0);
	}
	ph_track(self, reader);
	ASSERT_EQ(1, ph_read_timeout(res[0], &r, 1, 10000));
	killer = fork();
	ASSERT_LE(0, killer);
	if (killer == 0) {
		if (kill(pid, SIGTERM) || read(ctl[0], &r, 1) != 1)
			_exit(93);
		_exit(kill(pid, SIGKILL) ? 94 : 0);
	}
	ASSERT_EQ(sizeof(s), ph_read_timeout(rep, &s, sizeof(s), 10000));
	EXPECT_EQ(killer, s.pid);
	EXPECT_EQ(0, s.uid);
	ASSERT_EQ(1, write(ctl[1], "k", 1));
	EXPECT_EQ(0, ph_reap(killer));
	ASSERT_EQ(sizeof(got), ph_read_timeout(res[0], &got, sizeof(got), 30000));
	EXPECT_EQ(0, ph_reap(reader));
	st = ph_reap(pid);
	ASSERT_EQ(0, got.ret);
	EXPECT_EQ(st, got.status);
	expect_killer(_metadata, &got.exit, &s, st, SIGKILL);
	close(rep);
	close(res[0]);
	close(res[1]);
	close(ctl[0]);
	close(ctl[1]);
}

/* The reader's user namespace does not map the killer's uid: overflowuid. */
TEST_F(ph, killer_uid_unmapped)
{
	struct seen_by got;
	int rep, res[2], st;
	long overflow;
	struct seen s;
	pid_t pid, u;
	char r;
	__u64 h;

	overflow = ph_read_long("/proc/sys/kernel/overflowuid");
	ASSERT_LT(0, overflow);
	pid = spawn_observer(SIGTERM, 0, false, &rep);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	ASSERT_EQ(1, ph_read_timeout(rep, &r, 1, 10000));
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(sizeof(s), ph_read_timeout(rep, &s, sizeof(s), 10000));
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(0, pipe2(res, O_CLOEXEC));
	u = fork();
	ASSERT_LE(0, u);
	if (u == 0) {
		if (unshare(CLONE_NEWUSER))
			_exit(91);
		report_record(self->fd, h, res[1]);
		_exit(0);
	}
	ASSERT_EQ(sizeof(got), ph_read_timeout(res[0], &got, sizeof(got), 30000));
	EXPECT_EQ(0, ph_reap(u));
	st = ph_reap(pid);
	ASSERT_EQ(0, got.ret);
	EXPECT_EQ(getpid(), got.exit.killer_pid);
	EXPECT_EQ((__u32)overflow, got.exit.killer_uid);
	s.uid = overflow;
	expect_killer(_metadata, &got.exit, &s, st, SIGTERM);
	close(rep);
	close(res[0]);
	close(res[1]);
}

/* This process's pid as the /proc mount (the initial pid namespace) sees it. */
static pid_t global_self(void)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoi(buf);
}

/* Our only child's pid, as the /proc mount sees it. */
static pid_t global_child(void)
{
	char buf[64];
	pid_t me = global_self();

	if (ph_slurp(buf, sizeof(buf), "/proc/%d/task/%d/children", me, me) < 0)
		return -1;
	return atoi(buf);
}

/*
 * In a new pid namespace (the caller forks after unshare): pid 1 there
 * starts a victim (pid 2) and tells @res the global pids of both.  With
 * @kills, it sends SIGTERM twice on a byte from @ctl each, else it reads
 * the record through @fd as the test kills.  Forwards the victim's
 * report and then, with @fd, its own view of the record.
 */
static void pidns_init(int fd, bool kills, int ctl, int res)
{
	pid_t ids[2], v;
	struct seen s;
	int rep, i;
	char r;
	__u64 h = 0;

	v = spawn_observer(SIGTERM, 0, false, &rep);
	if (v != 2 || ph_read_timeout(rep, &r, 1, 10000) != 1)
		_exit(80);
	ids[0] = global_self();
	ids[1] = global_child();
	if (!kills && ioc_acquire(fd, v, &h))
		_exit(81);
	if (ph_write_full(res, ids, sizeof(ids)))
		_exit(82);
	for (i = 0; i < 2; i++) {
		if (kills && (read(ctl, &r, 1) != 1 || kill(v, SIGTERM)))
			_exit(83);
		if (!i && (ph_read_timeout(rep, &s, sizeof(s), 10000) != sizeof(s) ||
			   ph_write_full(res, &s, sizeof(s))))
			_exit(84);
	}
	if (!kills)
		report_record(fd, h, res);
	waitpid(v, NULL, 0);
	_exit(0);
}

/* Run pidns_init() as pid 1 of a new pid namespace; returns the outer child. */
static pid_t spawn_pidns(int fd, bool kills, int ctl, int res)
{
	pid_t p = fork();

	if (p == 0) {
		pid_t init;
		int st;

		if (unshare(CLONE_NEWPID))
			_exit(85);
		init = fork();
		if (init == 0)
			pidns_init(fd, kills, ctl, res);
		_exit(init > 0 && waitpid(init, &st, 0) == init &&
		      WIFEXITED(st) ? WEXITSTATUS(st) : 86);
	}
	return p;
}

/*
 * Killer outside the reader's pid namespace: the reader inside sees pid 0
 * (and the uid), as the victim's siginfo did; a reader outside sees the
 * killer's pid.
 */
TEST_F(ph, killer_hidden_by_pid_namespace)
{
	struct ph_info info;
	struct seen_by got;
	int res[2], i;
	struct seen s;
	pid_t outer, ids[2];
	__u64 h;

	ASSERT_EQ(0, pipe2(res, O_CLOEXEC));
	outer = spawn_pidns(self->fd, false, -1, res[1]);
	ASSERT_LE(0, outer);
	ph_track(self, outer);
	ASSERT_EQ(sizeof(ids), ph_read_timeout(res[0], ids, sizeof(ids), 10000));
	ASSERT_LT(0, ids[1]);
	ASSERT_EQ(0, ioc_acquire(self->fd, ids[1], &h));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, kill(ids[1], SIGTERM));
		if (!i)
			ASSERT_EQ(sizeof(s), ph_read_timeout(res[0], &s, sizeof(s), 10000));
	}
	ASSERT_EQ(sizeof(got), ph_read_timeout(res[0], &got, sizeof(got), 30000));
	EXPECT_EQ(0, ph_reap(outer));
	EXPECT_EQ(0, s.pid);	/* the victim did not see us either */
	ASSERT_EQ(0, got.ret);
	expect_killer(_metadata, &got.exit, &s, got.status, SIGTERM);
	ASSERT_EQ(0, ioc_info(self->fd, h, &info));
	EXPECT_EQ(getpid(), info.exit.killer_pid);
	EXPECT_EQ(0, info.exit.killer_uid);
	EXPECT_EQ(SI_USER, info.exit.kill_code);
	close(res[0]);
	close(res[1]);
}

/* Killer inside a child pid namespace: outside, its pid is translated. */
TEST_F(ph, killer_translated_from_pid_namespace)
{
	int res[2], ctl[2], st;
	struct ph_info info;
	pid_t outer, ids[2];
	struct seen s;
	__u64 h;

	ASSERT_EQ(0, pipe2(res, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ctl, O_CLOEXEC));
	outer = spawn_pidns(-1, true, ctl[0], res[1]);
	ASSERT_LE(0, outer);
	ph_track(self, outer);
	ASSERT_EQ(sizeof(ids), ph_read_timeout(res[0], ids, sizeof(ids), 10000));
	ASSERT_EQ(0, ioc_acquire(self->fd, ids[1], &h));
	ASSERT_EQ(1, write(ctl[1], "k", 1));
	ASSERT_EQ(sizeof(s), ph_read_timeout(res[0], &s, sizeof(s), 10000));
	EXPECT_EQ(1, s.pid);	/* the killer is pid 1 in there */
	ASSERT_EQ(1, write(ctl[1], "k", 1));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	ASSERT_EQ(0, ioc_info(self->fd, h, &info));
	EXPECT_EQ(0, ph_reap(outer));
	s.pid = ids[0];		/* here it has its global pid */
	expect_killer(_metadata, &info.exit, &s, st, SIGTERM);
	close(res[0]);
	close(res[1]);
	close(ctl[0]);
	close(ctl[1]);
}

/* --------------------------------------------------------------------- */
/* the OOM killer, and SIGKILL during a core dump                        */

#define CG_ROOT "/sys/fs/cgroup"

/* A cgroup2 hierarchy with the memory controller for children; or false. */
static bool memcg_ready(void)
{
	char buf[4096];

	if (ph_slurp(buf, sizeof(buf), "/proc/mounts") < 0)
		return false;
	if (!strstr(buf, " " CG_ROOT " cgroup2 ") &&
	    mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
		return false;
	if (ph_slurp(buf, sizeof(buf), CG_ROOT "/cgroup.subtree_control") >= 0 &&
	    strstr(buf, "memory"))
		return true;
	return !ph_write_str(CG_ROOT "/cgroup.subtree_control", "+memory");
}

static void run_oom(void)
{
	touch_mib(256);
}

/* Lines of /dev/kmsg (opened at its end before) holding @what. */
static bool kmsg_has(int kmsg, const char *what)
{
	char rec[2048];
	ssize_t n;

	/* each read() is one record; EAGAIN at the end */
	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = 0;
		if (strstr(rec, what))
			return true;
	}
	return false;
}

/*
 * A child over its memory cgroup's limit: the OOM killer chooses it
 * (the kernel log says so), SIGKILL from the kernel, PH_EXIT_F_OOM.
 * guest/init skips the OOM report announced by the marker line.
 */
TEST_F(ph, killer_oom_memcg)
{
	char cg[96], path[160], line[64], what[64];
	struct ph_info info;
	int go, st, kmsg;
	pid_t pid;
	__u64 h;

	if (!memcg_ready())
		SKIP(return, "no cgroup2 memory controller");
	snprintf(cg, sizeof(cg), CG_ROOT "/ph-exit-oom-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	ASSERT_EQ(0, ph_write_str(path, "16M"));
	snprintf(path, sizeof(path), "%s/memory.swap.max", cg);
	ph_write_str(path, "0");
	pid = start(run_oom, 0, &go);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(line, sizeof(line), "%d\n", pid);
	ASSERT_EQ(0, ph_write_str(path, line));
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	kmsg = open("/dev/kmsg", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, kmsg);
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));
	snprintf(line, sizeof(line), "prochandle-test: expect oom-kill of %d\n", pid);
	ASSERT_LT(0, write(kmsg, line, strlen(line)));
	ASSERT_EQ(1, write(go, "g", 1));
	close(go);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	ASSERT_EQ(0, ioc_info(self->fd, h, &info));
	EXPECT_EQ(st, ph_reap(pid));
	snprintf(what, sizeof(what), "Killed process %d (", pid);
	EXPECT_TRUE(kmsg_has(kmsg, what));
	close(kmsg);
	rmdir(cg);
	TH_LOG("oom: status %#x flags %#x code %d maxrss %llu KiB", st,
	       info.exit.exit_flags, info.exit.kill_code,
	       (unsigned long long)info.exit.maxrss_kb);
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	EXPECT_EQ(PH_EXIT_F_VALID | PH_EXIT_F_KILLER | PH_EXIT_F_OOM,
		  info.exit.exit_flags);
	EXPECT_EQ(SI_KERNEL, info.exit.kill_code);
	EXPECT_EQ(0, info.exit.killer_pid);
	EXPECT_EQ(0, info.exit.killer_uid);
	EXPECT_GE(16 * 1024 + 1024, (long long)info.exit.maxrss_kb);
}

/*
 * The core_pattern pipe helper of killer_sigkill_while_dumping_core: it
 * never reads the core, so the dump blocks; it says so on the READY fifo
 * and leaves when RELEASE says so (or after a minute).
 */
static int core_hold(const char *ready, const char *release)
{
	int fd;
	char b;

	alarm(60);
	fd = open(ready, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "r", 1) != 1)
		return 1;
	close(fd);
	fd = open(release, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &b, 1) < 0)
		return 1;
	return 0;
}

static int ph_helper_main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[2], "core-hold"))
		return core_hold(argv[3], argv[4]);
	return 2;
}

/*
 * SIGKILL while the process dumps core: the record names the sender of
 * the signal of the status the parent gets, whichever the kernel reports
 * (on 6.1 SIGKILL takes over the group's exit code), and its CORE flag
 * is WCOREDUMP of that status.
 */
TEST_F(ph, killer_sigkill_while_dumping_core)
{
	char exe[PATH_MAX], pattern[2 * PATH_MAX], old[PATH_MAX];
	char ready[64], release[64], b;
	int go, rep, st = 0, rfd, xfd;
	struct ph_info info;
	struct seen s;
	ssize_t n;
	pid_t pid;
	__u64 h;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = 0;
	ASSERT_LT(0, ph_slurp(old, sizeof(old), "/proc/sys/kernel/core_pattern"));
	snprintf(ready, sizeof(ready), "/tmp/ph-core-ready.%d", getpid());
	snprintf(release, sizeof(release), "/tmp/ph-core-release.%d", getpid());
	unlink(ready);
	unlink(release);
	ASSERT_EQ(0, mkfifo(ready, 0600));
	ASSERT_EQ(0, mkfifo(release, 0600));
	/* O_RDWR: never blocks, and never sees a hang-up */
	rfd = open(ready, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, rfd);
	snprintf(pattern, sizeof(pattern), "|%s --ph-helper core-hold %s %s",
		 exe, ready, release);
	ASSERT_EQ(0, ph_write_str("/proc/sys/kernel/core_pattern", pattern));

	pid = spawn_crasher(8, &go, &rep);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	ASSERT_EQ(1, write(go, "g", 1));
	close(go);
	ASSERT_EQ(sizeof(s), ph_read_timeout(rep, &s, sizeof(s), 10000));
	/* the helper runs: the process is dumping, into a pipe nobody reads */
	EXPECT_EQ(1, ph_read_timeout(rfd, &b, 1, 30000));
	EXPECT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_EQ(0, ioc_info(self->fd, h, &info));
	EXPECT_EQ(st, ph_reap(pid));

	xfd = open(release, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(1, write(xfd, "x", 1));
	close(xfd);
	close(rfd);
	EXPECT_EQ(0, ph_write_str("/proc/sys/kernel/core_pattern", old));
	unlink(ready);
	unlink(release);

	/* expect_killer() and expect_fault() check CORE against WCOREDUMP */
	TH_LOG("SIGKILL while dumping: status %#x", st);
	if (WTERMSIG(st) == SIGKILL) {
		s.code = SI_USER;
		s.pid = getpid();
		s.uid = getuid();
		expect_killer(_metadata, &info.exit, &s, st, SIGKILL);
	} else {
		expect_fault(_metadata, &info.exit, &s, st);
	}
	close(rep);
}

PH_HARNESS_MAIN_WITH_HELPER(ph_helper_main)
