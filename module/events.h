/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Taking records off a table's event queue (events.c) for read() (read.c).
 * The protocol is stated in events.c.
 */
#ifndef _PROCHANDLE_EVENTS_H
#define _PROCHANDLE_EVENTS_H

#include <linux/types.h>

struct ph_handle;
struct ph_table;
struct ph_tev;

/* One dequeued record: an exit (a referenced handle) or a FORK/EXEC. */
struct ph_ev_item {
	struct ph_handle *h;
	struct ph_tev *e;
};

bool ph_events_pending(struct ph_table *t);
int ph_events_take(struct ph_table *t, struct ph_ev_item *it, int n,
		   bool v2, struct ph_tev *lost);
void ph_events_untake(struct ph_table *t, struct ph_ev_item *it, int n,
		      struct ph_tev *lost);
void ph_events_put(struct ph_ev_item *it, int n, bool tevs,
		   struct ph_tev *lost);

#endif /* _PROCHANDLE_EVENTS_H */
