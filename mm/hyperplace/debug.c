// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace debugfs files that exist only for tests.
 *
 * /sys/kernel/debug/hyperplace/selftest_warn: writing a true value
 * (1, y, on) fires one kernel warning.  The test runner uses it to prove
 * that a WARN in the guest's console log fails a run.
 */

#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kstrtox.h>

static struct dentry *hyperplace_debugfs_dir;

static ssize_t selftest_warn_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	bool warn;
	int ret;

	ret = kstrtobool_from_user(ubuf, count, &warn);
	if (ret)
		return ret;

	WARN(warn, "hyperplace: deliberate warning requested through debugfs\n");
	return count;
}

static const struct file_operations selftest_warn_fops = {
	.write = selftest_warn_write,
	.llseek = noop_llseek,
};

static int __init hyperplace_debugfs_init(void)
{
	hyperplace_debugfs_dir = debugfs_create_dir("hyperplace", NULL);
	debugfs_create_file("selftest_warn", 0200, hyperplace_debugfs_dir,
			    NULL, &selftest_warn_fops);
	return 0;
}
late_initcall(hyperplace_debugfs_init);
