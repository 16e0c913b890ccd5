// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libprochandle: the event queue of a table, chosen with SET_EVENTS and
 * read with read(2): V1 records (struct ph_event) and V2 records (struct
 * ph_event2, of several sizes), and the names of the event types.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "ph_private.h"
#include "prochandle.h"

PH_API int ph_set_events(int fd, __u32 format, __u32 mask)
{
	struct ph_events e;

	memset(&e, 0, sizeof(e));
	e.format = format;
	e.mask = mask;
	return ph_ioctl(fd, PH_IOC_SET_EVENTS, &e);
}

PH_API int ph_read_events(int fd, struct ph_event *events, unsigned int max)
{
	int saved = errno;
	ssize_t r;

	if (!max)
		return -EINVAL;
	if (max > INT_MAX / sizeof(*events))
		max = INT_MAX / sizeof(*events);
	r = read(fd, events, (size_t)max * sizeof(*events));
	if (r < 0) {
		r = -errno;
		errno = saved;
		return (int)r;
	}
	return (int)((size_t)r / sizeof(*events));
}

/* read(2) returning the byte count or -errno; errno is restored. */
static ssize_t read_saved(int fd, void *buf, size_t len)
{
	int saved = errno;
	ssize_t r = read(fd, buf, len);

	if (r < 0)
		r = -errno;
	errno = saved;
	return r;
}

/*
 * Read V2 records into @buf (@len bytes).  If @len cannot hold one record
 * of the module (a newer module's records are larger), read exactly one
 * into @bounce instead: each length tried is below twice the previous one
 * that was too small, so it holds one record and not two.
 */
static ssize_t read_v2(int fd, char *buf, size_t len, char *bounce,
		       size_t bounce_len, char **raw)
{
	ssize_t r = read_saved(fd, buf, len);
	size_t try;

	*raw = buf;
	for (try = 2 * len; r == -EINVAL && try <= bounce_len; try *= 2) {
		r = read_saved(fd, bounce, try);
		*raw = bounce;
	}
	return r;
}

/* The size field of the V2 record at @p (possibly unaligned). */
static size_t rec_size(const char *p)
{
	__u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

PH_API int ph_read_events2(int fd, struct ph_event2 *events, unsigned int max,
			   size_t size)
{
	const size_t min = PH_EVENT2_SIZE_VER0;
	char bounce[1024], *out = (char *)events, *raw;
	size_t total, len, off, rec, keep, n, i;
	ssize_t r;

	if (!max || size < min || size > INT_MAX)
		return -EINVAL;
	if (max > INT_MAX / size)
		max = (unsigned int)(INT_MAX / size);
	total = (size_t)max * size;
	/* Records are at least @min bytes: ask for no more than @max. */
	len = (size_t)max * min + min - 1;
	if (len > total)
		len = total;
	r = read_v2(fd, out, len, bounce, sizeof(bounce), &raw);
	if (r < 0)
		return (int)r;
	/* Every record whole, at least a V2 record, 8-byte aligned. */
	for (off = 0, n = 0; off < (size_t)r; off += rec, n++) {
		rec = (size_t)r - off < min ? 0 : rec_size(raw + off);
		if (rec < min || rec % 8 || rec > (size_t)r - off || n == max)
			return -EPROTO;
	}
	/*
	 * Records read into @events move to its end first; then storing
	 * record i at i * size never overwrites one not yet stored (each
	 * is at most @size, or all n fit in @len <= @total).
	 */
	if (raw == out) {
		raw = out + total - (size_t)r;
		memmove(raw, out, (size_t)r);
	}
	for (i = 0, off = 0; i < n; i++, off += rec) {
		__u32 got;

		rec = rec_size(raw + off);
		keep = rec < size ? rec : size;
		memmove(out + i * size, raw + off, keep);
		memset(out + i * size + keep, 0, size - keep);
		got = (__u32)keep;
		memcpy(out + i * size, &got, sizeof(got));
	}
	return (int)n;
}

PH_API const char *ph_event_name(__u32 type)
{
	switch (type) {
	case PH_EVENT_EXIT:
		return "exit";
	case PH_EVENT_FORK:
		return "fork";
	case PH_EVENT_EXEC:
		return "exec";
	}
	return "unknown";
}
