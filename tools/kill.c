// SPDX-License-Identifier: GPL-2.0-only
/*
 * prochandle kill: signal processes through handles, so that no signal
 * reaches a process that merely reused a number; with --tree, every
 * process of the trees, those forked meanwhile too (tree.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tree.h"

static void list_signals(void)
{
	char buf[32];
	int sig;

	for (sig = 1; sig <= SIGRTMAX; sig++) {
		signal_name(sig, buf, sizeof(buf));
		if (strncmp(buf, "SIG", 3))
			continue;
		printf("%2d %s\n", sig, buf + 3);
	}
}

/* kill --tree: every process of the trees, those forked meanwhile too. */
static int kill_tree(int sig, const struct target *t, int n)
{
	int i, ret, fail = 0, rounds;
	struct tree tr;
	__u64 h;

	if (tree_open(&tr, 0, 0))
		return EX_FAILURE;
	for (i = 0; i < n; i++) {
		ret = tree_acquire(&tr, &t[i], i + 1, &h);
		if (ret)
			fail = target_error(&t[i], ret);
	}
	/* Until a round finds no process it has not signalled yet. */
	for (rounds = 0; rounds < 1000; rounds++) {
		if (tree_drain(&tr, NULL, NULL) || !tree_signal(&tr, sig))
			break;
	}
	for (i = 0; i < tr.nn; i++)
		if (tr.n[i].root && tr.n[i].err)
			fail = target_error(&t[tr.n[i].root - 1], tr.n[i].err);
	tree_close(&tr);
	return fail;
}

int cmd_kill(int argc, char **argv)
{
	int sig = SIGTERM, fail = 0, fd, n, i, tree = 0;
	struct target *t;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "-l") || !strcmp(a, "--list")) {
			list_signals();
			return 0;
		}
		if (!strcmp(a, "-T") || !strcmp(a, "--tree")) {
			tree = 1;
			continue;
		}
		if (!strcmp(a, "-s") || !strcmp(a, "--signal") || !strcmp(a, "-n")) {
			if (++i == argc)
				return usage_error("%s needs a signal", a);
			a = argv[i];
		} else if (!strncmp(a, "--signal=", 9)) {
			a += 9;
		} else {
			a++;
		}
		sig = parse_signal(a);
		if (sig < 0)
			return usage_error("'%s': unknown signal", a);
	}
	n = parse_targets(argc - i, argv + i, &t);
	if (n < 0)
		return EX_FAILURE;
	if (tree) {
		fail = kill_tree(sig, t, n);
		free(t);
		return fail;
	}
	fd = open_device(0);
	if (fd < 0) {
		free(t);
		return EX_FAILURE;
	}
	for (i = 0; i < n; i++) {
		__u64 h;
		int ret = acquire_target(fd, &t[i], &h);

		if (!ret) {
			ret = ph_signal(fd, h, sig);
			ph_release(fd, h);
		}
		if (ret) {
			fail = target_error(&t[i], ret);
			if (fail == EX_FAILURE)
				break;
		}
	}
	ph_close(fd);
	free(t);
	return fail;
}
