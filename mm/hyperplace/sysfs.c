// SPDX-License-Identifier: GPL-2.0-only
/*
 * /sys/kernel/mm/hyperplace/: knobs and statistics.
 * Every write is validated whole before anything changes.
 */
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "internal.h"

/**
 * struct hp_knob - a numeric field of &struct hp_config
 * @attr: its sysfs file
 * @offset: offset of the field in &struct hp_config
 * @size: size of the field, 4 or 8 bytes
 */
struct hp_knob {
	struct kobj_attribute attr;
	size_t offset;
	unsigned int size;
};

static u64 hp_knob_get(const struct hp_knob *k, const struct hp_config *c)
{
	const void *p = (const void *)c + k->offset;

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
		*(u8 *)p = v;
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
	if (k->size == 4 && v > U32_MAX)
		return -ERANGE;
	ret = hp_config_write(k->offset, k->size, v);
	return ret ? ret : count;
}

#define HP_KNOB(_name, _field)						\
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

static_assert(sizeof_field(struct hp_config, enabled) == 1);
static_assert(sizeof_field(struct hp_config, mode) == 4);

static ssize_t enabled_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(hp_config.enabled));
}

static ssize_t enabled_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	bool on;
	int ret;

	if (sysfs_streq(buf, "1"))
		on = true;
	else if (sysfs_streq(buf, "0"))
		on = false;
	else
		return -EINVAL;
	ret = hp_config_write(offsetof(struct hp_config, enabled),
			      sizeof_field(struct hp_config, enabled), on);
	return ret ? ret : count;
}

static struct kobj_attribute enabled_attr = __ATTR_RW(enabled);

static ssize_t source_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	enum hp_source_mode mode = READ_ONCE(hp_config.mode);
	int i, len = 0;

	for (i = 0; i < HP_NR_MODES; i++)
		len += sysfs_emit_at(buf, len, i == mode ? "%s[%s]" : "%s%s",
				     i ? " " : "", hp_mode_names[i]);
	return len + sysfs_emit_at(buf, len, "\n");
}

static ssize_t source_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	int mode, ret;

	mode = sysfs_match_string(hp_mode_names, buf);
	if (mode < 0)
		return -EINVAL;
	ret = hp_config_write(offsetof(struct hp_config, mode),
			      sizeof_field(struct hp_config, mode), mode);
	return ret ? ret : count;
}

static struct kobj_attribute source_attr = __ATTR_RW(source);

static ssize_t active_source_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	bool running;
	enum hp_source src = hp_active_source(&running);

	return sysfs_emit(buf, "%s\n",
			  running ? hp_source_names[src] : "none");
}

static struct kobj_attribute active_source_attr = __ATTR_RO(active_source);

static struct attribute *hp_attrs[] = {
	&enabled_attr.attr,
	&source_attr.attr,
	&active_source_attr.attr,
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

static ssize_t mms_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", hp_nr_mms());
}

static struct kobj_attribute mms_attr = __ATTR_RO(mms);

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

/**
 * hp_sysfs_init() - create /sys/kernel/mm/hyperplace/
 *
 * Return: 0 or a negative errno.
 */
int hp_sysfs_init(void)
{
	unsigned int i, n = 0;
	struct kobject *kobj;
	int ret;

	for (i = 0; i < ARRAY_SIZE(hp_source_stats); i++)
		hp_stat_attrs[n++] = &hp_source_stats[i].attr.attr;
	for (i = 0; i < ARRAY_SIZE(hp_other_stats); i++)
		hp_stat_attrs[n++] = hp_other_stats[i];
	kobj = kobject_create_and_add("hyperplace", mm_kobj);
	if (!kobj)
		return -ENOMEM;
	ret = sysfs_create_groups(kobj, hp_groups);
	if (ret)
		kobject_put(kobj);
	return ret;
}
