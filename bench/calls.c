// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: the per-call rows (SPEC sections 7 and 14): each prochandle
 * call against the pidfd call (or null ioctl) that does the same job.
 */
#include "phbench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int pipefd[2] = { -1, -1 };
static int ptyfd = -1;

static void op_acq_rel_w(void)
{
	ph_release(phfd, ph_acquire(phfd, child_w));
}

static void op_acq_rel_c(void)
{
	ph_release(phfd, ph_acquire(phfd, child_c));
}

static void pidfd_open_close(pid_t pid)
{
	int fd = syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		die("pidfd_open %d", pid);
	close(fd);
}

static void op_pidfd_open_close_w(void)
{
	pidfd_open_close(child_w);
}

static void op_pidfd_open_close_c(void)
{
	pidfd_open_close(child_c);
}

static void op_ph_signal(void)
{
	struct ph_signal s = { .handle = h_w, .sig = 0 };

	if (ioctl(phfd, PH_IOC_SIGNAL, &s))
		die("SIGNAL 0");
}

static void op_pidfd_signal(void)
{
	if (syscall(SYS_pidfd_send_signal, pidfd_w, 0, NULL, 0))
		die("pidfd_send_signal 0");
}

static void op_ph_info(void)
{
	struct ph_info i = { .handle = h_w };

	if (ioctl(phfd, PH_IOC_INFO, &i))
		die("INFO");
}

/* INFO with the v1 argument (PH_INFO_SIZE_VER0: no exit record). */
struct ph_info_v1 {
	unsigned char b[PH_INFO_SIZE_VER0];
};
#define PH_IOC_INFO_V1	_IOWR(PH_IOC_MAGIC, _IOC_NR(PH_IOC_INFO), struct ph_info_v1)

static void op_ph_info_v1(void)
{
	struct ph_info i = { .handle = h_w };

	if (ioctl(phfd, PH_IOC_INFO_V1, &i))
		die("INFO (v1 size)");
}

static void op_null_enotty(void)
{
	struct ph_info i = { .handle = h_w };

	if (ioctl(phfd, PH_IOC_NULL, &i) != -1 || errno != ENOTTY)
		die("null ioctl did not fail with ENOTTY");
}

static void op_null_fionread(void)
{
	int n;

	if (ioctl(pipefd[0], FIONREAD, &n))
		die("FIONREAD");
}

static void op_tcgets(void)
{
	struct termios tio;

	if (ioctl(ptyfd, TCGETS, &tio))
		die("TCGETS");
}

static void op_ph_wait_nohang(void)
{
	struct ph_wait w = { .handle = h_w, .flags = PH_WAIT_NOHANG };

	if (ioctl(phfd, PH_IOC_WAIT, &w) != -1 || errno != EAGAIN)
		die("WAIT no-hang on a running process did not fail with EAGAIN");
}

static void op_waitid_nohang(void)
{
	siginfo_t si;

	si.si_pid = 0;
	if (waitid(P_PIDFD, pidfd_w, &si, WEXITED | WNOHANG) || si.si_pid)
		die("waitid(P_PIDFD, WNOHANG) on a running child");
}

/* Each row: prochandle's call, its baseline, the target ratio. */
static const struct pair {
	const char *key, *row;
	const char *a_name, *b_name;
	void (*a)(void), (*b)(void);
	double limit;			/* NAN: a reference, no target */
} pairs[] = {
	{ "acquire1", "acquire+release, first handle on a process",
	  "acquire+release (first handle)", "pidfd_open+close (same target)",
	  op_acq_rel_c, op_pidfd_open_close_c, 0.8 },
	{ "acquire2", "acquire+release, process already watched",
	  "acquire+release (proc watched)", "pidfd_open+close",
	  op_acq_rel_w, op_pidfd_open_close_w, 0.6 },
	{ "signal", "SIGNAL 0 vs pidfd_send_signal 0", "SIGNAL 0",
	  "pidfd_send_signal 0", op_ph_signal, op_pidfd_signal, 1.1 },
	{ "info", "INFO vs null ioctl (ENOTTY, same device)", "INFO",
	  "null ioctl: ENOTTY, same device", op_ph_info, op_null_enotty, 1.2 },
	{ "info-v1", "INFO v1 size (48 B) vs null ioctl (reference)",
	  "INFO, v1 argument (48 B)", "null ioctl: ENOTTY, same device",
	  op_ph_info_v1, op_null_enotty, NAN },
	{ "info-fionread", "INFO vs FIONREAD on a pipe (reference)", "INFO",
	  "FIONREAD on a pipe", op_ph_info, op_null_fionread, NAN },
	{ "info-tcgets", "INFO vs TCGETS on a pty (reference)", "INFO",
	  "TCGETS on a pty", op_ph_info, op_tcgets, NAN },
	{ "wait-nohang", "WAIT no-hang, running vs waitid(P_PIDFD)",
	  "WAIT no-hang (running)", "waitid(P_PIDFD, WNOHANG)",
	  op_ph_wait_nohang, op_waitid_nohang, 1.0 },
};

static struct variant va, vb;

void call_rows(void)
{
	if (pipe(pipefd))
		die("pipe");
	ptyfd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct pair *p = &pairs[i];

		if (p->b == op_tcgets && ptyfd < 0) {
			add_skipped_row(p->key, p->row, "no pty");
			continue;
		}
		va.name = p->a_name;
		va.op = p->a;
		vb.name = p->b_name;
		vb.op = p->b;
		/*
		 * The first handle on a process: no other process watched
		 * either, so that the exit-watch hash table's random seed
		 * cannot put two watches in one bucket on some boots.
		 */
		if (p->a == op_acq_rel_c)
			ph_release(phfd, h_w);
		compare(&va, &vb);
		if (p->a == op_acq_rel_c)
			h_w = ph_acquire(phfd, child_w);
		add_pair_row(p->key, p->row, &va, &vb, p->limit);
	}
	if (ptyfd >= 0)
		close(ptyfd);
	close(pipefd[0]);
	close(pipefd[1]);
}
