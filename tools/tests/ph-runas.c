// SPDX-License-Identifier: GPL-2.0-only
/*
 * ph-runas UID COMMAND [ARG]...: drop to UID (and GID = UID, no
 * supplementary groups) and exec COMMAND.  For the CLI tests' permission
 * cases; needs root.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *end;
	long id;

	if (argc < 3) {
		fprintf(stderr, "usage: ph-runas UID COMMAND [ARG]...\n");
		return 125;
	}
	id = strtol(argv[1], &end, 10);
	if (*end || id < 0) {
		fprintf(stderr, "ph-runas: bad uid '%s'\n", argv[1]);
		return 125;
	}
	if (setgroups(0, NULL) || setgid((gid_t)id) || setuid((uid_t)id)) {
		perror("ph-runas");
		return 125;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "ph-runas: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
