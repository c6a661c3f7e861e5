// SPDX-License-Identifier: GPL-2.0-only
/*
 * /sys/kernel/mm/hyperplace/: knobs and statistics.
 * Every write is validated whole before anything changes.
 */
#define pr_fmt(fmt) "hyperplace: " fmt

#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "internal.h"

/**
 * struct hp_knob - a numeric field of &struct hp_config
 * @attr: its sysfs file
 * @offset: offset of the field in &struct hp_config
 * @size: size of the field: 1 (a bool, only 0 or 1), 4 or 8 bytes
 */
struct hp_knob {
	struct kobj_attribute attr;
	size_t offset;
	unsigned int size;
};

static u64 hp_knob_get(const struct hp_knob *k, const struct hp_config *c)
{
	const void *p = (const void *)c + k->offset;

	if (k->size == 1)
		return *(const bool *)p;
	return k->size == 8 ? *(const u64 *)p : *(const u32 *)p;
}

static ssize_t hp_knob_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	struct hp_knob *k = container_of(attr, struct hp_knob, attr);
	u64 v;

	mutex_lock(&hp_config_lock);
	v = hp_knob_get(k, &hp_config);
	mutex_unlock(&hp_config_lock);
	return sysfs_emit(buf, "%llu\n", v);
}

/*
 * Set the field of &struct hp_config at @offset (@size bytes) to @v and
 * apply the result, which checks every knob's range in one place.
 */
static int hp_config_write(size_t offset, unsigned int size, u64 v)
{
	struct hp_config c;
	void *p = (void *)&c + offset;
	int ret;

	mutex_lock(&hp_config_lock);
	c = hp_config;
	if (size == 8)
		*(u64 *)p = v;
	else if (size == 4)
		*(u32 *)p = v;
	else
		*(bool *)p = v;
	ret = hp_config_apply(&c);
	mutex_unlock(&hp_config_lock);
	return ret;
}

static ssize_t hp_knob_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	struct hp_knob *k = container_of(attr, struct hp_knob, attr);
	u64 v;
	int ret;

	ret = kstrtou64(buf, 0, &v);
	if (ret)
		return ret == -ERANGE ? -ERANGE : -EINVAL;
	if (k->size == 1 && v > 1)
		return -EINVAL;
	if (k->size == 4 && v > U32_MAX)
		return -ERANGE;
	ret = hp_config_write(k->offset, k->size, v);
	return ret ? ret : count;
}

#define HP_KNOB(_name, _field)						\
	static_assert(sizeof_field(struct hp_config, _field) == 1 ||	\
		      sizeof_field(struct hp_config, _field) == 4 ||	\
		      sizeof_field(struct hp_config, _field) == 8);	\
	static struct hp_knob hp_knob_##_name = {			\
		.attr = __ATTR(_name, 0644, hp_knob_show, hp_knob_store), \
		.offset = offsetof(struct hp_config, _field),		\
		.size = sizeof_field(struct hp_config, _field),		\
	}

/* checkpatch: _field is a member designator, evaluated at compile time. */
HP_KNOB(pebs_load_period, pebs.load_period);
HP_KNOB(pebs_store_period, pebs.store_period);
HP_KNOB(pebs_ldlat, pebs.ldlat);
HP_KNOB(abit_interval_ms, abit_interval_ms);
HP_KNOB(abit_pages, abit_pages);
HP_KNOB(epoch_ms, epoch_ms);
HP_KNOB(enabled, enabled);
HP_KNOB(migrate, migrate);
HP_KNOB(rate_limit_mibps, rate_limit_mib);
HP_KNOB(headroom_pct, headroom_pct);
HP_KNOB(split_ratio, range.split_ratio);
HP_KNOB(split_min_samples, range.split_min_samples);
HP_KNOB(merge_ratio, range.merge_ratio);
HP_KNOB(merge_floor_samples, range.merge_floor_samples);
HP_KNOB(min_age, range.min_age);
HP_KNOB(max_ranges, range.max_ranges);
HP_KNOB(decay_shift, range.decay_shift);
HP_KNOB(hysteresis, range.hysteresis);

static_assert(sizeof_field(struct hp_config, enabled) == 1);
static_assert(sizeof_field(struct hp_config, migrate) == 1);
static_assert(sizeof_field(struct hp_config, mode) == 4);
static_assert(sizeof_field(struct hp_config, scope) == 4);

/**
 * struct hp_choice - an enum field of &struct hp_config, set by name
 * @attr: its sysfs file
 * @offset: offset of the field in &struct hp_config
 * @names: the name of each value
 * @nr: number of values
 */
struct hp_choice {
	struct kobj_attribute attr;
	size_t offset;
	const char *const *names;
	unsigned int nr;
};

static ssize_t hp_choice_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	struct hp_choice *c = container_of(attr, struct hp_choice, attr);
	unsigned int i, cur;
	int len = 0;

	mutex_lock(&hp_config_lock);
	cur = *(const u32 *)((const void *)&hp_config + c->offset);
	mutex_unlock(&hp_config_lock);
	for (i = 0; i < c->nr; i++)
		len += sysfs_emit_at(buf, len, i == cur ? "%s[%s]" : "%s%s",
				     i ? " " : "", c->names[i]);
	return len + sysfs_emit_at(buf, len, "\n");
}

static ssize_t hp_choice_store(struct kobject *kobj,
			       struct kobj_attribute *attr, const char *buf,
			       size_t count)
{
	struct hp_choice *c = container_of(attr, struct hp_choice, attr);
	int v, ret;

	v = __sysfs_match_string(c->names, c->nr, buf);
	if (v < 0)
		return -EINVAL;
	ret = hp_config_write(c->offset, 4, v);
	return ret ? ret : count;
}

static const char *const hp_scope_names[HP_NR_SCOPES] = {
	[HP_SCOPE_ALL] = "all",
	[HP_SCOPE_OPTED_IN] = "opted_in",
};

#define HP_CHOICE(_name, _field, _names)				\
	static struct hp_choice hp_choice_##_name = {			\
		.attr = __ATTR(_name, 0644, hp_choice_show, hp_choice_store), \
		.offset = offsetof(struct hp_config, _field),		\
		.names = _names,					\
		.nr = ARRAY_SIZE(_names),				\
	}

HP_CHOICE(source, mode, hp_mode_names);
HP_CHOICE(scope, scope, hp_scope_names);

/* The fast (or slow) nodes: a node list, or the lowest node (-1: none). */
static ssize_t hp_nodes_show(char *buf, bool fast, bool list)
{
	struct hp_tiers t;
	nodemask_t *nodes;

	hp_tiers_get(&t);
	nodes = fast ? &t.fast : &t.slow;
	if (list)
		return sysfs_emit(buf, "%*pbl\n", nodemask_pr_args(nodes));
	return sysfs_emit(buf, "%d\n",
			  nodes_empty(*nodes) ? -1 : (int)first_node(*nodes));
}

static ssize_t fast_node_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return hp_nodes_show(buf, true, false);
}

static ssize_t slow_node_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return hp_nodes_show(buf, false, false);
}

static ssize_t fast_nodes_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return hp_nodes_show(buf, true, true);
}

static ssize_t slow_nodes_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return hp_nodes_show(buf, false, true);
}

static struct kobj_attribute fast_node_attr = __ATTR_RO(fast_node);
static struct kobj_attribute slow_node_attr = __ATTR_RO(slow_node);
static struct kobj_attribute fast_nodes_attr = __ATTR_RO(fast_nodes);
static struct kobj_attribute slow_nodes_attr = __ATTR_RO(slow_nodes);

static ssize_t yielded_to_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", hp_yielded_to() ?: "none");
}

static struct kobj_attribute yielded_to_attr = __ATTR_RO(yielded_to);

static ssize_t active_source_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	bool running;
	enum hp_source src = hp_active_source(&running);

	return sysfs_emit(buf, "%s\n", running ? hp_source_name(src) : "none");
}

static struct kobj_attribute active_source_attr = __ATTR_RO(active_source);

static struct attribute *hp_attrs[] = {
	&hp_knob_enabled.attr.attr,
	&hp_choice_source.attr.attr,
	&active_source_attr.attr,
	&hp_choice_scope.attr.attr,
	&hp_knob_migrate.attr.attr,
	&hp_knob_rate_limit_mibps.attr.attr,
	&hp_knob_headroom_pct.attr.attr,
	&fast_node_attr.attr,
	&slow_node_attr.attr,
	&fast_nodes_attr.attr,
	&slow_nodes_attr.attr,
	&yielded_to_attr.attr,
	&hp_knob_split_ratio.attr.attr,
	&hp_knob_split_min_samples.attr.attr,
	&hp_knob_merge_ratio.attr.attr,
	&hp_knob_merge_floor_samples.attr.attr,
	&hp_knob_min_age.attr.attr,
	&hp_knob_max_ranges.attr.attr,
	&hp_knob_decay_shift.attr.attr,
	&hp_knob_hysteresis.attr.attr,
	&hp_knob_pebs_load_period.attr.attr,
	&hp_knob_pebs_store_period.attr.attr,
	&hp_knob_pebs_ldlat.attr.attr,
	&hp_knob_abit_interval_ms.attr.attr,
	&hp_knob_abit_pages.attr.attr,
	&hp_knob_epoch_ms.attr.attr,
	NULL,
};

static const struct attribute_group hp_group = {
	.attrs = hp_attrs,
};

/* Statistics: one file per source and counter. */
enum hp_counter {
	HP_CNT_RECEIVED,
	HP_CNT_DROPPED,
	HP_CNT_ATTRIBUTED,
	HP_CNT_OUTSIDE,
	HP_CNT_EXITED,
};

/**
 * struct hp_stat_attr - a read-only counter file of stats/
 * @attr: the file
 * @source: for per-source counters, the &enum hp_source
 * @counter: which counter
 */
struct hp_stat_attr {
	struct kobj_attribute attr;
	u8 source;
	u8 counter;
};

static ssize_t hp_stat_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	struct hp_stat_attr *sa = container_of(attr, struct hp_stat_attr, attr);
	struct hp_source_stats st;
	u64 v[HP_CNT_EXITED + 1];

	hp_source_counts(sa->source, &v[HP_CNT_RECEIVED], &v[HP_CNT_DROPPED],
			 &st);
	v[HP_CNT_ATTRIBUTED] = st.attributed;
	v[HP_CNT_OUTSIDE] = st.outside;
	v[HP_CNT_EXITED] = st.exited;
	return sysfs_emit(buf, "%llu\n", v[sa->counter]);
}

#define HP_STAT(_src, _cnt, _name) {				\
	.attr = __ATTR(_name, 0444, hp_stat_show, NULL),		\
	.source = _src,							\
	.counter = _cnt,						\
}

static struct hp_stat_attr hp_source_stats[] = {
	HP_STAT(HP_SRC_PEBS, HP_CNT_RECEIVED, pebs_received),
	HP_STAT(HP_SRC_PEBS, HP_CNT_DROPPED, pebs_dropped),
	HP_STAT(HP_SRC_PEBS, HP_CNT_ATTRIBUTED, pebs_attributed),
	HP_STAT(HP_SRC_PEBS, HP_CNT_OUTSIDE, pebs_outside),
	HP_STAT(HP_SRC_PEBS, HP_CNT_EXITED, pebs_exited),
	HP_STAT(HP_SRC_ABIT, HP_CNT_RECEIVED, abit_received),
	HP_STAT(HP_SRC_ABIT, HP_CNT_DROPPED, abit_dropped),
	HP_STAT(HP_SRC_ABIT, HP_CNT_ATTRIBUTED, abit_attributed),
	HP_STAT(HP_SRC_ABIT, HP_CNT_OUTSIDE, abit_outside),
	HP_STAT(HP_SRC_ABIT, HP_CNT_EXITED, abit_exited),
	HP_STAT(HP_SRC_INJECT, HP_CNT_RECEIVED, inject_received),
	HP_STAT(HP_SRC_INJECT, HP_CNT_DROPPED, inject_dropped),
	HP_STAT(HP_SRC_INJECT, HP_CNT_ATTRIBUTED, inject_attributed),
	HP_STAT(HP_SRC_INJECT, HP_CNT_OUTSIDE, inject_outside),
	HP_STAT(HP_SRC_INJECT, HP_CNT_EXITED, inject_exited),
};

#define HP_ABIT_STAT(_field)						\
static ssize_t abit_##_field##_show(struct kobject *kobj,		\
				    struct kobj_attribute *attr, char *buf) \
{									\
	return sysfs_emit(buf, "%llu\n", READ_ONCE(hp_abit_stats._field)); \
}									\
static struct kobj_attribute abit_##_field##_attr = __ATTR_RO(abit_##_field)

HP_ABIT_STAT(scans);
HP_ABIT_STAT(checked);
HP_ABIT_STAT(young);
HP_ABIT_STAT(ns);
HP_ABIT_STAT(busy);

#define HP_PEBS_STAT(_field)						\
static ssize_t pebs_##_field##_show(struct kobject *kobj,		\
				    struct kobj_attribute *attr, char *buf) \
{									\
	struct hp_pebs_decoder_counts c;				\
									\
	hp_pebs_decoder_counts(&c);					\
	return sysfs_emit(buf, "%llu\n", c._field);			\
}									\
static struct kobj_attribute pebs_##_field##_attr = __ATTR_RO(pebs_##_field)

HP_PEBS_STAT(records);
HP_PEBS_STAT(zero_addr);
HP_PEBS_STAT(kernel_addr);
HP_PEBS_STAT(bad_format);

#define HP_MIGRATE_STAT(_field)						\
static ssize_t _field##_show(struct kobject *kobj,			\
			     struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n",					\
			  READ_ONCE(hp_migrate_stats._field));		\
}									\
static struct kobj_attribute _field##_attr = __ATTR_RO(_field)

HP_MIGRATE_STAT(promoted);
HP_MIGRATE_STAT(demoted);
HP_MIGRATE_STAT(exchanged);
HP_MIGRATE_STAT(failed);
HP_MIGRATE_STAT(skipped_pinned);
HP_MIGRATE_STAT(skipped_mlocked);
HP_MIGRATE_STAT(skipped_busy);
HP_MIGRATE_STAT(skipped_shared);
HP_MIGRATE_STAT(skipped_mm_busy);
HP_MIGRATE_STAT(skipped_policy);
HP_MIGRATE_STAT(alloc_failures);
HP_MIGRATE_STAT(ranks);
HP_MIGRATE_STAT(capacity);
HP_MIGRATE_STAT(hot_pages);
HP_MIGRATE_STAT(ranges);
HP_MIGRATE_STAT(backoff);

static ssize_t mms_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", hp_nr_mms());
}

static struct kobj_attribute mms_attr = __ATTR_RO(mms);

static ssize_t idle_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(hp_idle));
}

static struct kobj_attribute idle_attr = __ATTR_RO(idle);

static struct attribute *hp_other_stats[] = {
	&abit_scans_attr.attr,
	&abit_checked_attr.attr,
	&abit_young_attr.attr,
	&abit_ns_attr.attr,
	&abit_busy_attr.attr,
	&pebs_records_attr.attr,
	&pebs_zero_addr_attr.attr,
	&pebs_kernel_addr_attr.attr,
	&pebs_bad_format_attr.attr,
	&mms_attr.attr,
	&idle_attr.attr,
	&promoted_attr.attr,
	&demoted_attr.attr,
	&exchanged_attr.attr,
	&failed_attr.attr,
	&skipped_pinned_attr.attr,
	&skipped_mlocked_attr.attr,
	&skipped_busy_attr.attr,
	&skipped_shared_attr.attr,
	&skipped_mm_busy_attr.attr,
	&skipped_policy_attr.attr,
	&alloc_failures_attr.attr,
	&ranks_attr.attr,
	&capacity_attr.attr,
	&hot_pages_attr.attr,
	&ranges_attr.attr,
	&backoff_attr.attr,
};

/* Filled by hp_sysfs_init(): the two tables above and a NULL. */
static struct attribute *hp_stat_attrs[ARRAY_SIZE(hp_source_stats) +
				       ARRAY_SIZE(hp_other_stats) + 1];

static const struct attribute_group hp_stat_group = {
	.name = "stats",
	.attrs = hp_stat_attrs,
};

static const struct attribute_group *hp_groups[] = {
	&hp_group,
	&hp_stat_group,
	NULL,
};

/* After hp_init(): no knobs if HyperPlace did not start. */
static int __init hp_sysfs_init(void)
{
	unsigned int i, n = 0;
	struct kobject *kobj;
	int ret;

	if (!hp_core_running())
		return 0;
	for (i = 0; i < ARRAY_SIZE(hp_source_stats); i++)
		hp_stat_attrs[n++] = &hp_source_stats[i].attr.attr;
	for (i = 0; i < ARRAY_SIZE(hp_other_stats); i++)
		hp_stat_attrs[n++] = hp_other_stats[i];
	kobj = kobject_create_and_add("hyperplace", mm_kobj);
	if (!kobj) {
		pr_err("cannot create /sys/kernel/mm/hyperplace: %d\n", -ENOMEM);
		return -ENOMEM;
	}
	ret = sysfs_create_groups(kobj, hp_groups);
	if (ret) {
		pr_err("cannot create /sys/kernel/mm/hyperplace: %d\n", ret);
		kobject_put(kobj);
	}
	return ret;
}
late_initcall_sync(hp_sysfs_init);
