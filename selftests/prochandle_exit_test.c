// SPDX-License-Identifier: GPL-2.0
/*
 * The exit record (SPEC §10), what a process used: its CPU times and
 * peak RSS checked against wait4() of its real parent (this test), for
 * CPU-bound and memory-hungry children, single- and multi-threaded, the
 * leader exiting first or last, and a child that waited for a
 * grandchild: within one clock tick (1/USER_HZ), RSS exactly; the exit
 * time against CLOCK_BOOTTIME read around the exit; and the record's
 * lifetime (captured once, survives the reap, kept by DONE handles).
 * How it ended (the killer, OOM, core dumps): prochandle_killer_test.c.
 *
 * The compat (32-bit) path of struct ph_exit is exercised by the -m32
 * builds of prochandle_killer_test and prochandle_events2_test.
 */
#include <sys/time.h>

#include "ph_exit.h"

/* children that burn CPU, touch memory, fork                            */

static long long tick_ns(void)
{
	return 1000000000LL / sysconf(_SC_CLK_TCK);
}

/* @arg points to the milliseconds to burn (a static long). */
static void *burn_thread(void *arg)
{
	long ms = *(const long *)arg;

	burn(ms, ms / 3);
	return NULL;
}

static void *spin_thread(void *arg)
{
	(void)arg;
	for (;;)
		burn(10, 0);
	return NULL;
}

static void run_cpu(void)
{
	burn(150, 60);
}

static void run_memory(void)
{
	touch_mib(40);
	burn(20, 0);
}

static void run_threads(void)
{
	static long ms[3] = { 40, 60, 80 };
	pthread_t t[3];
	int i;

	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, burn_thread, &ms[i]);
	touch_mib(8);
	burn(30, 10);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

/* The leader exits first: the last thread's exit reports the group's. */
static void run_leader_first(void)
{
	static long ms[2] = { 60, 100 };
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, burn_thread, &ms[i]);
	burn(10, 0);
	pthread_exit(NULL);
}

/* exit() while other threads still run: exit_group() takes them down. */
static void run_exit_busy_threads(void)
{
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, spin_thread, NULL);
	burn(80, 20);
	exit(3);
}

/* Waits for a grandchild that used more CPU and memory than itself. */
static void run_grandchild(void)
{
	pid_t g = fork();

	if (g == 0) {
		touch_mib(48);
		burn(120, 40);
		_exit(0);
	}
	if (g > 0)
		waitpid(g, NULL, 0);
	burn(20, 0);
}

static long long tv_ns(struct timeval tv)
{
	return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

/* Attempts of a usage case; see usage_case(). */
#define USAGE_TRIES	3

/*
 * Run @fn in a child, watched through a handle; compare the exit record
 * with what wait4() reports to this test, the child's real parent.  Returns
 * true when the CPU times are within one clock tick.
 *
 * The record is taken when the kernel reports the exit, wait4()'s figures
 * when the parent reaps: the exiting thread still runs for a few
 * microseconds in between, and the group's CPU time only grows, so the
 * record's total never exceeds wait4()'s (checked every time).  Under a
 * loaded emulator the guest can be descheduled in that window, which
 * wait4() then counts too: the per-field check within a tick is
 * therefore the best of USAGE_TRIES runs (a wrong formula, a missing
 * thread or child, unadjusted ticks are off on every run).
 */
static bool usage_run(struct __test_metadata *_metadata,
		      FIXTURE_DATA(ph) *self, const char *name,
		      void (*fn)(void), int code)
{
	long long du, ds, tick = tick_ns();
	uint64_t t_go, t_end;
	struct ph_info info;
	struct rusage ru;
	int go, st, wst;
	pid_t pid;
	__u64 h;

	pid = start(fn, code, &go);
	ASSERT_LT(0, pid);
	ph_track(self, pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, pid, &h));
	t_go = ph_now_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(1, write(go, "g", 1));
	close(go);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, &st));
	t_end = ph_now_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(0, ioc_info(self->fd, h, &info));
	ASSERT_EQ(pid, wait4(pid, &wst, 0, &ru));
	EXPECT_EQ(wst, st);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == code);

	EXPECT_EQ(PH_EXIT_F_VALID, info.exit.exit_flags);
	du = (long long)info.exit.utime_ns - tv_ns(ru.ru_utime);
	ds = (long long)info.exit.stime_ns - tv_ns(ru.ru_stime);
	TH_LOG("%s pid %d: utime %llu/%lld (%+lld), stime %llu/%lld (%+lld), KiB %llu/%ld",
	       name, pid, (unsigned long long)info.exit.utime_ns, tv_ns(ru.ru_utime), du,
	       (unsigned long long)info.exit.stime_ns, tv_ns(ru.ru_stime), ds,
	       (unsigned long long)info.exit.maxrss_kb, ru.ru_maxrss);
	/* ru_*time are truncated to microseconds: 1 us each */
	EXPECT_GE(2000, du + ds);
	EXPECT_EQ(ru.ru_maxrss, (long)info.exit.maxrss_kb);
	EXPECT_LE(t_go, info.exit.exit_time);
	EXPECT_GE(t_end, info.exit.exit_time);
	EXPECT_LT(info.start_time, info.exit.exit_time);
	EXPECT_EQ(0, info.exit.killer_pid);
	EXPECT_EQ(0, info.exit.killer_uid);
	EXPECT_EQ(0, info.exit.kill_code);
	EXPECT_EQ(0, ioc_release(self->fd, h));
	return llabs(du) - 1000 <= tick && llabs(ds) - 1000 <= tick;
}

static void usage_case(struct __test_metadata *_metadata,
		       FIXTURE_DATA(ph) *self, const char *name,
		       void (*fn)(void), int code)
{
	int i;

	for (i = 0; i < USAGE_TRIES && !PH_FAILED(); i++)
		if (usage_run(_metadata, self, name, fn, code))
			return;
	EXPECT_LT(i, USAGE_TRIES) {
		TH_LOG("%s: CPU times off by more than a tick %d times", name, i);
	}
}

TEST_F_TIMEOUT(ph, usage_cpu, 180)
{
	usage_case(_metadata, self, "cpu", run_cpu, 0);
}

TEST_F_TIMEOUT(ph, usage_memory, 180)
{
	usage_case(_metadata, self, "memory", run_memory, 4);
	EXPECT_COUNTERS(1, 0, 0);
}

TEST_F_TIMEOUT(ph, usage_threads, 180)
{
	usage_case(_metadata, self, "threads", run_threads, 0);
}

TEST_F_TIMEOUT(ph, usage_leader_exits_first, 180)
{
	usage_case(_metadata, self, "leader first", run_leader_first, 0);
}

TEST_F_TIMEOUT(ph, usage_exit_with_busy_threads, 180)
{
	usage_case(_metadata, self, "busy threads", run_exit_busy_threads, 3);
}

TEST_F_TIMEOUT(ph, usage_waited_grandchild, 180)
{
	usage_case(_metadata, self, "grandchild", run_grandchild, 0);
}

/* The record is captured once and outlives the reap and the task. */
TEST_F(ph, record_survives_reap_and_done)
{
	struct ph_info a, b, c;
	struct ph_kid k;
	__u64 h, h2;
	int fd2;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ph_kid_exit(&k, 9);
	ASSERT_EQ(0, ph_wait_zombie(k.pid));
	ASSERT_EQ(0, ioc_info(self->fd, h, &a));
	EXPECT_EQ(PH_STATE_EXITED, a.state);
	EXPECT_EQ(PH_EXIT_F_VALID, a.exit.exit_flags);
	/* a handle made on the zombie shares the one record */
	fd2 = ioc_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioc_acquire(fd2, k.pid, &h2));
	ASSERT_EQ(9 << 8, ph_reap(k.pid));
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, NULL));
	EXPECT_COUNTERS(2, 2, 1);	/* the DONE handle pins no task */
	ASSERT_EQ(0, ioc_info(self->fd, h, &b));
	ASSERT_EQ(0, ioc_info(fd2, h2, &c));
	EXPECT_EQ(PH_STATE_DONE, b.state);
	EXPECT_EQ(0, memcmp(&a.exit, &b.exit, sizeof(a.exit)));
	EXPECT_EQ(0, memcmp(&a.exit, &c.exit, sizeof(a.exit)));
	close(fd2);
	EXPECT_COUNTERS(1, 1, 0);
	ASSERT_EQ(0, ioc_info(self->fd, h, &b));
	EXPECT_EQ(0, memcmp(&a.exit, &b.exit, sizeof(a.exit)));
}

TEST_HARNESS_MAIN
