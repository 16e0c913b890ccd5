// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle v2 interface: PH_IOC_SET_EVENTS, read() in format V2 (struct
 * ph_event2), and INFO grown by the exit record (SPEC §9, §10): layouts,
 * every error, sizes old and new, switching formats with events queued.
 * The record's contents are checked in prochandle_exit_test.c.
 *
 * Also built -m32 (prochandle_events2_test_32): every new struct through
 * the compat ioctl path.
 */
#include "ph_test.h"

/* Layouts are ABI: the same for 32-bit and 64-bit user space. */
_Static_assert(sizeof(struct ph_exit) == 48, "exit");
_Static_assert(offsetof(struct ph_exit, killer_pid) == 32, "exit.killer_pid");
_Static_assert(offsetof(struct ph_exit, exit_flags) == 44, "exit.exit_flags");
_Static_assert(sizeof(struct ph_events) == PH_EVENTS_SIZE_VER0, "events");
_Static_assert(sizeof(struct ph_event2) == PH_EVENT2_SIZE_VER0, "event2");
_Static_assert(offsetof(struct ph_event2, handle) == 8, "event2.handle");
_Static_assert(offsetof(struct ph_event2, time) == 24, "event2.time");
_Static_assert(offsetof(struct ph_event2, child) == 32, "event2.child");
_Static_assert(offsetof(struct ph_event2, exit) == 48, "event2.exit");
_Static_assert(offsetof(struct ph_info, exit) == PH_INFO_SIZE_VER0, "info.exit");
_Static_assert(_IOC_NR(PH_IOC_SET_EVENTS) == 6, "SET_EVENTS number");

/* INFO with the size encoded in the command set to @size. */
static int ioc_info_sized(int fd, __u64 h, void *buf, size_t size)
{
	struct ph_info *i = buf;

	memset(buf, 0xa5, sizeof(struct ph_info) + 16);
	i->handle = h;
	i->pad = 0;
	i->reserved[0] = 0;
	i->reserved[1] = 0;
	return ioc_call(fd, _IOC(_IOC_READ | _IOC_WRITE, PH_IOC_MAGIC,
				 _IOC_NR(PH_IOC_INFO), size), buf);
}

static int ioc_set_events(int fd, __u32 format, __u32 mask)
{
	struct ph_events e = { .format = format, .mask = mask };

	return ioc_call(fd, PH_IOC_SET_EVENTS, &e);
}

/* Start @n kids, acquire each; they exit with codes 1..n in that order. */
static void exits_in_order(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ph) *self, int n, __u64 *h, pid_t *pid)
{
	struct ph_kid k;
	int i;

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, ph_spawn(&k));
		ph_track(self, k.pid);
		ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h[i]));
		pid[i] = k.pid;
		ph_kid_exit(&k, (unsigned char)(i + 1));
		/* each exit reported before the next: a total order */
		ASSERT_EQ(0, ioc_wait(self->fd, h[i], 0, 0, NULL));
	}
}

/* Every V2 record in @buf (@len bytes) well formed; returns the count. */
static int check_v2(struct __test_metadata *_metadata, const void *buf,
		    ssize_t len)
{
	const struct ph_event2 *e;
	ssize_t off;
	int n = 0;

	for (off = 0; off < len; off += e->size, n++) {
		e = (const void *)((const char *)buf + off);
		EXPECT_EQ(sizeof(*e), e->size);
		if (e->size != sizeof(*e))
			return -1;
		EXPECT_EQ(PH_EVENT_EXIT, e->type);
		EXPECT_EQ(0, e->child);
		EXPECT_EQ(0, e->child_pid);
		EXPECT_EQ(0, e->flags);
		EXPECT_EQ(e->exit.exit_time, e->time);
		EXPECT_TRUE(e->exit.exit_flags & PH_EXIT_F_VALID);
	}
	EXPECT_EQ(len, off);
	return n;
}

TEST_F(ph, set_events_invalid)
{
	struct { struct ph_events e; __u64 tail; } big = { { 0 }, 0 };
	struct ph_events e = { 0 };

	EXPECT_EQ(-EINVAL, ioc_set_events(self->fd, 1, 0));
	EXPECT_EQ(-EINVAL, ioc_set_events(self->fd, 3, 0));
	EXPECT_EQ(-EINVAL, ioc_set_events(self->fd, ~0u, 0));
	/* a mask in V1, even the always-implied exit bit */
	EXPECT_EQ(-EINVAL, ioc_set_events(self->fd, PH_EVENTS_V1, PH_EVENT_FORK));
	EXPECT_EQ(-EINVAL, ioc_set_events(self->fd, PH_EVENTS_V1, PH_EVENT_EXIT));
	/* unknown mask bits in V2 */
	EXPECT_EQ(-EINVAL, ioc_set_events(self->fd, PH_EVENTS_V2, 1u << 3));
	EXPECT_EQ(-EINVAL, ioc_set_events(self->fd, PH_EVENTS_V2, 1u << 31));
	e.format = PH_EVENTS_V2;
	e.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_SET_EVENTS, &e));
	e.reserved[0] = 0;
	e.reserved[1] = 1ull << 63;
	EXPECT_EQ(-EINVAL, ioc_call(self->fd, PH_IOC_SET_EVENTS, &e));
	/* sizes: shorter than the first version, a non-zero tail, bad pointer */
	EXPECT_EQ(-EINVAL, ioc_call(self->fd, _IOW(PH_IOC_MAGIC, 6, __u64), &e));
	big.e.format = PH_EVENTS_V2;
	big.tail = 1;
	EXPECT_EQ(-E2BIG, ioc_call(self->fd, _IOW(PH_IOC_MAGIC, 6, big), &big));
	EXPECT_EQ(-EFAULT, ioc_call(self->fd, PH_IOC_SET_EVENTS, ph_bad_ptr));
	/* wrong direction: not this command */
	EXPECT_EQ(-ENOTTY, ioc_call(self->fd, _IOR(PH_IOC_MAGIC, 6, e), &e));

	/* Accepted: both formats, every known mask, a larger zero tail. */
	EXPECT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, 0));
	EXPECT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2,
				    PH_EVENT_EXIT | PH_EVENT_FORK | PH_EVENT_EXEC));
	big.tail = 0;
	EXPECT_EQ(0, ioc_call(self->fd, _IOW(PH_IOC_MAGIC, 6, big), &big));
	EXPECT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V1, 0));
	EXPECT_COUNTERS(1, 0, 0);
}

/* A failed SET_EVENTS changes nothing: the format stays what it was. */
TEST_F(ph, set_events_failure_keeps_format)
{
	struct ph_event2 e2[2];
	struct ph_event ev[4];
	pid_t pid[2];
	__u64 h[2];

	exits_in_order(_metadata, self, 2, h, pid);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, 0));
	EXPECT_EQ(-EINVAL, ioc_set_events(self->fd, PH_EVENTS_V1, PH_EVENT_FORK));
	EXPECT_EQ(sizeof(e2[0]), read(self->fd, e2, sizeof(e2[0])));
	EXPECT_EQ(1, check_v2(_metadata, e2, sizeof(e2[0])));
	EXPECT_EQ(h[0], e2[0].handle);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V1, 0));
	EXPECT_EQ(-EINVAL, ioc_set_events(self->fd, 1, 0));
	EXPECT_EQ(sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(h[1], ev[0].handle);
}

/* V1 stays the default, byte for byte: 16-byte struct ph_event records. */
TEST_F(ph, events_v1_default_unchanged)
{
	struct ph_event ev[4];
	pid_t pid[2];
	__u64 h[2];
	int i;

	exits_in_order(_metadata, self, 2, h, pid);
	ASSERT_EQ(2 * sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(h[i], ev[i].handle);
		EXPECT_EQ(pid[i], ev[i].pid);
		EXPECT_EQ((i + 1) << 8, ev[i].status);
	}
}

/* A V2 EXIT record: every field, and the same record INFO reports. */
TEST_F(ph, events_v2_exit_record)
{
	struct ph_event2 e2[2];
	struct ph_info info;
	pid_t pid[1];
	__u64 h[1];

	exits_in_order(_metadata, self, 1, h, pid);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, 0));
	ASSERT_EQ(sizeof(e2[0]), read(self->fd, e2, sizeof(e2)));
	EXPECT_EQ(1, check_v2(_metadata, e2, sizeof(e2[0])));
	EXPECT_EQ(h[0], e2[0].handle);
	EXPECT_EQ(pid[0], e2[0].pid);
	EXPECT_EQ(1 << 8, e2[0].status);
	ASSERT_EQ(0, ioc_info(self->fd, h[0], &info));
	EXPECT_EQ(0, memcmp(&info.exit, &e2[0].exit, sizeof(info.exit)));
	EXPECT_EQ(PH_EXIT_F_VALID, e2[0].exit.exit_flags);
	EXPECT_EQ(0, e2[0].exit.kill_code);
	EXPECT_EQ(0, e2[0].exit.killer_pid);
	EXPECT_LE(info.start_time, e2[0].time);
	EXPECT_GE(ph_now_ns(CLOCK_BOOTTIME), e2[0].time);
}

/* Switching applies to queued events; none is lost; order is kept. */
TEST_F(ph, events_switch_with_queued)
{
	unsigned char buf[3 * sizeof(struct ph_event2)];
	struct ph_event2 *e2 = (void *)buf;
	struct ph_event ev[6];
	pid_t pid[5];
	__u64 h[5];

	exits_in_order(_metadata, self, 5, h, pid);
	ASSERT_EQ(sizeof(ev[0]), read(self->fd, ev, sizeof(ev[0])));
	EXPECT_EQ(h[0], ev[0].handle);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, 0));
	/* a buffer for 2.5 records gets 2 whole ones */
	ASSERT_EQ(2 * sizeof(*e2), read(self->fd, buf, sizeof(*e2) * 5 / 2));
	EXPECT_EQ(2, check_v2(_metadata, buf, 2 * sizeof(*e2)));
	EXPECT_EQ(h[1], e2[0].handle);
	EXPECT_EQ(2 << 8, e2[0].status);
	EXPECT_EQ(h[2], e2[1].handle);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V1, 0));
	ASSERT_EQ(2 * sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(h[3], ev[0].handle);
	EXPECT_EQ(h[4], ev[1].handle);
	EXPECT_EQ(5 << 8, ev[1].status);
}

/* read() in V2: whole records only; EINVAL, EFAULT change nothing. */
TEST_F(ph, events_v2_read_errors)
{
	struct ph_event2 e2[2];
	struct ph_event ev[2];
	pid_t pid[1];
	__u64 h[1];

	exits_in_order(_metadata, self, 1, h, pid);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, 0));
	/* a buffer a V1 record fits in, but no V2 record */
	EXPECT_EQ(-1, read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->fd, e2, sizeof(e2[0]) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->fd, ph_bad_ptr, sizeof(e2)));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(sizeof(e2[0]), read(self->fd, e2, sizeof(e2)));
	EXPECT_EQ(h[0], e2[0].handle);
	/* none left */
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, e2, sizeof(e2)));
	EXPECT_EQ(EAGAIN, errno);
}

/* A released handle's queued event goes in either format. */
TEST_F(ph, events_v2_released_dropped)
{
	struct ph_event2 e2[3];
	pid_t pid[3];
	__u64 h[3];

	exits_in_order(_metadata, self, 3, h, pid);
	ASSERT_EQ(0, ioc_set_events(self->fd, PH_EVENTS_V2, 0));
	ASSERT_EQ(0, ioc_release(self->fd, h[1]));
	ASSERT_EQ(2 * sizeof(e2[0]), read(self->fd, e2, sizeof(e2)));
	EXPECT_EQ(h[0], e2[0].handle);
	EXPECT_EQ(h[2], e2[1].handle);
}

/* The format is per open file: a second file keeps V1. */
TEST_F(ph, events_format_per_file)
{
	struct ph_event2 e2[2];
	struct ph_event ev[2];
	struct ph_kid k;
	int fd2, dup2fd;
	__u64 h, h2;

	fd2 = ioc_open();
	ASSERT_LE(0, fd2);
	dup2fd = dup(self->fd);
	ASSERT_LE(0, dup2fd);
	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));
	ASSERT_EQ(0, ioc_acquire(fd2, k.pid, &h2));
	ASSERT_EQ(0, ioc_set_events(dup2fd, PH_EVENTS_V2, 0));
	ph_kid_exit(&k, 7);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, NULL));
	ASSERT_EQ(0, ioc_wait(fd2, h2, 0, 0, NULL));
	ASSERT_EQ(sizeof(e2[0]), read(self->fd, e2, sizeof(e2)));
	EXPECT_EQ(h, e2[0].handle);
	EXPECT_EQ(7 << 8, e2[0].status);
	ASSERT_EQ(sizeof(ev[0]), read(fd2, ev, sizeof(ev)));
	EXPECT_EQ(h2, ev[0].handle);
	EXPECT_EQ(7 << 8, ev[0].status);
	close(dup2fd);
	close(fd2);
}

/* A read-only file may choose its format (it only watches). */
TEST_F(ph, set_events_read_only_file)
{
	int ro = open(PH_DEV, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, ro);
	EXPECT_EQ(0, ioc_set_events(ro, PH_EVENTS_V2, PH_EVENT_FORK));
	EXPECT_EQ(-EINVAL, ioc_set_events(ro, 5, 0));
	close(ro);
}

/* INFO: v1 size, v2 size, sizes between and beyond; running: exit zero. */
TEST_F(ph, info_sizes)
{
	unsigned char buf[sizeof(struct ph_info) + 16];
	struct ph_info *i = (void *)buf;
	struct ph_exit zero = { 0 };
	struct ph_kid k;
	size_t s;
	__u64 h;

	ASSERT_EQ(0, ph_spawn(&k));
	ph_track(self, k.pid);
	ASSERT_EQ(0, ioc_acquire(self->fd, k.pid, &h));

	/* v1-sized: exactly 48 bytes written back */
	ASSERT_EQ(0, ioc_info_sized(self->fd, h, buf, PH_INFO_SIZE_VER0));
	EXPECT_EQ(k.pid, i->pid);
	EXPECT_EQ(PH_STATE_RUNNING, i->state);
	for (s = PH_INFO_SIZE_VER0; s < sizeof(buf); s++)
		EXPECT_EQ(0xa5, buf[s]);
	/* v2: a running process's exit record is all zero (input ignored) */
	ASSERT_EQ(0, ioc_info_sized(self->fd, h, buf, PH_INFO_SIZE_VER1));
	EXPECT_EQ(0, memcmp(&i->exit, &zero, sizeof(zero)));
	EXPECT_EQ(0xa5, buf[PH_INFO_SIZE_VER1]);
	/* between the versions: the known part, up to that size */
	ASSERT_EQ(0, ioc_info_sized(self->fd, h, buf, PH_INFO_SIZE_VER0 + 8));
	EXPECT_EQ(0, i->exit.exit_time);
	EXPECT_EQ(0xa5, buf[PH_INFO_SIZE_VER0 + 8]);
	/* larger: a zero tail is fine, a non-zero one is E2BIG */
	memset(buf, 0, sizeof(buf));
	i->handle = h;
	EXPECT_EQ(0, ioc_call(self->fd,
			      _IOC(_IOC_READ | _IOC_WRITE, PH_IOC_MAGIC, 5, sizeof(buf)),
			      buf));
	memset(buf, 0, sizeof(buf));
	i->handle = h;
	buf[sizeof(buf) - 1] = 1;
	EXPECT_EQ(-E2BIG, ioc_call(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
						  PH_IOC_MAGIC, 5, sizeof(buf)), buf));
	/* smaller than v1: EINVAL; bad pointer: EFAULT; bad handle: EBADF */
	EXPECT_EQ(-EINVAL, ioc_info_sized(self->fd, h, buf, PH_INFO_SIZE_VER0 - 8));
	EXPECT_EQ(-EFAULT, ioc_call(self->fd, PH_IOC_INFO, ph_bad_ptr));
	EXPECT_EQ(-EBADF, ioc_info_sized(self->fd, h + 1000, buf, PH_INFO_SIZE_VER1));
	ph_kid_exit(&k, 0);
	ASSERT_EQ(0, ioc_wait(self->fd, h, 0, 0, NULL));
	ASSERT_EQ(0, ioc_info_sized(self->fd, h, buf, PH_INFO_SIZE_VER1));
	EXPECT_EQ(PH_STATE_DONE, i->state);
	EXPECT_EQ(PH_EXIT_F_VALID, i->exit.exit_flags);
}

TEST_HARNESS_MAIN
