// SPDX-License-Identifier: GPL-2.0
/*
 * Recognising a pidfd (PH_ACQUIRE_PIDFD) without unexported symbols.
 *
 * The kernel's own test, pidfd_pid(), compares file->f_op with pidfd_fops
 * (6.1-6.8) or pidfs_file_operations (6.9+); neither symbol is exported,
 * and this module uses no unexported symbols.  So a pidfd is recognised
 * by the filesystem it lives on, which only the kernel's pidfd code
 * creates files of that shape on:
 *
 *  - 6.9 and later: the inode is on pidfs (PID_FS_MAGIC).  pidfs is an
 *    internal mount that user space cannot mount or open files on except
 *    through pidfd_open(), clone3(CLONE_PIDFD), SO_PEERPIDFD and the like;
 *    its inode's i_private is the struct pid (the root inode has none).
 *  - 6.1 to 6.8 (and 6.9 built without pidfs): an anonymous inode
 *    (ANON_INODE_FS_MAGIC, a filesystem only anon_inode_getfile() and
 *    friends create files on) whose name is "[pidfd]", the name that
 *    pidfd_create() gives it; file->private_data is the struct pid.
 *
 * Both shapes are checked on every kernel, so the choice is made by what
 * the file is, not by a version number.  The caller holds a reference to
 * the file while reading the pointer, and the file holds a reference to
 * the struct pid, so get_pid() on it is safe.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/pid.h>
#include <linux/string.h>

#include "prochandle.h"

#ifndef PID_FS_MAGIC
#define PID_FS_MAGIC	0x50494446	/* include/uapi/linux/magic.h, 6.9 */
#endif

static struct pid *ph_file_pid(struct file *file)
{
	struct inode *inode = file_inode(file);
	unsigned long magic = inode->i_sb->s_magic;

	if (magic == PID_FS_MAGIC)
		return inode->i_private;
	if (magic == ANON_INODE_FS_MAGIC &&
	    !strcmp(file->f_path.dentry->d_name.name, "[pidfd]"))
		return file->private_data;
	return NULL;
}

/**
 * ph_pidfd_get_pid() - The process a pidfd refers to.
 * @fd: a file descriptor of the calling process
 *
 * Return: a referenced struct pid (put_pid() it), or ERR_PTR(-EBADF) when
 * @fd is not an open pidfd.  Whether the process still exists is the
 * caller's question.
 */
struct pid *ph_pidfd_get_pid(int fd)
{
	struct file *file;
	struct pid *pid;

	if (fd < 0)
		return ERR_PTR(-EBADF);
	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	pid = ph_file_pid(file);
	pid = pid ? get_pid(pid) : ERR_PTR(-EBADF);
	fput(file);
	return pid;
}
