// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: what the loaded module costs processes it does not watch
 * (SPEC section 14): fork+exit+wait and kill(2) with the module loaded
 * (its hooks armed, 10,000 handles live on another process, none on
 * these) against the module not loaded.  The module is unloaded with
 * delete_module() and loaded again from /opt/prochandle/prochandle.ko
 * (where the guest's init found it) with finit_module(); time mode
 * alternates loaded and unloaded blocks, instruction mode needs one each.
 */
#include "phbench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define KO	"/opt/prochandle/prochandle.ko"

static void op_fork_exit_wait(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid)
		_exit(0);
	reap(pid);
}

/* A signal the target ignores: generated and traced, never delivered. */
static void op_kill(void)
{
	if (kill(child_c, SIGWINCH))
		die("kill");
}

static bool unload(void)
{
	close(phfd);
	phfd = -1;
	for (int i = 0; i < 100; i++) {	/* closed files go away via RCU */
		if (!syscall(SYS_delete_module, "prochandle", O_NONBLOCK))
			return true;
		if (errno != EAGAIN && errno != EBUSY && errno != EWOULDBLOCK)
			break;
		usleep(10000);
	}
	note("delete_module(prochandle): %m");
	return false;
}

static void load(void)
{
	int fd = open(KO, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
		die("finit_module " KO);
	close(fd);
	setup();
}

static struct variant v[2][2];	/* [op][loaded] */

static void measure(int loaded, int from, int n)
{
	int table = -1;

	if (loaded) {	/* 10,000 handles live on another process */
		table = ph_open();
		for (int i = 0; i < 10000; i++)
			ph_acquire(table, child_w);
	}
	for (int op = 0; op < 2; op++)
		sample_block(&v[op][loaded], from, n);
	if (table >= 0)
		close(table);
}

void hook_rows(void)
{
	static const char * const names[2][2] = {
		{ "fork+exit+wait, module not loaded", "fork+exit+wait, module loaded" },
		{ "kill(2), module not loaded", "kill(2), module loaded" },
	};
	int blocks = icount ? 1 : 4, per = reps / blocks;

	if (per < 1)
		per = 1;
	for (int op = 0; op < 2; op++)
		for (int l = 0; l < 2; l++) {
			v[op][l].name = names[op][l];
			v[op][l].op = op ? op_kill : op_fork_exit_wait;
			v[op][l].fixed = op ? 0 : 20;	/* a fork: ~600k */
		}
	for (int b = 0; b < blocks; b++) {
		measure(1, b * per, per);
		if (!unload()) {
			add_skipped_row("hooks-fork", "fork+exit+wait, loaded vs not",
					"the module could not be unloaded");
			add_skipped_row("hooks-kill", "kill(2), loaded vs not",
					"the module could not be unloaded");
			setup();
			return;
		}
		measure(0, b * per, per);
		load();
	}
	for (int op = 0; op < 2; op++)
		for (int l = 0; l < 2; l++)
			finish_variant(&v[op][l], blocks * per);
	add_row("hooks-fork", "fork+exit+wait, loaded vs not", U_NS,
		v[0][1].value, v[0][0].value, v[0][1].value / v[0][0].value,
		LE, 1.03);
	add_row("hooks-kill", "kill(2), loaded vs not", U_NS, v[1][1].value,
		v[1][0].value, v[1][1].value / v[1][0].value, LE, 1.03);
}
