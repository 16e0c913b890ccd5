// SPDX-License-Identifier: GPL-2.0
/*
 * prochandle: refcounted process handles, /dev/prochandle.
 *
 * Module setup: the misc device, its read-only counters in sysfs
 * (/sys/class/misc/prochandle/{files,handles,task_refs,kills,
 * kills_refused,track_lost}) and the
 * max_handles parameter.
 */
#include <linux/device.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include <linux/prochandle.h>
#include "prochandle.h"

unsigned int ph_max_handles = 65536;
module_param_named(max_handles, ph_max_handles, uint, 0644);
MODULE_PARM_DESC(max_handles, "Most handles one open file may hold (default 65536)");

struct percpu_counter ph_nr_handles;	/* live handle objects */
struct percpu_counter ph_nr_task_refs;	/* handles' process references */
atomic_long_t ph_nr_files;		/* open tables */
atomic_long_t ph_nr_kills;		/* sent by kill on release, deadlines */
atomic_long_t ph_nr_kills_refused;	/* refused with the saved credentials */

static ssize_t files_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&ph_nr_files));
}
static DEVICE_ATTR_RO(files);

static ssize_t handles_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%lld\n", percpu_counter_sum(&ph_nr_handles));
}
static DEVICE_ATTR_RO(handles);

static ssize_t task_refs_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n", percpu_counter_sum(&ph_nr_task_refs));
}
static DEVICE_ATTR_RO(task_refs);

static ssize_t kills_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&ph_nr_kills));
}
static DEVICE_ATTR_RO(kills);

static ssize_t kills_refused_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&ph_nr_kills_refused));
}
static DEVICE_ATTR_RO(kills_refused);

static ssize_t track_lost_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&ph_nr_track_lost));
}
static DEVICE_ATTR_RO(track_lost);

static struct attribute *ph_attrs[] = {
	&dev_attr_files.attr,
	&dev_attr_handles.attr,
	&dev_attr_task_refs.attr,
	&dev_attr_kills.attr,
	&dev_attr_kills_refused.attr,
	&dev_attr_track_lost.attr,
	NULL,
};
ATTRIBUTE_GROUPS(ph);

static struct miscdevice ph_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = PH_DEVICE_NAME,
	.fops = &ph_fops,
	.mode = 0666,
	.groups = ph_groups,
};

static int __init ph_init(void)
{
	int err;

	err = percpu_counter_init(&ph_nr_handles, 0, GFP_KERNEL);
	if (err)
		return err;
	err = percpu_counter_init(&ph_nr_task_refs, 0, GFP_KERNEL);
	if (err)
		goto err_handles;
	err = ph_handle_init();
	if (err)
		goto err_task_refs;
	err = ph_record_init();
	if (err)
		goto err_handle;
	err = ph_watch_init();
	if (err)
		goto err_record;
	err = ph_dl_init();
	if (err)
		goto err_watch;
	err = ph_track_init();
	if (err)
		goto err_dl;
	err = misc_register(&ph_misc);
	if (err)
		goto err_track;
	return 0;

err_track:
	ph_track_teardown();
err_dl:
	ph_dl_teardown();
err_watch:
	ph_watch_teardown();
err_record:
	ph_record_teardown();
err_handle:
	ph_handle_teardown();
err_task_refs:
	percpu_counter_destroy(&ph_nr_task_refs);
err_handles:
	percpu_counter_destroy(&ph_nr_handles);
	return err;
}

/* The module cannot be unloaded while a file is open (fops.owner). */
static void __exit ph_exit(void)
{
	misc_deregister(&ph_misc);
	ph_track_teardown();
	ph_dl_teardown();
	ph_watch_teardown();
	ph_record_teardown();
	ph_handle_teardown();
	percpu_counter_destroy(&ph_nr_task_refs);
	percpu_counter_destroy(&ph_nr_handles);
}

module_init(ph_init);
module_exit(ph_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Refcounted process handles: /dev/prochandle");
MODULE_AUTHOR("The prochandle developers");
MODULE_VERSION(PH_VERSION);
