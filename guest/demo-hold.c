// SPDX-License-Identifier: GPL-2.0
/*
 * demo-hold: keep one prochandle handle open across time, for `make demo`.
 *
 *   demo-hold PID FIFO
 *
 * Acquires PID (pinned to its start time), says so, then blocks reading a
 * signal name line ("TERM", "0", ...) from FIFO and sends that signal
 * through the handle it has held since, whatever the number names now.
 * One line of output per step; exit 0 when the signal went through, 1 when
 * it was refused, 2 on a usage or setup error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <prochandle.h>

static int parse_signal(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "0", 0 }, { "TERM", SIGTERM }, { "KILL", SIGKILL },
		{ "INT", SIGINT }, { "HUP", SIGHUP }, { "USR1", SIGUSR1 },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].sig;
	return -1;
}

int main(int argc, char **argv)
{
	char line[32];
	__u64 handle;
	FILE *fifo;
	int fd, err, sig;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: demo-hold PID FIFO\n");
		return 2;
	}
	pid = atoi(argv[1]);
	fd = ph_open(0);
	if (fd < 0) {
		fprintf(stderr, "demo-hold: /dev/prochandle: %s\n", ph_strerror(fd));
		return 2;
	}
	err = ph_acquire_pinned(fd, pid, &handle);
	if (err < 0) {
		fprintf(stderr, "demo-hold: %d: %s\n", pid, ph_strerror(err));
		return 2;
	}
	printf("holder: handle %llu now refers to pid %d\n",
	       (unsigned long long)handle, pid);
	fflush(stdout);

	fifo = fopen(argv[2], "r");
	if (!fifo || !fgets(line, sizeof(line), fifo)) {
		fprintf(stderr, "demo-hold: %s: no signal to send\n", argv[2]);
		return 2;
	}
	line[strcspn(line, "\n")] = '\0';
	sig = parse_signal(line);
	if (sig < 0) {
		fprintf(stderr, "demo-hold: unknown signal %s\n", line);
		return 2;
	}
	err = ph_signal(fd, handle, sig);
	if (err < 0) {
		printf("holder: SIG%s through handle %llu (pid %d): refused: %s\n",
		       line, (unsigned long long)handle, pid, ph_strerror(err));
		return 1;
	}
	printf("holder: SIG%s through handle %llu (pid %d): delivered\n",
	       line, (unsigned long long)handle, pid);
	return 0;
}
