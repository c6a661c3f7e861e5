// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace debugfs files that exist only for tests.
 *
 * /sys/kernel/debug/hyperplace/
 *   selftest_warn  writing a true value (1, y, on) fires one kernel
 *                  warning; the test runner uses it to prove that a WARN
 *                  in the guest's console log fails a run.
 *   inject         write "PID ADDR TYPE" lines (TYPE load, store or any):
 *                  samples enter the channel where PEBS records do.
 *   ranges         the ranges of every managed process.
 *   pebs_bench     write "RECORDS ROUNDS": time the PEBS consumer on
 *                  synthetic records; read the last result.
 */

#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

/* Lines one write to inject may hold: well under one ring. */
#define HP_INJECT_MAX	1024

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

static const char *const hp_access_names[HP_NR_ACCESS] = {
	[HP_ACCESS_LOAD] = "load",
	[HP_ACCESS_STORE] = "store",
	[HP_ACCESS_ANY] = "any",
};

/**
 * struct hp_inject - one parsed line of the inject file
 * @mm: the process's mm (an mm_users reference)
 * @addr: the address
 * @access: an &enum hp_access
 */
struct hp_inject {
	struct mm_struct *mm;
	u64 addr;
	u8 access;
};

/* The mm of @pid, reusing an earlier line's reference when it can. */
static struct mm_struct *hp_inject_mm(pid_t pid, struct hp_inject *rec,
				      const pid_t *pids, unsigned int n)
{
	struct task_struct *task;
	struct mm_struct *mm;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid) {
			mmget(rec[i].mm);
			return rec[i].mm;
		}
	task = find_get_task_by_vpid(pid);
	if (!task)
		return ERR_PTR(-ESRCH);
	mm = get_task_mm(task);
	put_task_struct(task);
	return mm ? mm : ERR_PTR(-EINVAL);
}

/* Parse "PID ADDR TYPE" into @rec (taking a reference on the mm). */
static int hp_inject_parse(char *line, struct hp_inject *rec, pid_t *pid,
			   struct hp_inject *prev, const pid_t *pids,
			   unsigned int n)
{
	char *tok[3];
	int i, access, ret;

	for (i = 0; i < 3; i++) {
		do {
			tok[i] = strsep(&line, " \t");
		} while (tok[i] && !*tok[i]);
		if (!tok[i])
			return -EINVAL;
	}
	if (line && *skip_spaces(line))
		return -EINVAL;
	ret = kstrtoint(tok[0], 10, pid);
	if (ret || *pid <= 0)
		return -EINVAL;
	ret = kstrtou64(tok[1], 0, &rec->addr);
	if (ret)
		return -EINVAL;
	access = match_string(hp_access_names, HP_NR_ACCESS, tok[2]);
	if (access < 0)
		return -EINVAL;
	rec->access = access;
	rec->mm = hp_inject_mm(*pid, prev, pids, n);
	return PTR_ERR_OR_ZERO(rec->mm);
}

/* Write runs of samples of one mm as one batch each. */
static void hp_inject_push(const struct hp_inject *rec, unsigned int n)
{
	struct hp_channel_batch b;
	unsigned int i;

	preempt_disable();
	for (i = 0; i < n; i++) {
		if (!i || rec[i].mm != rec[i - 1].mm) {
			if (i)
				hp_channel_end(&b);
			hp_channel_begin(&b, rec[i].mm, HP_SRC_INJECT);
		}
		hp_channel_add(&b, rec[i].addr, 1, rec[i].access);
	}
	if (n)
		hp_channel_end(&b);
	preempt_enable();
}

static ssize_t inject_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct hp_inject *rec;
	unsigned int n = 0, i;
	char *buf, *cur, *line;
	pid_t *pids;
	int ret = 0;

	if (count > HP_INJECT_MAX * 64)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	rec = kvcalloc(HP_INJECT_MAX, sizeof(*rec), GFP_KERNEL);
	pids = kvcalloc(HP_INJECT_MAX, sizeof(*pids), GFP_KERNEL);
	if (!rec || !pids) {
		ret = -ENOMEM;
		goto out;
	}
	/* Parse everything first: a bad line injects nothing. */
	cur = buf;
	while ((line = strsep(&cur, "\n"))) {
		if (!*skip_spaces(line))
			continue;
		if (n == HP_INJECT_MAX) {
			ret = -E2BIG;
			break;
		}
		ret = hp_inject_parse(line, &rec[n], &pids[n], rec, pids, n);
		if (ret)
			break;
		n++;
	}
	/*
	 * Attach here, where the pid is known, for the reports; a process
	 * that is not placed gets no state, as with the real sources.
	 */
	for (i = 0; !ret && i < n; i++)
		if (hp_mm_wanted(rec[i].mm) &&
		    IS_ERR(hp_mm_attach(rec[i].mm, pids[i])))
			ret = -ENOMEM;
	if (!ret)
		hp_inject_push(rec, n);
	for (i = 0; i < n; i++)
		mmput(rec[i].mm);
	if (!ret)
		hp_kick();
out:
	kvfree(pids);
	kvfree(rec);
	kfree(buf);
	return ret ? ret : count;
}

static const struct file_operations inject_fops = {
	.write = inject_write,
	.llseek = noop_llseek,
};

static int ranges_show(struct seq_file *m, void *v)
{
	struct hp_mm *hpm;
	struct hp_range *r;

	mutex_lock(&hp_mms_lock);
	list_for_each_entry(hpm, &hp_mms, node) {
		mutex_lock(&hp_spaces_lock);
		seq_printf(m, "pid %d ranges %u samples %llu\n", hpm->pid,
			   hpm->space->nr_ranges, hpm->space->stats.samples);
		for (r = hp_space_first(hpm->space); r; r = hp_range_next(r))
			seq_printf(m, "  0x%lx-0x%lx count %llu hot 0x%lx-0x%lx\n",
				   r->start, r->end, hp_range_count(r),
				   r->hot_start, r->hot_end);
		mutex_unlock(&hp_spaces_lock);
	}
	mutex_unlock(&hp_mms_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ranges);

static DEFINE_MUTEX(hp_bench_lock);
static char hp_bench_result[128] = "none\n";

static ssize_t pebs_bench_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	unsigned int records, rounds;
	char buf[32];
	u64 ns;
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	if (sscanf(buf, "%u %u", &records, &rounds) != 2)
		return -EINVAL;
	ret = hp_pebs_bench(records, rounds, &ns);
	if (ret)
		return ret;
	mutex_lock(&hp_bench_lock);
	snprintf(hp_bench_result, sizeof(hp_bench_result),
		 "records %u rounds %u ns %llu ns_per_record %llu.%02llu\n",
		 records, rounds, ns, div64_u64(ns, (u64)records * rounds),
		 div64_u64(ns * 100, (u64)records * rounds) % 100);
	mutex_unlock(&hp_bench_lock);
	return count;
}

static ssize_t pebs_bench_read(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	char buf[sizeof(hp_bench_result)];

	mutex_lock(&hp_bench_lock);
	strscpy(buf, hp_bench_result, sizeof(buf));
	mutex_unlock(&hp_bench_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, strlen(buf));
}

static const struct file_operations pebs_bench_fops = {
	.read = pebs_bench_read,
	.write = pebs_bench_write,
	.llseek = default_llseek,
};

/* Passive: no mode chooses it, it writes when the inject file is. */
static const struct hp_source_ops hp_inject_source = {
	.id = HP_SRC_INJECT,
	.name = "inject",
	.desc = "debugfs injection",
};

static int __init hp_inject_init(void)
{
	hp_source_register(&hp_inject_source);
	return 0;
}
subsys_initcall(hp_inject_init);

static int __init hyperplace_debugfs_init(void)
{
	/* Nothing to inject into or dump if HyperPlace did not start. */
	if (!hp_core_running())
		return 0;
	hyperplace_debugfs_dir = debugfs_create_dir("hyperplace", NULL);
	debugfs_create_file("selftest_warn", 0200, hyperplace_debugfs_dir,
			    NULL, &selftest_warn_fops);
	debugfs_create_file("inject", 0200, hyperplace_debugfs_dir, NULL,
			    &inject_fops);
	debugfs_create_file("ranges", 0400, hyperplace_debugfs_dir, NULL,
			    &ranges_fops);
	debugfs_create_file("pebs_bench", 0600, hyperplace_debugfs_dir, NULL,
			    &pebs_bench_fops);
	return 0;
}
late_initcall(hyperplace_debugfs_init);
