/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the HyperPlace kselftests: reading and writing
 * sysfs, debugfs and tracefs files, the knobs and counters of
 * /sys/kernel/mm/hyperplace/, and a monotonic clock.
 */
#ifndef HP_COMMON_H
#define HP_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HP_SYSFS	"/sys/kernel/mm/hyperplace"

/* From include/uapi/linux/prctl.h, for headers older than the series. */
#ifndef PR_SET_HYPERPLACE
#define PR_SET_HYPERPLACE	79
#define PR_GET_HYPERPLACE	80
#define PR_HYPERPLACE_DEFAULT	0
#define PR_HYPERPLACE_EXCLUDE	1
#define PR_HYPERPLACE_INCLUDE	2
#endif

/* ---- file helpers: all return 0 or -errno ---- */

/* Write @s to @path in a single write(), as "echo -n" would. */
static inline int write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd, ret = 0;
	ssize_t n;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

/* Read the first line of @path into @buf, without its newline. */
static inline int read_line(const char *path, char *buf, size_t len)
{
	int fd, ret = 0;
	ssize_t n;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		ret = -errno;
	buf[n < 0 ? 0 : n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	close(fd);
	return ret;
}

static inline int read_u64(const char *path, unsigned long long *v)
{
	char buf[64], *end;
	int ret = read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

/*
 * Read @path into @buf of @size bytes, NUL-terminated, cut at the end of
 * the buffer; the length read or -errno.
 */
static inline ssize_t read_into(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	while (len < size - 1 && (n = read(fd, buf + len, size - len - 1)) > 0)
		len += n;
	buf[len] = '\0';
	close(fd);
	return len;
}

/* The whole of @path (trace, ranges), NUL-terminated; NULL on error. */
static inline char *read_all(const char *path)
{
	size_t len = 0, size = 65536;
	char *buf = malloc(size), *p;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, size - len - 1)) > 0) {
		len += n;
		if (size - len > 1)
			continue;
		size *= 2;
		p = realloc(buf, size);
		if (!p)
			break;
		buf = p;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

/*
 * The value of KEY in a file of "KEY VALUE" lines (memory.stat, a node's
 * vmstat); -1 if it is not there.
 */
static inline long long keyed_value(const char *path, const char *key)
{
	char *all = read_all(path), *p;
	size_t len = strlen(key);
	long long v = -1;

	for (p = all; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, len) && p[len] == ' ') {
			v = atoll(p + len + 1);
			break;
		}
	}
	free(all);
	return v;
}

/*
 * A node or CPU list ("0-1,3", as sysfs writes them) as a bit mask of up
 * to 64 entries; -1 if it does not parse.
 */
static inline long long list_parse(const char *s)
{
	unsigned long long mask = 0;
	char *end;

	while (*s && *s != '\n') {
		unsigned long lo = strtoul(s, &end, 10), hi = lo;

		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s)
				return -1;
		}
		if (hi < lo || hi > 62)
			return -1;
		for (; lo <= hi; lo++)
			mask |= 1ULL << lo;
		s = end;
		if (*s == ',')
			s++;
	}
	return mask;
}

/* The list in the file @path as a mask (list_parse()); -1 on error. */
static inline long long list_read(const char *path)
{
	char buf[256];

	if (read_line(path, buf, sizeof(buf)))
		return -1;
	return list_parse(buf);
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- sysfs knobs and counters ---- */

static inline int knob_write(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), HP_SYSFS "/%s", name);
	return write_str(path, val);
}

static inline int knob_write_u64(const char *name, unsigned long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	return knob_write(name, buf);
}

static inline int knob_read(const char *name, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), HP_SYSFS "/%s", name);
	return read_line(path, buf, len);
}

static inline int knob_read_u64(const char *name, unsigned long long *v)
{
	char path[256];

	snprintf(path, sizeof(path), HP_SYSFS "/%s", name);
	return read_u64(path, v);
}

static inline int stat_read(const char *name, unsigned long long *v)
{
	char path[256];

	snprintf(path, sizeof(path), HP_SYSFS "/stats/%s", name);
	return read_u64(path, v);
}

/* The value in brackets of a choice knob ("[all] opted_in" -> "all"). */
static inline int choice_selected(const char *name, char *buf, size_t len)
{
	char line[128], *l, *r;
	int ret = knob_read(name, line, sizeof(line));

	if (ret)
		return ret;
	l = strchr(line, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r)
		return -EINVAL;
	snprintf(buf, len, "%.*s", (int)(r - l - 1), l + 1);
	return 0;
}

#endif /* HP_COMMON_H */
