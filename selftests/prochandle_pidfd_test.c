// SPDX-License-Identifier: GPL-2.0
/*
 * PH_ACQUIRE_PIDFD (SPEC §13): acquiring a process through a pidfd, with
 * no number involved, and every error: EBADF for anything that is not a
 * pidfd, ESRCH once its process was reaped (even when the number names
 * another process by then), EINVAL with the start-time flags, EPERM as
 * for ACQUIRE by number.
 */
#include "ph_test.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

static int pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

static int ioc_acquire_pidfd(int fd, int pidfd, __u32 more, __u64 start,
			     __u64 *h)
{
	return ioc_acquire_st(fd, pidfd, PH_ACQUIRE_PIDFD | more, start, h);
}

TEST_F(ph, acquire_pidfd)
{
	struct ph_info i, j;
	struct ph_kid k;
	__u64 h, hn;
	int pidfd, st;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	pidfd = pidfd_open(k.pid);
	ASSERT_LE(0, pidfd);
	ASSERT_EQ(0, ioc_acquire_pidfd(self->fd, pidfd, 0, 0, &h));
	EXPECT_NE(0, h);
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(k.pid, i.pid);
	EXPECT_EQ(PH_STATE_RUNNING, i.state);
	/* The same process as by number: the same start time. */
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &hn));
	ASSERT_EQ(0, ioc_info(self->fd, hn, &j));
	EXPECT_EQ(j.start_time, i.start_time);
	EXPECT_COUNTERS(1, 2, 2);
	/* The handle keeps its own reference: the pidfd may go. */
	close(pidfd);
	EXPECT_EQ(0, ioc_signal(self->fd, h, 0));
	ph_kid_exit(&k, 9);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(9, WEXITSTATUS(st));
	EXPECT_EQ(st, ph_reap(k.pid));
	EXPECT_EQ(0, ioc_release(self->fd, h));
	EXPECT_EQ(0, ioc_release(self->fd, hn));
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_F(ph, acquire_pidfd_from_clone3)
{
	struct ph_clone_args ca = { .flags = CLONE_PIDFD, .exit_signal = SIGCHLD };
	int pidfd = -1, st;
	pid_t pid;
	__u64 h;

	ca.pidfd = (uintptr_t)&pidfd;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(17);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	ASSERT_LE(0, pidfd);
	/* Exited or not yet, acquiring through the pidfd works until reaped. */
	ASSERT_EQ(0, ioc_acquire_pidfd(self->fd, pidfd, 0, 0, &h));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_EQ(17, WEXITSTATUS(st));
	EXPECT_EQ(st, ph_reap(pid));
	close(pidfd);
}

TEST_F(ph, acquire_pidfd_zombie)
{
	struct ph_info i;
	struct ph_kid k;
	int pidfd;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	pidfd = pidfd_open(k.pid);
	ASSERT_LE(0, pidfd);
	ph_kid_exit(&k, 4);
	ASSERT_EQ(0, ph_wait_zombie(k.pid));
	ASSERT_EQ(0, ioc_acquire_pidfd(self->fd, pidfd, 0, 0, &h));
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(PH_STATE_EXITED, i.state);
	EXPECT_EQ(4, WEXITSTATUS(i.status));
	EXPECT_EQ(-ESRCH, ioc_signal(self->fd, h, 0));
	ph_reap(k.pid);
	close(pidfd);
}

TEST_F(ph, acquire_pidfd_reaped_esrch)
{
	struct ph_kid k;
	int pidfd;

	ASSERT_EQ(0, ph_spawn(&k));
	pidfd = pidfd_open(k.pid);
	ASSERT_LE(0, pidfd);
	ph_kid_exit(&k, 0);
	ph_reap(k.pid);
	EXPECT_EQ(-ESRCH, ioc_acquire_pidfd(self->fd, pidfd, 0, 0, NULL));
	EXPECT_COUNTERS(1, 0, 0);
	close(pidfd);
}

/* The number is reused after the reap: the pidfd still names the dead one. */
TEST_F(ph, acquire_pidfd_number_reused)
{
	struct ph_kid a;
	int pidfd, ctl[2], st;
	pid_t b;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&a));
	pidfd = pidfd_open(a.pid);
	ASSERT_LE(0, pidfd);
	ph_kid_exit(&a, 0);
	ph_reap(a.pid);
	ASSERT_EQ(0, pipe2(ctl, O_CLOEXEC));
	b = ph_fork_as(a.pid);
	if (b == 0) {
		char c;

		CHILD_EQ(1, read(ctl[0], &c, 1));
		_exit(0);
	}
	close(ctl[0]);
	if (b != a.pid) {
		if (b > 0) {
			ph_track(self, b);
			close(ctl[1]);
		}
		SKIP(return, "cannot fork with pid %d (%s)", a.pid, strerror(errno));
	}
	ph_track(self, b);
	EXPECT_EQ(-ESRCH, ioc_acquire_pidfd(self->fd, pidfd, 0, 0, &h));
	/* By number, the newcomer is found. */
	ASSERT_EQ(0, ioc_acquire(self->fd, b, &h));
	EXPECT_EQ(0, ioc_signal(self->fd, h, 0));
	EXPECT_EQ(1, write(ctl[1], "x", 1));
	close(ctl[1]);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	EXPECT_EQ(st, ph_reap(b));
	close(pidfd);
}

TEST_F(ph, acquire_pidfd_not_a_pidfd_ebadf)
{
	char path[] = "/tmp/ph-pidfd.XXXXXX", named[64];
	int nul, dir, ev, closed, tmp, sock[2];

	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nul);
	EXPECT_EQ(-EBADF, ioc_acquire_pidfd(self->fd, nul, 0, 0, NULL));
	EXPECT_EQ(-EBADF, ioc_acquire_pidfd(self->fd, -1, 0, 0, NULL));
	EXPECT_EQ(-EBADF, ioc_acquire_pidfd(self->fd, INT_MIN, 0, 0, NULL));
	/* A number that is no open file. */
	closed = dup(nul);
	ASSERT_LE(0, closed);
	close(closed);
	EXPECT_EQ(-EBADF, ioc_acquire_pidfd(self->fd, closed, 0, 0, NULL));
	/* Another anonymous inode (an eventfd), a socket, the table itself. */
	ev = (int)syscall(SYS_eventfd2, 0, 0);
	ASSERT_LE(0, ev);
	EXPECT_EQ(-EBADF, ioc_acquire_pidfd(self->fd, ev, 0, 0, NULL));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sock));
	EXPECT_EQ(-EBADF, ioc_acquire_pidfd(self->fd, sock[0], 0, 0, NULL));
	EXPECT_EQ(-EBADF, ioc_acquire_pidfd(self->fd, self->fd, 0, 0, NULL));
	/* A file merely named like a pidfd. */
	ASSERT_NE(NULL, mkdtemp(path));
	snprintf(named, sizeof(named), "%s/[pidfd]", path);
	tmp = open(named, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, tmp);
	EXPECT_EQ(-EBADF, ioc_acquire_pidfd(self->fd, tmp, 0, 0, NULL));
	/* A directory of /proc (a "process fd" of another kind). */
	dir = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	EXPECT_EQ(-EBADF, ioc_acquire_pidfd(self->fd, dir, 0, 0, NULL));
	EXPECT_COUNTERS(1, 0, 0);
	close(dir);
	close(tmp);
	unlink(named);
	rmdir(path);
	close(sock[0]);
	close(sock[1]);
	close(ev);
	close(nul);
}

TEST_F(ph, acquire_pidfd_einval)
{
	struct ph_acquire a = { .flags = PH_ACQUIRE_PIDFD };
	int pidfd = pidfd_open(getpid());
	struct ph_info i;
	__u64 h;

	ASSERT_LE(0, pidfd);
	/* With either start-time flag, and with both. */
	EXPECT_EQ(-EINVAL, ioc_acquire_pidfd(self->fd, pidfd, PH_ACQUIRE_STARTTIME, 0, NULL));
	EXPECT_EQ(-EINVAL, ioc_acquire_pidfd(self->fd, pidfd,
					     PH_ACQUIRE_STARTTIME_TICKS, 0, NULL));
	EXPECT_EQ(-EINVAL, ioc_acquire_pidfd(self->fd, pidfd, PH_ACQUIRE_STARTTIME |
					     PH_ACQUIRE_STARTTIME_TICKS, 0, NULL));
	/* Even with the right start time. */
	ASSERT_EQ(0, ioc_acquire_pidfd(self->fd, pidfd, 0, 0, &h));
	ASSERT_EQ(0, ioc_info(self->fd, h, &i));
	EXPECT_EQ(-EINVAL, ioc_acquire_pidfd(self->fd, pidfd, PH_ACQUIRE_STARTTIME,
					     i.start_time, NULL));
	/* A start time without a start-time flag, reserved words. */
	EXPECT_EQ(-EINVAL, ioc_acquire_pidfd(self->fd, pidfd, 0, 1, NULL));
	a.pid = pidfd;
	a.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_ACQUIRE, &a));
	EXPECT_EQ(0, ioc_release(self->fd, h));
	EXPECT_COUNTERS(1, 0, 0);
	close(pidfd);
}

TEST_F(ph, acquire_pidfd_eperm)
{
	struct ph_kid k;
	pid_t c;
	int pidfd;

	if (geteuid())
		SKIP(return, "needs root");
	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	pidfd = pidfd_open(k.pid);
	ASSERT_LE(0, pidfd);
	c = fork();
	if (c == 0) {
		int fd = ioc_open();

		CHILD_CHECK(fd >= 0);
		CHILD_EQ(0, setresgid(PH_NOBODY, PH_NOBODY, PH_NOBODY));
		CHILD_EQ(0, setresuid(PH_NOBODY, PH_NOBODY, PH_NOBODY));
		/* Holding a pidfd grants nothing that kill(2) would not. */
		CHILD_EQ(-EPERM, ioc_acquire_pidfd(fd, pidfd, 0, 0, NULL));
		_exit(0);
	}
	ASSERT_LT(0, c);
	EXPECT_EQ(0, ph_reap(c));
	close(pidfd);
}

/* A process not visible in the caller's pid namespace: acquired, pid 0. */
TEST_F(ph, acquire_pidfd_not_visible)
{
	struct ph_kid k;
	int pidfd, pipefd[2];
	pid_t c;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	pidfd = pidfd_open(k.pid);
	ASSERT_LE(0, pidfd);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	if (unshare(CLONE_NEWPID))
		SKIP(return, "unshare(CLONE_NEWPID): %s", strerror(errno));
	c = fork();		/* pid 1 of the new namespace */
	if (c == 0) {
		struct ph_info i;
		__u64 h;

		CHILD_EQ(0, ioc_acquire_pidfd(self->fd, pidfd, 0, 0, &h));
		CHILD_EQ(0, ioc_info(self->fd, h, &i));
		CHILD_EQ(0, i.pid);
		CHILD_EQ(PH_STATE_RUNNING, i.state);
		/* By number it cannot be named at all from here. */
		CHILD_EQ(-ESRCH, ioc_acquire(self->fd, k.pid, NULL));
		CHILD_EQ(0, ioc_release(self->fd, h));
		_exit(0);
	}
	ASSERT_LT(0, c);
	EXPECT_EQ(0, ph_reap(c));
	close(pidfd);
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_HARNESS_MAIN
