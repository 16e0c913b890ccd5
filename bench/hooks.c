// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: what the loaded module costs processes it does not watch
 * (SPEC section 14): fork+exit+wait and kill(2) with the module loaded
 * (its hooks armed, none of its handles on these processes; then again
 * with 10,000 handles live on another process) against the module not
 * loaded.  The module is unloaded with
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

/* Module states, in the order measured. */
enum { S_LOADED_10K, S_LOADED, S_UNLOADED, S_STATES };

static struct variant v[2][S_STATES];	/* [op][state] */

/*
 * Samples [from, from + n) of both ops in @state; fork+exit+wait is
 * dearer (~600k instructions a call): @nfork samples of it.
 */
static void measure(int state, int from, int n, int nfork)
{
	int table = -1;

	if (state == S_LOADED_10K) {	/* 10,000 handles live on another process */
		table = ph_open();
		for (int i = 0; i < 10000; i++)
			ph_acquire(table, child_w);
	}
	sample_block(&v[0][state], from, nfork);
	sample_block(&v[1][state], from, n);
	if (table >= 0)
		close(table);
}

static void hook_row(const char *key, const char *name, int op, int state)
{
	struct variant *a = &v[op][state], *b = &v[op][S_UNLOADED];

	add_row(key, name, U_NS, a->value, b->value, a->value / b->value,
		LE, 1.03);
	set_row_means(a->mean, b->mean);
}

void hook_rows(void)
{
	static const char * const names[2][S_STATES] = {
		{ "fork+exit+wait, loaded, 10k handles live", "fork+exit+wait, module loaded",
		  "fork+exit+wait, module not loaded" },
		{ "kill(2), loaded, 10k handles live", "kill(2), module loaded",
		  "kill(2), module not loaded" },
	};
	int blocks = icount ? 1 : 4, per = reps / blocks, nfork;

	if (per < 1)
		per = 1;
	nfork = icount && per > 100 ? 100 : per;
	for (int op = 0; op < 2; op++)
		for (int s = 0; s < S_STATES; s++) {
			v[op][s].name = names[op][s];
			v[op][s].op = op ? op_kill : op_fork_exit_wait;
			v[op][s].fixed = op ? 0 : (icount ? 1 : 20);
		}
	for (int b = 0; b < blocks; b++) {
		measure(S_LOADED_10K, b * per, per, nfork);
		measure(S_LOADED, b * per, per, nfork);
		if (!unload()) {
			static const char * const keys[] = {
				"hooks-fork", "hooks-fork-10k", "hooks-kill", "hooks-kill-10k",
			};

			for (int i = 0; i < 4; i++)
				add_skipped_row(keys[i], keys[i],
						"the module could not be unloaded");
			setup();
			return;
		}
		measure(S_UNLOADED, b * per, per, nfork);
		load();
	}
	for (int op = 0; op < 2; op++)
		for (int s = 0; s < S_STATES; s++)
			finish_variant(&v[op][s], blocks * (op ? per : nfork));
	hook_row("hooks-fork", "fork+exit+wait, loaded vs not", 0, S_LOADED);
	hook_row("hooks-fork-10k", "fork+exit+wait, loaded, 10k live vs not", 0,
		 S_LOADED_10K);
	hook_row("hooks-kill", "kill(2), loaded vs not", 1, S_LOADED);
	hook_row("hooks-kill-10k", "kill(2), loaded, 10k live vs not", 1,
		 S_LOADED_10K);
}
