// SPDX-License-Identifier: GPL-2.0
/*
 * The HyperPlace sampling pipeline, end to end: the sysfs knobs and their
 * validation, samples injected through debugfs reaching the injecting
 * process's ranges (and not those of one that opted out), the Accessed-bit
 * sampler finding a hot set, the tracepoints, the per-source counters
 * adding up, and the source parked while no process is placed.
 *
 * The test guest runs under TCG, 20-50x slower than native, so nothing
 * here is timed: every wait polls for the expected outcome with a generous
 * deadline and fails only if it never happens.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "hp_common.h"

#define HP_DEBUGFS	"/sys/kernel/debug/hyperplace"
#define HP_INJECT	HP_DEBUGFS "/inject"
#define HP_RANGES	HP_DEBUGFS "/ranges"
#define TRACEFS		"/sys/kernel/tracing"
#define HP_EVENTS	TRACEFS "/events/hyperplace"
#define KPROBE_EVENTS	TRACEFS "/kprobe_events"
#define SCHED_CB_GROUP	"hyperplace_test"
#define SCHED_CB_EVENT	"pebs_sched_cb"
#define SCHED_CB_ENABLE	TRACEFS "/events/" SCHED_CB_GROUP "/" SCHED_CB_EVENT \
			"/enable"

/* Every wait gives up after this long; the harness limit is above it. */
#define POLL_TIMEOUT_S	60
#define POLL_US		50000
#define WAIT_TEST_TIMEOUT (2 * POLL_TIMEOUT_S)

#define MiB		(1024UL * 1024)
#define PAGE		4096UL
/* Away from page edges: whether a range's END is in it does not matter. */
#define IN_PAGE		0x40UL
/* Below mmap_min_addr, so never in a VMA. */
#define NO_VMA_ADDR	0x1000UL

/* enum hp_source in include/linux/hyperplace.h */
#define HP_SRC_PEBS	0
#define HP_SRC_ABIT	1

/* The numeric knobs and their documented ranges. */
static const struct knob {
	const char *name;
	unsigned long long min, max;
} knobs[] = {
	{ "pebs_load_period",	1000,	100000000 },
	{ "pebs_store_period",	1000,	100000000 },
	{ "pebs_ldlat",		3,	65535 },
	{ "abit_interval_ms",	10,	60000 },
	{ "abit_pages",		1,	65536 },
	{ "epoch_ms",		10,	600000 },
};

static const char * const hp_events[] = {
	"hyperplace_sample", "hyperplace_batch", "hyperplace_drop",
	"hyperplace_source_state", "hyperplace_abit_scan",
	"hyperplace_pebs_drain",
};

/* ---- waiting ---- */

/* Mount @fs on @dir unless it is there already (EBUSY). */
static void mount_once(const char *fs, const char *dir)
{
	(void)mount(fs, dir, fs, 0, NULL);
}

static double deadline(void)
{
	return now_s() + POLL_TIMEOUT_S;
}

static bool expired(double end)
{
	return now_s() > end;
}

/* The word in brackets of "source", e.g. "auto" from "[auto] pebs abit". */
static int source_selected(char *buf, size_t len)
{
	return choice_selected("source", buf, len);
}

/* Sources switch in the background: wait for @want to be the active one. */
static bool wait_active_source(const char *want, double end)
{
	char active[32] = "";

	do {
		if (!knob_read("active_source", active, sizeof(active)) &&
		    !strcmp(active, want))
			return true;
		usleep(POLL_US);
	} while (!expired(end));
	return false;
}

/* The five per-source counters of stats/<source>_*. */
struct src_stats {
	unsigned long long received, dropped, attributed, outside, exited;
};

static int src_stats_read(const char *src, struct src_stats *st)
{
	static const char * const what[] = {
		"received", "dropped", "attributed", "outside", "exited",
	};
	unsigned long long *v[] = {
		&st->received, &st->dropped, &st->attributed, &st->outside,
		&st->exited,
	};
	char name[64];
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(what); i++) {
		snprintf(name, sizeof(name), "%s_%s", src, what[i]);
		ret = stat_read(name, v[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static struct src_stats src_stats_sub(const struct src_stats *a,
				      const struct src_stats *b)
{
	return (struct src_stats) {
		.received = a->received - b->received,
		.dropped = a->dropped - b->dropped,
		.attributed = a->attributed - b->attributed,
		.outside = a->outside - b->outside,
		.exited = a->exited - b->exited,
	};
}

/* Every received sample has been accounted for in exactly one way. */
static bool src_stats_balanced(const struct src_stats *st)
{
	return st->received == st->dropped + st->attributed + st->outside +
			       st->exited;
}

/* @st as text for a log line; valid until the next call. */
static const char *src_stats_str(const struct src_stats *st)
{
	static char buf[160];

	snprintf(buf, sizeof(buf),
		 "received %llu dropped %llu attributed %llu outside %llu exited %llu",
		 st->received, st->dropped, st->attributed, st->outside,
		 st->exited);
	return buf;
}

/*
 * Wait until at least @n injected samples more than in @base have been
 * received and all of those have been filed (or dropped); the counters
 * at that point are left in @now.
 */
static bool wait_inject_settled(const struct src_stats *base,
				unsigned long long n, struct src_stats *now,
				double end)
{
	struct src_stats d;

	do {
		if (!src_stats_read("inject", now)) {
			d = src_stats_sub(now, base);
			if (d.received >= n && src_stats_balanced(&d))
				return true;
		}
		usleep(POLL_US);
	} while (!expired(end));
	return false;
}

/* ---- injection ---- */

/* Append the record "PID ADDR TYPE" to @buf. */
static void inject_add(char *buf, size_t len, pid_t pid, unsigned long addr,
		       const char *type)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%d 0x%lx %s\n", pid, addr, type);
}

/* Inject @n load samples for @pid spread evenly over [@base, +@len). */
static int inject_spread(pid_t pid, const char *base, size_t len,
			 unsigned int n, unsigned long *addrs)
{
	char buf[64 * 64] = "";
	unsigned int i;

	if (n > 64)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		unsigned long a = (unsigned long)base + i * (len / n) + IN_PAGE;

		if (addrs)
			addrs[i] = a;
		inject_add(buf, sizeof(buf), pid, a, "load");
	}
	return write_str(HP_INJECT, buf);
}

static int inject_one(pid_t pid, unsigned long addr, const char *type)
{
	char buf[64] = "";

	inject_add(buf, sizeof(buf), pid, addr, type);
	return write_str(HP_INJECT, buf);
}

/* ---- memory ---- */

static char *map_anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Write one byte of each page: real pages, Accessed bits set. */
static void touch_pages(char *p, size_t len)
{
	size_t off;

	/* Atomic accesses: the compiler must not drop or merge them. */
	for (off = 0; off < len; off += PAGE)
		__atomic_store_n(&p[off], __atomic_load_n(&p[off], __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
}

/*
 * x86 clears Accessed bits without flushing the TLB, so a page whose
 * translation stays cached (as a small hot set's does, in the CPU's or in
 * TCG's TLB) is never marked accessed again.  Real workloads evict such
 * entries all the time; here a protection change forces the flush.  It
 * keeps the Accessed bits as they are, and covering the whole mapping
 * avoids splitting its VMA.
 */
static int flush_tlb_of(char *p, size_t len)
{
	if (mprotect(p, len, PROT_READ) ||
	    mprotect(p, len, PROT_READ | PROT_WRITE))
		return -errno;
	return 0;
}

/* ---- debugfs ranges ---- */

/*
 * In the "ranges" text, find @pid's section ("pid PID ranges N samples
 * S", then "  START-END count C hot HS-HE" lines).  For each of @addrs,
 * look for the range holding it; add the counts of the ranges holding any
 * of them to *@count and return how many addresses are held, or -1 if
 * @pid has no section.
 */
static int ranges_holding(char *text, pid_t pid, const unsigned long *addrs,
			  unsigned int n, unsigned long long *count)
{
	bool ours = false, found = false;
	int held = 0;
	char *line, *save;

	*count = 0;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long start, end, c, hs, he;
		bool holds = false;
		unsigned int i;
		int p;

		if (!strncmp(line, "pid ", 4)) {
			ours = sscanf(line, "pid %d", &p) == 1 && p == pid;
			found |= ours;
			continue;
		}
		if (!ours || sscanf(line, " %llx-%llx count %llu hot %llx-%llx",
				    &start, &end, &c, &hs, &he) != 5)
			continue;
		for (i = 0; i < n; i++) {
			if (addrs[i] >= start && addrs[i] < end) {
				held++;
				holds = true;
			}
		}
		if (holds)
			*count += c;
	}
	return found ? held : -1;
}

/*
 * Wait until @pid's ranges cover the first and the last page of [@map,
 * +@len): khyperplaced follows new VMAs only at attach and at epochs.
 * The ranges file is read into @buf of @size bytes.
 */
static bool wait_ranges_cover(pid_t pid, const char *map, size_t len,
			      char *buf, size_t size, double end)
{
	unsigned long addrs[2] = {
		(unsigned long)map + IN_PAGE,
		(unsigned long)map + len - PAGE + IN_PAGE,
	};
	unsigned long long count;

	do {
		if (read_into(HP_RANGES, buf, size) >= 0 &&
		    ranges_holding(buf, pid, addrs, 2, &count) == 2)
			return true;
		usleep(POLL_US);
	} while (!expired(end));
	return false;
}

/* ---- tracefs ---- */

static int event_write(const char *event, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), HP_EVENTS "/%s/%s", event, file);
	return write_str(path, val);
}

static int event_enable(const char *event, bool on)
{
	return event_write(event, "enable", on ? "1" : "0");
}

static bool have_event(const char *event)
{
	char path[256];

	snprintf(path, sizeof(path), HP_EVENTS "/%s/enable", event);
	return !access(path, W_OK);
}

static int trace_clear(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* The payload of a trace line for @event ("source=..."), or NULL. */
static char *event_payload(char *line, const char *event)
{
	char tag[64];
	char *p;

	snprintf(tag, sizeof(tag), " %s: ", event);
	p = strstr(line, tag);
	return p ? p + strlen(tag) : NULL;
}

/* The VMAs of this process, from /proc/self/maps. */
struct vmas {
	unsigned int n;
	unsigned long long start[512], end[512];
};

static int vmas_read(struct vmas *v, char *buf, size_t size)
{
	ssize_t len = read_into("/proc/self/maps", buf, size);
	char *line, *save;

	if (len < 0)
		return len;
	v->n = 0;
	for (line = strtok_r(buf, "\n", &save); line && v->n < 512;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%llx-%llx", &v->start[v->n],
			   &v->end[v->n]) == 2)
			v->n++;
	}
	return 0;
}

static bool vmas_hold(const struct vmas *v, unsigned long long addr)
{
	unsigned int i;

	for (i = 0; i < v->n; i++)
		if (addr >= v->start[i] && addr < v->end[i])
			return true;
	return false;
}

/* hyperplace_sample lines of one source's test, by where they fell. */
struct sample_tally {
	unsigned int n;		/* all hyperplace_sample lines */
	unsigned int hot;	/* in the re-touched head of the mapping */
	unsigned int cold;	/* in the rest of the mapping */
	unsigned int elsewhere;	/* in another VMA: stack, data, buffer */
	unsigned int outside;	/* in no VMA of this process: bogus */
	unsigned int foreign;	/* another source or pid: filter failed */
	unsigned int attributed;
	unsigned long long first_bad;
};

/*
 * Sort the hyperplace_sample lines of the trace by where they fell: in
 * the hot head [@map, +@hot_len), in the rest of [@map, +@len), in
 * another VMA of @vmas, or nowhere (all "elsewhere" if @vmas is NULL).
 * Lines of another source than @source, or another pid, are foreign.
 * The trace is read into @buf, which must not be freed meanwhile: a
 * transient buffer would be a VMA that the samples outlive.
 */
static int tally_samples(struct sample_tally *t, const char *source,
			 pid_t pid, char *buf, size_t size, const char *map,
			 size_t len, size_t hot_len, const struct vmas *vmas)
{
	unsigned long base = (unsigned long)map;
	ssize_t n = read_into(TRACEFS "/trace", buf, size);
	char *line, *save;

	if (n < 0)
		return n;
	memset(t, 0, sizeof(*t));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = event_payload(line, "hyperplace_sample");
		char src[16], acc[16];
		unsigned long long addr;
		unsigned int weight;
		int spid, attr;

		if (!p)
			continue;
		t->n++;
		if (sscanf(p,
			   "source=%15s pid=%d addr=%llx access=%15s weight=%u attributed=%d",
			   src, &spid, &addr, acc, &weight, &attr) != 6 ||
		    strcmp(src, source) || spid != pid) {
			t->foreign++;
			continue;
		}
		t->attributed += attr != 0;
		if (addr >= base && addr < base + hot_len)
			t->hot++;
		else if (addr >= base && addr < base + len)
			t->cold++;
		else if (!vmas || vmas_hold(vmas, addr))
			t->elsewhere++;
		else if (!t->outside++)
			t->first_bad = addr;
	}
	return 0;
}

/* What the tracepoint test looks for in the trace. */
struct batch_tally {
	unsigned int batches;		/* source=inject, pid = ours */
	unsigned int samples;		/* their samples= summed */
	unsigned int outside;		/* their outside= summed */
	unsigned int foreign;		/* source=inject, another pid */
	unsigned int scans;		/* hyperplace_abit_scan lines */
	unsigned int bad_scans;		/* unparsable, young > checked */
};

static int tally_batches(struct batch_tally *t, pid_t pid)
{
	char *text = read_all(TRACEFS "/trace"), *line, *save;

	if (!text)
		return -errno;
	memset(t, 0, sizeof(*t));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned int a, b, c;
		char src[16], *p;
		int bpid;

		p = event_payload(line, "hyperplace_batch");
		if (p && sscanf(p, "source=%15s pid=%d samples=%u attributed=%u outside=%u",
				src, &bpid, &a, &b, &c) == 5 &&
		    !strcmp(src, "inject")) {
			if (bpid != pid) {
				t->foreign++;
				continue;
			}
			t->batches++;
			t->samples += a;
			t->outside += c;
			continue;
		}
		p = event_payload(line, "hyperplace_abit_scan");
		if (p) {
			unsigned long long ns;

			t->scans++;
			if (sscanf(p, "mms=%u checked=%u young=%u ns=%llu",
				   &a, &b, &c, &ns) != 4 || c > b)
				t->bad_scans++;
		}
	}
	free(text);
	return 0;
}

/* Leave tracing as a test found it: our events off, no filter, empty. */
static void trace_reset(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hp_events); i++) {
		if (!have_event(hp_events[i]))
			continue;
		event_enable(hp_events[i], false);
		event_write(hp_events[i], "filter", "0");
	}
	trace_clear();
}

/* ---- the fixture: save every knob, restore what a test changed ---- */

/* Add (or remove, "-:...") a probe without dropping the others. */
static int kprobe_append(const char *def)
{
	int fd = open(KPROBE_EVENTS, O_WRONLY | O_APPEND);
	ssize_t n;
	int ret;

	if (fd < 0)
		return -errno;
	n = write(fd, def, strlen(def));
	ret = n == (ssize_t)strlen(def) ? 0 : -errno;
	close(fd);
	return ret;
}

/* Disable and remove the context-switch probe, if a test left it. */
static void sched_cb_probe_remove(void)
{
	write_str(SCHED_CB_ENABLE, "0");
	kprobe_append("-:" SCHED_CB_GROUP "/" SCHED_CB_EVENT "\n");
}

FIXTURE(hp) {
	unsigned long long knob[ARRAY_SIZE(knobs)];
	char source[16];
	char scope[16];
	char enabled[8];
	char tracing_on[8];
	bool have_tracefs;
};

FIXTURE_SETUP(hp)
{
	unsigned int i;

	mount_once("debugfs", "/sys/kernel/debug");
	mount_once("tracefs", TRACEFS);
	if (access(HP_SYSFS "/enabled", F_OK))
		SKIP(return, "no " HP_SYSFS ": kernel without HyperPlace");

	/* Braces: ASSERT's TH_LOG handler is a statement of its own. */
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		ASSERT_EQ(0, knob_read_u64(knobs[i].name, &self->knob[i]))
			TH_LOG("reading %s", knobs[i].name);
	}
	ASSERT_EQ(0, source_selected(self->source, sizeof(self->source)));
	ASSERT_EQ(0, choice_selected("scope", self->scope,
				     sizeof(self->scope)));
	ASSERT_EQ(0, knob_read("enabled", self->enabled,
			       sizeof(self->enabled)));
	self->have_tracefs = !read_line(TRACEFS "/tracing_on",
					self->tracing_on,
					sizeof(self->tracing_on));

	/* Every test wants the pipeline running and the trace recording. */
	ASSERT_EQ(0, knob_write("enabled", "1"));
	if (self->have_tracefs) {
		trace_reset();
		write_str(TRACEFS "/tracing_on", "1");
	}
}

FIXTURE_TEARDOWN(hp)
{
	unsigned long long v;
	char cur[16];
	unsigned int i;
	int ret;

	if (self->have_tracefs) {
		trace_reset();
		write_str(TRACEFS "/tracing_on", self->tracing_on);
		sched_cb_probe_remove();
	}
	/*
	 * Only rewrite what changed: a write may restart a timer.  (Braces
	 * around EXPECTs: their TH_LOG handler is a statement of its own.)
	 */
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		if (!knob_read_u64(knobs[i].name, &v) && v == self->knob[i])
			continue;
		EXPECT_EQ(0, knob_write_u64(knobs[i].name, self->knob[i]))
			TH_LOG("restoring %s", knobs[i].name);
	}
	if (source_selected(cur, sizeof(cur)) || strcmp(cur, self->source)) {
		ret = knob_write("source", self->source);
		EXPECT_EQ(0, ret);
	}
	if (choice_selected("scope", cur, sizeof(cur)) ||
	    strcmp(cur, self->scope)) {
		ret = knob_write("scope", self->scope);
		EXPECT_EQ(0, ret);
	}
	if (knob_read("enabled", cur, sizeof(cur)) ||
	    strcmp(cur, self->enabled)) {
		ret = knob_write("enabled", self->enabled);
		EXPECT_EQ(0, ret);
	}
}

static bool have_file(const char *path)
{
	return !access(path, F_OK);
}

/*
 * Out-of-range and non-numeric writes are refused with the documented
 * error and leave the value alone; an in-range value is taken.
 */
TEST_F(hp, numeric_knobs_validate)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		const struct knob *k = &knobs[i];
		unsigned long long before, after, other;

		ASSERT_EQ(0, knob_read_u64(k->name, &before));
		EXPECT_EQ(-ERANGE, knob_write_u64(k->name, k->min - 1))
			TH_LOG("%s = %llu", k->name, k->min - 1);
		EXPECT_EQ(-ERANGE, knob_write_u64(k->name, k->max + 1))
			TH_LOG("%s = %llu", k->name, k->max + 1);
		EXPECT_EQ(-EINVAL, knob_write(k->name, "abc"))
			TH_LOG("%s = abc", k->name);
		ASSERT_EQ(0, knob_read_u64(k->name, &after));
		EXPECT_EQ(before, after)
			TH_LOG("%s changed by a refused write", k->name);

		other = before < k->max ? before + 1 : before - 1;
		EXPECT_EQ(0, knob_write_u64(k->name, other))
			TH_LOG("%s = %llu", k->name, other);
		ASSERT_EQ(0, knob_read_u64(k->name, &after));
		EXPECT_EQ(other, after) TH_LOG("%s", k->name);
		EXPECT_EQ(0, knob_write_u64(k->name, before));
	}
}

/*
 * "source" lists the modes and takes only those it can run; "enabled"
 * takes only 0 and 1.
 */
TEST_F(hp, source_and_enabled_validate)
{
	char line[128], sel[16], active[16], val[8];
	char *p, *q;

	/* "[auto] pebs abit" with the brackets dropped */
	ASSERT_EQ(0, knob_read("source", line, sizeof(line)));
	for (p = q = line; *p; p++)
		if (*p != '[' && *p != ']')
			*q++ = *p;
	*q = '\0';
	EXPECT_STREQ("auto pebs abit", line);

	ASSERT_EQ(0, knob_read("active_source", active, sizeof(active)));
	EXPECT_TRUE(!strcmp(active, "pebs") || !strcmp(active, "abit") ||
		    !strcmp(active, "none"))
		TH_LOG("active_source is \"%s\"", active);

	EXPECT_EQ(-EINVAL, knob_write("source", "bogus"));
	ASSERT_EQ(0, source_selected(sel, sizeof(sel)));
	EXPECT_STREQ(self->source, sel);

	/* Without PEBS (as under TCG), asking for it must change nothing. */
	if (strcmp(active, "pebs")) {
		EXPECT_EQ(-EOPNOTSUPP, knob_write("source", "pebs"));
		ASSERT_EQ(0, source_selected(sel, sizeof(sel)));
		EXPECT_STREQ(self->source, sel);
	} else {
		TH_LOG("PEBS is active: not checking its refusal");
	}

	/* Both "echo -n" and "echo" forms are taken. */
	EXPECT_EQ(0, knob_write("source", "abit"));
	ASSERT_EQ(0, source_selected(sel, sizeof(sel)));
	EXPECT_STREQ("abit", sel);
	EXPECT_EQ(0, knob_write("source", "auto\n"));
	ASSERT_EQ(0, source_selected(sel, sizeof(sel)));
	EXPECT_STREQ("auto", sel);

	EXPECT_EQ(-EINVAL, knob_write("enabled", "2"));
	ASSERT_EQ(0, knob_read("enabled", val, sizeof(val)));
	EXPECT_STREQ("1", val);
	EXPECT_EQ(0, knob_write("enabled", "0"));
	ASSERT_EQ(0, knob_read("enabled", val, sizeof(val)));
	EXPECT_STREQ("0", val);
	EXPECT_EQ(0, knob_write("enabled", "1"));
	ASSERT_EQ(0, knob_read("enabled", val, sizeof(val)));
	EXPECT_STREQ("1", val);
}

#define INJECT_MAP_LEN	(16 * MiB)
#define INJECT_N	64

/*
 * Samples injected inside an anonymous mapping of this process are filed
 * into its ranges; one at an address in no VMA is counted as outside.
 */
TEST_F_TIMEOUT(hp, inject_reaches_ranges, WAIT_TEST_TIMEOUT)
{
	struct src_stats base, now = { 0 }, d = { 0 };
	unsigned long addrs[INJECT_N];
	unsigned long long count = 0;
	double end = deadline();
	pid_t pid = getpid();
	bool filed = false;
	int held, round;
	char *map, *text;

	if (!have_file(HP_INJECT))
		SKIP(return, "no %s", HP_INJECT);
	if (!have_file(HP_RANGES))
		SKIP(return, "no %s", HP_RANGES);
	map = map_anon(INJECT_MAP_LEN);
	ASSERT_NE(NULL, map);
	touch_pages(map, INJECT_MAP_LEN);

	/*
	 * Ranges follow VMAs when khyperplaced attaches the mm and at each
	 * epoch, so a mapping made after the attach may count as outside
	 * until the next epoch: inject again until one whole round is
	 * attributed.
	 */
	for (round = 1; !filed && !expired(end); round++) {
		ASSERT_EQ(0, src_stats_read("inject", &base));
		ASSERT_EQ(0, inject_spread(pid, map, INJECT_MAP_LEN, INJECT_N,
					   addrs));
		if (!wait_inject_settled(&base, INJECT_N, &now, end))
			break;
		d = src_stats_sub(&now, &base);
		filed = d.attributed >= INJECT_N;
		if (!filed) {
			TH_LOG("round %d: %s", round, src_stats_str(&d));
			usleep(10 * POLL_US);
		}
	}
	ASSERT_TRUE(filed) {
		src_stats_read("inject", &now);
		TH_LOG("never %d attributed in one round; now %s",
		       INJECT_N, src_stats_str(&now));
	}

	text = read_all(HP_RANGES);
	ASSERT_NE(NULL, text);
	held = ranges_holding(text, pid, addrs, INJECT_N, &count);
	free(text);
	EXPECT_EQ(INJECT_N, held) {
		text = read_all(HP_RANGES);
		TH_LOG("pid %d, map %p-%p, ranges:\n%s", pid, map,
		       map + INJECT_MAP_LEN, text ? text : "?");
		free(text);
	}
	EXPECT_GT(count, 0ULL);

	ASSERT_EQ(0, src_stats_read("inject", &base));
	ASSERT_EQ(0, inject_one(pid, NO_VMA_ADDR, "load"));
	ASSERT_TRUE(wait_inject_settled(&base, 1, &now, end));
	d = src_stats_sub(&now, &base);
	EXPECT_EQ(1ULL, d.outside) TH_LOG("%s", src_stats_str(&d));
	EXPECT_EQ(0ULL, d.attributed);

	munmap(map, INJECT_MAP_LEN);
}

/*
 * Samples injected for a process that opted out are counted as outside
 * and give it no HyperPlace state: no section in the ranges file.
 */
TEST_F_TIMEOUT(hp, inject_skips_excluded_process, WAIT_TEST_TIMEOUT)
{
	struct src_stats base, now, d;
	unsigned long long count;
	double end = deadline();
	int ready[2], go[2];
	char c = 0, *map = NULL, *text;
	int status;
	pid_t child;

	if (!have_file(HP_INJECT))
		SKIP(return, "no %s", HP_INJECT);
	if (!have_file(HP_RANGES))
		SKIP(return, "no %s", HP_RANGES);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		/* Opt out, map, say where, and live until the parent is done. */
		if (prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_EXCLUDE, 0, 0, 0))
			_exit(1);
		map = map_anon(INJECT_MAP_LEN);
		if (!map)
			_exit(2);
		touch_pages(map, INJECT_MAP_LEN);
		if (write(ready[1], &map, sizeof(map)) != sizeof(map) ||
		    read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(sizeof(map), read(ready[0], &map, sizeof(map)));

	ASSERT_EQ(0, src_stats_read("inject", &base));
	ASSERT_EQ(0, inject_spread(child, map, INJECT_MAP_LEN, INJECT_N, NULL));
	ASSERT_TRUE(wait_inject_settled(&base, INJECT_N, &now, end));
	d = src_stats_sub(&now, &base);
	EXPECT_EQ(INJECT_N, d.outside) TH_LOG("%s", src_stats_str(&d));
	EXPECT_EQ(0ULL, d.attributed);

	text = read_all(HP_RANGES);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(-1, ranges_holding(text, child, NULL, 0, &count))
		TH_LOG("the excluded pid %d has HyperPlace state", child);
	free(text);

	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child status 0x%x", status);
}

/* Expect @err for @text and no sample injected. */
static void check_refused(struct __test_metadata *_metadata,
			  const char *text, int err)
{
	unsigned long long before, after;

	ASSERT_EQ(0, stat_read("inject_received", &before));
	EXPECT_EQ(err, write_str(HP_INJECT, text)) TH_LOG("input \"%s\"", text);
	ASSERT_EQ(0, stat_read("inject_received", &after));
	EXPECT_EQ(before, after) TH_LOG("input \"%s\" injected", text);
}

/*
 * A write is parsed whole before anything is injected: a malformed line
 * anywhere refuses all of it, and the pid must be a process with an mm.
 */
TEST_F_TIMEOUT(hp, inject_rejects_bad_input, WAIT_TEST_TIMEOUT)
{
	struct src_stats base, now, d;
	pid_t pid = getpid();
	char buf[256];

	if (!have_file(HP_INJECT))
		SKIP(return, "no %s", HP_INJECT);
	ASSERT_EQ(0, src_stats_read("inject", &base));

	check_refused(_metadata, "1 2\n", -EINVAL);
	check_refused(_metadata, "x 0x1000 load\n", -EINVAL);
	snprintf(buf, sizeof(buf), "%d 0x1000 fetch\n", pid);
	check_refused(_metadata, buf, -EINVAL);
	snprintf(buf, sizeof(buf), "%d 0x1000 load\n%d zzz load\n", pid, pid);
	check_refused(_metadata, buf, -EINVAL);
	/* kthreadd: a process without an mm */
	check_refused(_metadata, "2 0x1000 load\n", -EINVAL);
	if (kill(999999, 0) && errno == ESRCH)
		check_refused(_metadata, "999999 0x1000 load\n", -ESRCH);

	/*
	 * Well-formed input is taken, every type and a decimal address
	 * included; and only it reaches the counters, even late.
	 */
	snprintf(buf, sizeof(buf),
		 "%d 0x1000 load\n%d 4096 store\n%d 0x1000 any\n",
		 pid, pid, pid);
	EXPECT_EQ(0, write_str(HP_INJECT, buf));
	ASSERT_TRUE(wait_inject_settled(&base, 3, &now, deadline()));
	d = src_stats_sub(&now, &base);
	EXPECT_EQ(3ULL, d.received) TH_LOG("%s", src_stats_str(&d));
}

#define ABIT_MAP_LEN	(32 * MiB)
#define ABIT_HOT_LEN	(4 * MiB)
#define ABIT_BUF_LEN	(16 * MiB)
#define ABIT_MIN_SAMPLES 20U
#define ABIT_MIN_SCANS	4

/*
 * The Accessed-bit sampler finds the part of a mapping that is in use.
 *
 * Touch all 32 MiB once, wait for the mapping to be in this process's
 * ranges (the sampler checks random pages of the ranges), clear its
 * Accessed bits with MADV_COLD, wait for the sampler's pass under way to
 * end, then keep touching only the first 4 MiB while tracing our abit
 * samples.  The cold part should then give no
 * sample, but pages HyperPlace migrates get new page-table entries, so
 * a few are allowed: the hot part must dominate by far, per MiB and
 * overall.
 *
 * The process also uses its stack, data and the buffer the trace is read
 * into, so samples outside the mapping are fine as long as they are in
 * one of its VMAs; nothing is unmapped until they have been checked.
 */
TEST_F_TIMEOUT(hp, abit_samples_follow_hot_set, WAIT_TEST_TIMEOUT)
{
	unsigned long long scans0, scans = 0, busy0, busy, checked0, checked;
	struct sample_tally t = { 0 };
	static struct vmas vmas;
	double end = deadline();
	pid_t pid = getpid();
	char filter[64];
	char *map, *buf;

	if (!have_event("hyperplace_sample"))
		SKIP(return, "no tracepoint hyperplace/hyperplace_sample");
	if (!have_file(HP_RANGES))
		SKIP(return, "no %s", HP_RANGES);
	ASSERT_EQ(0, knob_write("source", "abit"));
	ASSERT_TRUE(wait_active_source("abit", end));
	/* Many short scans; each page of ours checked about once a scan. */
	ASSERT_EQ(0, knob_write("abit_interval_ms", "20"));
	ASSERT_EQ(0, knob_write("abit_pages", "16384"));

	buf = map_anon(ABIT_BUF_LEN);
	ASSERT_NE(NULL, buf);
	map = map_anon(ABIT_MAP_LEN);
	ASSERT_NE(NULL, map);
	/* Page-sized Accessed bits: a huge page would blur hot and cold. */
	madvise(map, ABIT_MAP_LEN, MADV_NOHUGEPAGE);
	touch_pages(map, ABIT_MAP_LEN);
	ASSERT_TRUE(wait_ranges_cover(pid, map, ABIT_MAP_LEN, buf,
				      ABIT_BUF_LEN, end))
		TH_LOG("map %p-%p never in the ranges of pid %d", map,
		       map + ABIT_MAP_LEN, pid);
	ASSERT_EQ(0, madvise(map, ABIT_MAP_LEN, MADV_COLD));
	/*
	 * A pass running during MADV_COLD may have found cold pages still
	 * accessed; it is filed before the next pass starts, so trace from
	 * the end of the pass after it.
	 */
	ASSERT_EQ(0, stat_read("abit_scans", &scans0));
	do {
		usleep(POLL_US);
		ASSERT_EQ(0, stat_read("abit_scans", &scans));
	} while (scans < scans0 + 2 && !expired(end));
	ASSERT_GE(scans, scans0 + 2);

	snprintf(filter, sizeof(filter), "pid == %d && source == %d",
		 pid, HP_SRC_ABIT);
	ASSERT_EQ(0, event_write("hyperplace_sample", "filter", filter));
	ASSERT_EQ(0, trace_clear());
	ASSERT_EQ(0, event_enable("hyperplace_sample", true));
	ASSERT_EQ(0, stat_read("abit_scans", &scans0));
	ASSERT_EQ(0, stat_read("abit_busy", &busy0));
	ASSERT_EQ(0, stat_read("abit_checked", &checked0));

	do {
		ASSERT_EQ(0, flush_tlb_of(map, ABIT_MAP_LEN));
		touch_pages(map, ABIT_HOT_LEN);
		usleep(POLL_US);
		if (stat_read("abit_scans", &scans) ||
		    scans - scans0 < ABIT_MIN_SCANS)
			continue;
		ASSERT_EQ(0, tally_samples(&t, "abit", pid, buf, ABIT_BUF_LEN,
					   map, ABIT_MAP_LEN, ABIT_HOT_LEN,
					   NULL));
	} while (t.hot + t.cold < ABIT_MIN_SAMPLES && !expired(end));

	ASSERT_EQ(0, event_enable("hyperplace_sample", false));
	ASSERT_EQ(0, vmas_read(&vmas, buf, ABIT_BUF_LEN));
	ASSERT_EQ(0, tally_samples(&t, "abit", pid, buf, ABIT_BUF_LEN, map,
				   ABIT_MAP_LEN, ABIT_HOT_LEN, &vmas));
	ASSERT_EQ(0, stat_read("abit_busy", &busy));
	ASSERT_EQ(0, stat_read("abit_checked", &checked));
	/* Why too few samples, if so: mmap lock busy, or pages unchecked. */
	TH_LOG("%llu scans, %llu pages checked, %llu processes busy",
	       scans - scans0, checked - checked0, busy - busy0);
	TH_LOG("%u samples: %u hot, %u cold, %u elsewhere",
	       t.n, t.hot, t.cold, t.elsewhere);
	TH_LOG("%u outside, %u foreign; %u attributed",
	       t.outside, t.foreign, t.attributed);

	ASSERT_GE(t.hot + t.cold, ABIT_MIN_SAMPLES);
	EXPECT_EQ(0U, t.foreign) TH_LOG("filter \"%s\" let others through", filter);
	EXPECT_EQ(0U, t.outside) TH_LOG("e.g. 0x%llx: in no VMA", t.first_bad);
	EXPECT_GT(t.hot, 0U);
	/* three quarters of the mapping's samples in its hot eighth */
	EXPECT_GE(t.hot, 3 * t.cold);
	/* hot per MiB at least 4x cold per MiB */
	EXPECT_GE((unsigned long long)t.hot * (ABIT_MAP_LEN - ABIT_HOT_LEN),
		  4ULL * t.cold * ABIT_HOT_LEN);

	munmap(map, ABIT_MAP_LEN);
	munmap(buf, ABIT_BUF_LEN);
}

#define PEBS_MIN_SAMPLES 200U
#define LINE		64UL

/* Read one byte of each cache line: loads the compiler must keep. */
static void read_lines(const char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += LINE)
		(void)__atomic_load_n(&p[off], __ATOMIC_RELAXED);
}

/* Stack traces in @text that show a PEBS drain at a context switch. */
static unsigned int count_sched_drains(const char *text)
{
	const char *p = text;
	unsigned int n = 0;

	while ((p = strstr(p, "=> __perf_event_task_sched_out"))) {
		n++;
		p++;
	}
	return n;
}

/*
 * PEBS records find the part of a mapping that is in use, and reach
 * HyperPlace when the buffer is drained at a context switch, not only
 * from the PMI the buffer's threshold raises.
 *
 * Touch all 32 MiB once, then keep reading only the first 4 MiB,
 * sleeping between passes, while tracing our PEBS samples and each
 * drain with its stack.  The rest is not touched while tracing, so
 * nearly all the mapping's samples must be in its hot head (records of
 * the first touch may still be in the buffer when tracing starts), and
 * the sleeps must show drains at sched-out.  Without PEBS (no Intel PMU
 * with adaptive PEBS) the test skips.
 */
TEST_F_TIMEOUT(hp, pebs_samples_follow_hot_set, WAIT_TEST_TIMEOUT)
{
	struct sample_tally t = { 0 };
	static struct vmas vmas;
	double end = deadline();
	pid_t pid = getpid();
	unsigned int drains;
	char filter[64];
	char *map, *buf;
	ssize_t len;
	int ret;

	if (!have_event("hyperplace_sample") ||
	    !have_event("hyperplace_pebs_drain"))
		SKIP(return, "no hyperplace_sample or hyperplace_pebs_drain");
	ret = knob_write("source", "pebs");
	if (ret == -EOPNOTSUPP)
		SKIP(return, "no adaptive PEBS on this CPU");
	ASSERT_EQ(0, ret);
	ASSERT_TRUE(wait_active_source("pebs", end));

	buf = map_anon(ABIT_BUF_LEN);
	ASSERT_NE(NULL, buf);
	map = map_anon(ABIT_MAP_LEN);
	ASSERT_NE(NULL, map);
	touch_pages(map, ABIT_MAP_LEN);

	snprintf(filter, sizeof(filter), "pid == %d && source == %d",
		 pid, HP_SRC_PEBS);
	ASSERT_EQ(0, event_write("hyperplace_sample", "filter", filter));
	ASSERT_EQ(0, event_write("hyperplace_pebs_drain", "trigger",
				 "stacktrace"));
	ASSERT_EQ(0, trace_clear());
	ASSERT_EQ(0, event_enable("hyperplace_sample", true));
	ASSERT_EQ(0, event_enable("hyperplace_pebs_drain", true));
	do {
		read_lines(map, ABIT_HOT_LEN);
		usleep(POLL_US / 10);
		ASSERT_EQ(0, tally_samples(&t, "pebs", pid, buf, ABIT_BUF_LEN,
					   map, ABIT_MAP_LEN, ABIT_HOT_LEN,
					   NULL));
	} while (t.hot + t.cold < PEBS_MIN_SAMPLES && !expired(end));
	ASSERT_EQ(0, event_enable("hyperplace_sample", false));
	ASSERT_EQ(0, event_enable("hyperplace_pebs_drain", false));
	EXPECT_EQ(0, event_write("hyperplace_pebs_drain", "trigger",
				 "!stacktrace"));

	len = read_into(TRACEFS "/trace", buf, ABIT_BUF_LEN);
	ASSERT_GT(len, 0);
	drains = count_sched_drains(buf);
	ASSERT_EQ(0, vmas_read(&vmas, buf, ABIT_BUF_LEN));
	ASSERT_EQ(0, tally_samples(&t, "pebs", pid, buf, ABIT_BUF_LEN, map,
				   ABIT_MAP_LEN, ABIT_HOT_LEN, &vmas));
	TH_LOG("%u samples: %u hot, %u cold, %u elsewhere; %u attributed",
	       t.n, t.hot, t.cold, t.elsewhere, t.attributed);
	TH_LOG("%u outside, %u foreign; %u drains at sched-out",
	       t.outside, t.foreign, drains);

	ASSERT_GE(t.hot + t.cold, PEBS_MIN_SAMPLES);
	EXPECT_EQ(0U, t.foreign) TH_LOG("filter \"%s\" let others through", filter);
	EXPECT_EQ(0U, t.outside) TH_LOG("e.g. 0x%llx: in no VMA", t.first_bad);
	/* 95% of the mapping's samples in its hot eighth */
	EXPECT_GE(t.hot, 19 * t.cold);
	EXPECT_GT(drains, 0U);

	munmap(map, ABIT_MAP_LEN);
	munmap(buf, ABIT_BUF_LEN);
}

#define TRACE_MAP_LEN	MiB
#define TRACE_N		8U

/*
 * Injected samples show up as hyperplace_batch events of this process,
 * and the Accessed-bit sampler's passes as hyperplace_abit_scan.
 */
TEST_F_TIMEOUT(hp, tracepoints_fire, WAIT_TEST_TIMEOUT)
{
	struct batch_tally t = { 0 };
	double end = deadline();
	pid_t pid = getpid();
	char *map;

	if (!have_file(HP_INJECT))
		SKIP(return, "no %s", HP_INJECT);
	if (!have_event("hyperplace_batch"))
		SKIP(return, "no tracepoint hyperplace/hyperplace_batch");
	if (!have_event("hyperplace_abit_scan"))
		SKIP(return, "no tracepoint hyperplace/hyperplace_abit_scan");
	ASSERT_EQ(0, knob_write("source", "abit"));
	ASSERT_TRUE(wait_active_source("abit", end));

	map = map_anon(TRACE_MAP_LEN);
	ASSERT_NE(NULL, map);
	touch_pages(map, TRACE_MAP_LEN);

	ASSERT_EQ(0, trace_clear());
	ASSERT_EQ(0, event_enable("hyperplace_batch", true));
	ASSERT_EQ(0, event_enable("hyperplace_abit_scan", true));
	ASSERT_EQ(0, inject_spread(pid, map, TRACE_MAP_LEN, TRACE_N, NULL));
	ASSERT_EQ(0, inject_one(pid, NO_VMA_ADDR, "store"));

	do {
		usleep(POLL_US);
		ASSERT_EQ(0, tally_batches(&t, pid));
	} while ((t.samples < TRACE_N + 1 || !t.scans) && !expired(end));
	event_enable("hyperplace_batch", false);
	event_enable("hyperplace_abit_scan", false);
	ASSERT_EQ(0, tally_batches(&t, pid));
	TH_LOG("%u batches, %u samples, %u outside, %u foreign; %u scans",
	       t.batches, t.samples, t.outside, t.foreign, t.scans);

	EXPECT_EQ(TRACE_N + 1, t.samples);
	EXPECT_GE(t.outside, 1U);
	EXPECT_EQ(0U, t.foreign);
	EXPECT_GE(t.scans, 1U);
	EXPECT_EQ(0U, t.bad_scans);

	munmap(map, TRACE_MAP_LEN);
}

#define PARK_MAP_LEN	(8 * MiB)
#define PARK_EPOCH_MS	200
/* Idle time watched for samples: this many epochs, at least a second. */
#define PARK_WATCH_US	(10 * PARK_EPOCH_MS * 1000)

/* Wait for hyperplace_source_state to say "source=@src @state". */
static bool wait_source_state(const char *src, const char *state, double end)
{
	char want[64];
	bool seen;

	snprintf(want, sizeof(want), "hyperplace_source_state: source=%s %s ",
		 src, state);
	do {
		char *text = read_all(TRACEFS "/trace");

		seen = text && strstr(text, want);
		free(text);
		if (seen)
			return true;
		usleep(POLL_US);
	} while (!expired(end));
	return false;
}

/* Wait for stats/idle to read @want. */
static bool wait_idle(unsigned long long want, double end)
{
	unsigned long long v;

	do {
		if (!stat_read("idle", &v) && v == want)
			return true;
		usleep(POLL_US);
	} while (!expired(end));
	return false;
}

/* Read and write every page of @map until @stat grows or @end passes. */
static bool wait_stat_grows(const char *stat, char *map, size_t len,
			    double end)
{
	unsigned long long base, v;

	if (stat_read(stat, &base))
		return false;
	do {
		touch_pages(map, len);
		read_lines(map, len);
		usleep(POLL_US);
		if (stat_read(stat, &v))
			return false;
		if (v > base)
			return true;
	} while (!expired(end));
	return false;
}

/*
 * While no process is placed the source is parked: PEBS gives its
 * counters back, so this process, not placed, produces no record at all
 * however it reads memory (with the counters on, every record counts in
 * pebs_records, placed or not), and the Accessed-bit sampler makes no
 * pass.  Opting in starts the source at once and its samples are filed;
 * opting out again parks it within an epoch.
 */
static void check_parks(struct __test_metadata *_metadata, const char *src,
			const char *activity)
{
	unsigned long long idle, before, after;
	double end = deadline(), stop;
	char attributed[64];
	char *map;
	int ret;

	snprintf(attributed, sizeof(attributed), "%s_attributed", src);
	ret = knob_write("source", src);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "no %s source on this machine", src);
	ASSERT_EQ(0, ret);
	ASSERT_TRUE(wait_active_source(src, end));
	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_DEFAULT, 0, 0, 0));
	map = map_anon(PARK_MAP_LEN);
	ASSERT_NE(NULL, map);
	touch_pages(map, PARK_MAP_LEN);
	ASSERT_EQ(0, knob_write_u64("epoch_ms", PARK_EPOCH_MS));

	ASSERT_EQ(0, trace_clear());
	ASSERT_EQ(0, event_enable("hyperplace_source_state", true));
	ASSERT_EQ(0, knob_write("scope", "opted_in"));
	if (!wait_idle(1, end))
		SKIP(goto out, "some other process has opted in");
	ASSERT_TRUE(wait_source_state(src, "parked", end));
	/* Still the chosen one: it runs as soon as a process is placed. */
	EXPECT_TRUE(wait_active_source(src, end));

	ASSERT_EQ(0, stat_read(activity, &before));
	for (stop = now_s() + PARK_WATCH_US / 1e6; now_s() < stop;) {
		touch_pages(map, PARK_MAP_LEN);
		read_lines(map, PARK_MAP_LEN);
		usleep(POLL_US);
	}
	ASSERT_EQ(0, stat_read(activity, &after));
	EXPECT_EQ(before, after) TH_LOG("%s grew by %llu while parked",
					activity, after - before);

	ASSERT_EQ(0, trace_clear());
	if (prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_INCLUDE, 0, 0, 0) &&
	    errno == EPERM)
		SKIP(goto out, "opting in takes CAP_SYS_NICE");
	end = deadline();
	ASSERT_TRUE(wait_source_state(src, "running", end));
	EXPECT_TRUE(wait_stat_grows(attributed, map, PARK_MAP_LEN, end))
		TH_LOG("no %s sample filed after opting in", src);
	ASSERT_EQ(0, stat_read("idle", &idle));
	EXPECT_EQ(0ULL, idle);

	ASSERT_EQ(0, trace_clear());
	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_DEFAULT, 0, 0, 0));
	end = deadline();
	EXPECT_TRUE(wait_source_state(src, "parked", end))
		TH_LOG("not parked again after the last process opted out");
out:
	EXPECT_EQ(0, event_enable("hyperplace_source_state", false));
	munmap(map, PARK_MAP_LEN);
}

TEST_F_TIMEOUT(hp, pebs_parks_while_nothing_placed, 2 * WAIT_TEST_TIMEOUT)
{
	if (!have_event("hyperplace_source_state"))
		SKIP(return, "no tracepoint hyperplace_source_state");
	check_parks(_metadata, "pebs", "pebs_records");
}

TEST_F_TIMEOUT(hp, abit_parks_while_nothing_placed, 2 * WAIT_TEST_TIMEOUT)
{
	if (!have_event("hyperplace_source_state"))
		SKIP(return, "no tracepoint hyperplace_source_state");
	check_parks(_metadata, "abit", "abit_scans");
}

#define COUNT_MAP_LEN	MiB
#define COUNT_OWN	32
#define COUNT_CHILD	16
#define COUNT_N		(COUNT_OWN + COUNT_CHILD + 1ULL)

/*
 * Wait until at least @n injected samples more than in @base have been
 * received and the totals balance: the channel is drained.
 */
static bool wait_inject_drained(const struct src_stats *base,
				unsigned long long n, struct src_stats *now,
				double end)
{
	do {
		if (!src_stats_read("inject", now) &&
		    now->received - base->received >= n &&
		    src_stats_balanced(now))
			return true;
		usleep(POLL_US);
	} while (!expired(end));
	return false;
}

/*
 * Once the channel is drained, each injected sample has been counted
 * exactly once: dropped, attributed, outside, or exited.  A child that
 * is killed right after its samples are injected exercises the exited
 * path (or not, if khyperplaced was quicker; both must add up).
 */
TEST_F_TIMEOUT(hp, inject_counters_add_up, WAIT_TEST_TIMEOUT)
{
	struct src_stats base, now = { 0 }, d;
	pid_t pid = getpid(), child;
	int ret;
	char *map;

	if (!have_file(HP_INJECT))
		SKIP(return, "no %s", HP_INJECT);
	map = map_anon(COUNT_MAP_LEN);
	ASSERT_NE(NULL, map);
	touch_pages(map, COUNT_MAP_LEN);
	ASSERT_EQ(0, src_stats_read("inject", &base));

	child = fork();
	ASSERT_GE(child, 0);
	if (!child) {
		pause();
		_exit(0);
	}
	ret = inject_spread(child, map, COUNT_MAP_LEN, COUNT_CHILD, NULL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, inject_spread(pid, map, COUNT_MAP_LEN, COUNT_OWN, NULL));
	ASSERT_EQ(0, inject_one(pid, NO_VMA_ADDR, "any"));

	EXPECT_TRUE(wait_inject_drained(&base, COUNT_N, &now, deadline()))
		TH_LOG("never balanced: %s", src_stats_str(&now));
	d = src_stats_sub(&now, &base);
	TH_LOG("this test: %s", src_stats_str(&d));
	EXPECT_EQ(COUNT_N, d.received);
	EXPECT_GE(d.outside, 1ULL);

	munmap(map, COUNT_MAP_LEN);
}

#define HOTPLUG_CPU	"/sys/devices/system/cpu/cpu1/online"
#define HOTPLUG_ROUNDS	5
#define HOTPLUG_MAP_LEN	(4 * MiB)
#define HOTPLUG_N	64U

/*
 * Map HOTPLUG_MAP_LEN bytes, touch them and wait until @pid's ranges
 * cover them (samples of it are then attributed).  NULL on failure.
 */
static char *map_hotplug_tracked(pid_t pid, double end)
{
	char *map = map_anon(HOTPLUG_MAP_LEN), *buf = malloc(ABIT_BUF_LEN);
	bool covered = false;

	if (map && buf) {
		touch_pages(map, HOTPLUG_MAP_LEN);
		covered = wait_ranges_cover(pid, map, HOTPLUG_MAP_LEN, buf,
					    ABIT_BUF_LEN, end);
	}
	free(buf);
	if (map && !covered) {
		munmap(map, HOTPLUG_MAP_LEN);
		map = NULL;
	}
	return map;
}

static int run_on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * A CPU that comes online after HyperPlace started gets its rings then:
 * they are allocated when a CPU first comes online, not for every
 * possible CPU.  Samples written on it are all filed, none dropped (a
 * CPU without rings drops everything it writes).  In make check's
 * cpu-rings boot (maxcpus=1) CPU 1 has never been online before; in the
 * other boots it is taken offline first, so the same path runs with rings
 * that exist already.  CPU 1 is left online.
 */
TEST_F_TIMEOUT(hp, cpu_online_later_gets_rings, WAIT_TEST_TIMEOUT)
{
	struct src_stats base, now = { 0 }, d;
	char state[8], *map, *cmdline;
	double end = deadline();
	pid_t pid = getpid();
	bool late;

	if (!have_file(HP_INJECT))
		SKIP(return, "no %s", HP_INJECT);
	if (access(HOTPLUG_CPU, W_OK))
		SKIP(return, "CPU 1 cannot be brought online here");
	ASSERT_EQ(0, read_line(HOTPLUG_CPU, state, sizeof(state)));
	cmdline = read_all("/proc/cmdline");
	ASSERT_NE(NULL, cmdline);
	late = strstr(cmdline, "maxcpus=1");
	free(cmdline);
	TH_LOG("CPU 1 is %s at the start", state[0] == '1' ? "online" :
	       "offline");
	/* With maxcpus=1 this must be CPU 1's first time online. */
	if (late)
		ASSERT_EQ('0', state[0]);
	if (state[0] == '1')
		ASSERT_EQ(0, write_str(HOTPLUG_CPU, "0"));
	map = map_hotplug_tracked(pid, end);
	ASSERT_NE(NULL, map) TH_LOG("the mapping never showed in the ranges");
	ASSERT_EQ(0, src_stats_read("inject", &base));

	ASSERT_EQ(0, write_str(HOTPLUG_CPU, "1"));
	ASSERT_EQ(0, run_on_cpu(1));
	ASSERT_EQ(0, inject_spread(pid, map, HOTPLUG_MAP_LEN, HOTPLUG_N,
				   NULL));
	ASSERT_EQ(0, run_on_cpu(0));
	EXPECT_TRUE(wait_inject_settled(&base, HOTPLUG_N, &now, end))
		TH_LOG("not all filed: %s", src_stats_str(&now));
	d = src_stats_sub(&now, &base);
	TH_LOG("written on CPU 1: %s", src_stats_str(&d));
	EXPECT_EQ(HOTPLUG_N, d.received);
	EXPECT_EQ(HOTPLUG_N, d.attributed);
	EXPECT_EQ(0ULL, d.dropped);
	munmap(map, HOTPLUG_MAP_LEN);
}

/*
 * Samples written on a CPU that then goes offline are still filed: a
 * CPU's rings are kept and drained when it is offline.  Whether a
 * round's samples were drained before or after the CPU went down is up
 * to khyperplaced; either way none may be lost.
 */
TEST_F_TIMEOUT(hp, cpu_offline_keeps_samples, WAIT_TEST_TIMEOUT)
{
	struct src_stats base, now = { 0 }, d;
	pid_t pid = getpid();
	unsigned int round;
	char *map;

	if (!have_file(HP_INJECT))
		SKIP(return, "no %s", HP_INJECT);
	if (access(HOTPLUG_CPU, W_OK))
		SKIP(return, "CPU 1 cannot be taken offline here");
	/* Online, whatever a test that failed before left it at. */
	ASSERT_EQ(0, write_str(HOTPLUG_CPU, "1"));
	map = map_hotplug_tracked(pid, deadline());
	ASSERT_NE(NULL, map) TH_LOG("the mapping never showed in the ranges");
	ASSERT_EQ(0, src_stats_read("inject", &base));

	for (round = 0; round < HOTPLUG_ROUNDS; round++) {
		ASSERT_EQ(0, run_on_cpu(1));
		ASSERT_EQ(0, inject_spread(pid, map, HOTPLUG_MAP_LEN,
					   HOTPLUG_N, NULL));
		ASSERT_EQ(0, run_on_cpu(0));
		ASSERT_EQ(0, write_str(HOTPLUG_CPU, "0"));
		ASSERT_EQ(0, write_str(HOTPLUG_CPU, "1"));
	}
	EXPECT_TRUE(wait_inject_settled(&base, HOTPLUG_ROUNDS * HOTPLUG_N,
					&now, deadline()))
		TH_LOG("not all filed: %s", src_stats_str(&now));
	d = src_stats_sub(&now, &base);
	EXPECT_EQ(HOTPLUG_ROUNDS * HOTPLUG_N, d.received);
	EXPECT_EQ(HOTPLUG_ROUNDS * HOTPLUG_N, d.attributed);
	EXPECT_EQ(0ULL, d.dropped);

	write_str(HOTPLUG_CPU, "1");
	munmap(map, HOTPLUG_MAP_LEN);
}

#define SWITCH_ROUNDS	2000U

/* Hits of the context-switch probe on CPU 0 since the trace was cleared. */
static long long sched_cb_hits(void)
{
	char *text = read_all(TRACEFS "/per_cpu/cpu0/trace"), *p;
	long long hits = 0;

	if (!text)
		return -1;
	for (p = text; (p = strstr(p, " " SCHED_CB_EVENT ": ")); p++)
		hits++;
	free(text);
	return hits;
}

struct pingpong {
	int to[2], from[2];
};

/* Answer every byte sent on @to on @from, SWITCH_ROUNDS times. */
static void *pong(void *arg)
{
	struct pingpong *pp = arg;
	unsigned int i;
	char c;

	for (i = 0; i < SWITCH_ROUNDS; i++)
		if (read(pp->to[0], &c, 1) != 1 || write(pp->from[1], &c, 1) != 1)
			break;
	return NULL;
}

static int ping(struct pingpong *pp)
{
	unsigned int i;
	char c = 0;

	for (i = 0; i < SWITCH_ROUNDS; i++)
		if (write(pp->to[1], &c, 1) != 1 || read(pp->from[0], &c, 1) != 1)
			return -1;
	return 0;
}

/*
 * Perf drains the PEBS buffer at context switches so that records carry
 * the right task, and disables and enables the PMU around it: MSR
 * writes, VM exits in a guest.  HyperPlace's records need only the mm,
 * so a switch between threads of one process skips it: on one CPU, a
 * ping-pong between two threads calls the PEBS context-switch callback
 * far less often than one between two processes (which calls it at every
 * switch, in and out).
 */
TEST_F_TIMEOUT(hp, pebs_drains_only_when_mm_changes, WAIT_TEST_TIMEOUT)
{
	long long threads, procs;
	struct pingpong pp;
	double end = deadline();
	pthread_t t;
	int status, ret;
	pid_t child;

	if (!self->have_tracefs || !have_file(KPROBE_EVENTS))
		SKIP(return, "no kprobe_events");
	ret = knob_write("source", "pebs");
	if (ret == -EOPNOTSUPP)
		SKIP(return, "no adaptive PEBS on this CPU");
	ASSERT_EQ(0, ret);
	ASSERT_TRUE(wait_active_source("pebs", end));
	/* Runs in its own process: the affinity ends with it. */
	ASSERT_EQ(0, run_on_cpu(0));
	ASSERT_EQ(0, pipe(pp.to));
	ASSERT_EQ(0, pipe(pp.from));
	sched_cb_probe_remove();
	ret = kprobe_append("p:" SCHED_CB_GROUP "/" SCHED_CB_EVENT
			    " intel_pmu_pebs_sched_task\n");
	if (ret == -ENOENT || ret == -EINVAL)
		SKIP(return, "cannot probe intel_pmu_pebs_sched_task (%d)", ret);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, write_str(SCHED_CB_ENABLE, "1"));

	ASSERT_EQ(0, trace_clear());
	ASSERT_EQ(0, pthread_create(&t, NULL, pong, &pp));
	EXPECT_EQ(0, ping(&pp));
	ASSERT_EQ(0, pthread_join(t, NULL));
	threads = sched_cb_hits();
	ASSERT_EQ(0, trace_clear());
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		pong(&pp);
		_exit(0);
	}
	EXPECT_EQ(0, ping(&pp));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	procs = sched_cb_hits();
	sched_cb_probe_remove();

	ASSERT_LE(0, threads);
	ASSERT_LE(0, procs);
	TH_LOG("%u round trips on CPU 0: PEBS callbacks %lld (threads), %lld (processes)",
	       SWITCH_ROUNDS, threads, procs);
	if (!procs)
		SKIP(return, "no PEBS context-switch callback on CPU 0 at all");
	EXPECT_GE(procs, (long long)SWITCH_ROUNDS);
	EXPECT_LT(threads * 4, procs);
}

TEST_HARNESS_MAIN
