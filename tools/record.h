/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The exit record (struct ph_exit) in words and in JSON (record.c).
 */
#ifndef PROCHANDLE_RECORD_H
#define PROCHANDLE_RECORD_H

#include <stddef.h>
#include <stdio.h>

#include <prochandle.h>

/* The name of si_code @code of signal @sig ("SI_USER", "SEGV_MAPERR"). */
const char *si_code_name(int sig, int code, char *buf, size_t len);

/*
 * What follows describe_status()'s words for a process that ended with
 * @status: " from pid 17 (uid 0), OOM killer; 2.31 s CPU, 512 MiB peak,
 * ran 10.2 s" (the run time when @start_time, CLOCK_BOOTTIME ns, is not
 * 0).  Empty when @e is not filled in (PH_EXIT_F_VALID clear).
 */
void describe_exit(int status, const struct ph_exit *e, __u64 start_time,
		   char *buf, size_t len);

/* @e as a JSON object on stdout (no newline), or null when not filled in. */
void json_exit(int status, const struct ph_exit *e, __u64 start_time);

/*
 * One line for an operand @name of wait/watch that ended with @status:
 * "NAME: exited 0", with @verbose followed by the record in words, with
 * @json a JSON object instead.
 */
void print_end(const char *name, int status, const struct ph_exit *e,
	       __u64 start_time, int verbose, int json);

/* The record's lines in "prochandle info" (none while running). */
void print_info_record(int status, const struct ph_exit *e, __u64 start_time);

#endif /* PROCHANDLE_RECORD_H */
