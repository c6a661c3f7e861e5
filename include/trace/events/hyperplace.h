/* SPDX-License-Identifier: GPL-2.0-only */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hyperplace

#if !defined(_TRACE_HYPERPLACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_HYPERPLACE_H

#include <linux/hyperplace.h>
#include <linux/tracepoint.h>

TRACE_DEFINE_ENUM(HP_SRC_PEBS);
TRACE_DEFINE_ENUM(HP_SRC_ABIT);
TRACE_DEFINE_ENUM(HP_SRC_INJECT);
TRACE_DEFINE_ENUM(HP_ACCESS_LOAD);
TRACE_DEFINE_ENUM(HP_ACCESS_STORE);
TRACE_DEFINE_ENUM(HP_ACCESS_ANY);

#define hp_show_source(s)						\
	__print_symbolic(s, { HP_SRC_PEBS, "pebs" },			\
			 { HP_SRC_ABIT, "abit" },			\
			 { HP_SRC_INJECT, "inject" })

/**
 * hyperplace_pebs_drain - PEBS records of one counter handed over by perf
 * @records: records of the counter in the drained buffer
 * @samples: of those, samples written to the channel
 * @zero_addr: records without a data address
 * @kernel_addr: records with an address outside user space
 * @bad_format: records in a format the decoder refuses
 * @store: the counter counts stores (else loads)
 */
TRACE_EVENT(hyperplace_pebs_drain,
	TP_PROTO(unsigned int records, unsigned int samples,
		 unsigned int zero_addr, unsigned int kernel_addr,
		 unsigned int bad_format, bool store),
	TP_ARGS(records, samples, zero_addr, kernel_addr, bad_format, store),
	TP_STRUCT__entry(
		__field(unsigned int, records)
		__field(unsigned int, samples)
		__field(unsigned int, zero_addr)
		__field(unsigned int, kernel_addr)
		__field(unsigned int, bad_format)
		__field(bool, store)
	),
	TP_fast_assign(
		__entry->records = records;
		__entry->samples = samples;
		__entry->zero_addr = zero_addr;
		__entry->kernel_addr = kernel_addr;
		__entry->bad_format = bad_format;
		__entry->store = store;
	),
	TP_printk("%s records=%u samples=%u zero_addr=%u kernel_addr=%u bad_format=%u",
		  __entry->store ? "stores" : "loads", __entry->records,
		  __entry->samples, __entry->zero_addr, __entry->kernel_addr,
		  __entry->bad_format)
);

/**
 * hyperplace_drop - samples lost before reaching a range set
 * @source: an &enum hp_source
 * @count: samples lost
 * @reason: "channel full", "no mm", "mm exited" or "process not placed"
 */
TRACE_EVENT(hyperplace_drop,
	TP_PROTO(u8 source, unsigned int count, const char *reason),
	TP_ARGS(source, count, reason),
	TP_STRUCT__entry(
		__field(u8, source)
		__field(unsigned int, count)
		__string(reason, reason)
	),
	TP_fast_assign(
		__entry->source = source;
		__entry->count = count;
		__assign_str(reason);
	),
	TP_printk("source=%s count=%u reason=%s",
		  hp_show_source(__entry->source), __entry->count,
		  __get_str(reason))
);

/**
 * hyperplace_batch - a run of samples of one process filed into its ranges
 * @source: an &enum hp_source
 * @pid: the process (thread group id of the task it was attached for)
 * @samples: samples in the run
 * @attributed: of those, samples that fell in a range
 */
TRACE_EVENT(hyperplace_batch,
	TP_PROTO(u8 source, pid_t pid, unsigned int samples,
		 unsigned int attributed),
	TP_ARGS(source, pid, samples, attributed),
	TP_STRUCT__entry(
		__field(u8, source)
		__field(pid_t, pid)
		__field(unsigned int, samples)
		__field(unsigned int, attributed)
	),
	TP_fast_assign(
		__entry->source = source;
		__entry->pid = pid;
		__entry->samples = samples;
		__entry->attributed = attributed;
	),
	TP_printk("source=%s pid=%d samples=%u attributed=%u outside=%u",
		  hp_show_source(__entry->source), __entry->pid,
		  __entry->samples, __entry->attributed,
		  __entry->samples - __entry->attributed)
);

/**
 * hyperplace_sample - one sample filed into a process's ranges
 * @source: an &enum hp_source
 * @pid: the process
 * @addr: sampled address
 * @access: an &enum hp_access
 * @weight: latency of a PEBS load, else 1
 * @attributed: whether a range covered @addr
 */
TRACE_EVENT(hyperplace_sample,
	TP_PROTO(u8 source, pid_t pid, u64 addr, u8 access, u32 weight,
		 bool attributed),
	TP_ARGS(source, pid, addr, access, weight, attributed),
	TP_STRUCT__entry(
		__field(u8, source)
		__field(pid_t, pid)
		__field(u64, addr)
		__field(u8, access)
		__field(u32, weight)
		__field(bool, attributed)
	),
	TP_fast_assign(
		__entry->source = source;
		__entry->pid = pid;
		__entry->addr = addr;
		__entry->access = access;
		__entry->weight = weight;
		__entry->attributed = attributed;
	),
	TP_printk("source=%s pid=%d addr=0x%llx access=%s weight=%u attributed=%d",
		  hp_show_source(__entry->source), __entry->pid, __entry->addr,
		  __print_symbolic(__entry->access, { HP_ACCESS_LOAD, "load" },
				   { HP_ACCESS_STORE, "store" },
				   { HP_ACCESS_ANY, "any" }),
		  __entry->weight, __entry->attributed)
);

/**
 * hyperplace_source_state - a sample source started, stopped or parked
 * @source: an &enum hp_source
 * @running: whether it runs now
 * @parked: whether it is stopped only until a process is placed
 * @err: why it does not run (0 if stopped or parked on request)
 */
TRACE_EVENT(hyperplace_source_state,
	TP_PROTO(u8 source, bool running, bool parked, int err),
	TP_ARGS(source, running, parked, err),
	TP_STRUCT__entry(
		__field(u8, source)
		__field(bool, running)
		__field(bool, parked)
		__field(int, err)
	),
	TP_fast_assign(
		__entry->source = source;
		__entry->running = running;
		__entry->parked = parked;
		__entry->err = err;
	),
	TP_printk("source=%s %s err=%d", hp_show_source(__entry->source),
		  __entry->running ? "running" :
		  __entry->parked ? "parked" : "stopped", __entry->err)
);

/**
 * hyperplace_abit_scan - one pass of the Accessed-bit sampler
 * @mms: processes scanned
 * @checked: pages whose Accessed bit was tested and cleared
 * @young: of those, pages found accessed (one sample each)
 * @ns: time the pass took
 */
TRACE_EVENT(hyperplace_abit_scan,
	TP_PROTO(unsigned int mms, unsigned int checked, unsigned int young,
		 u64 ns),
	TP_ARGS(mms, checked, young, ns),
	TP_STRUCT__entry(
		__field(unsigned int, mms)
		__field(unsigned int, checked)
		__field(unsigned int, young)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->mms = mms;
		__entry->checked = checked;
		__entry->young = young;
		__entry->ns = ns;
	),
	TP_printk("mms=%u checked=%u young=%u ns=%llu", __entry->mms,
		  __entry->checked, __entry->young, __entry->ns)
);

/**
 * hyperplace_rank - the hot set chosen at the end of an epoch
 * @mms: processes ranked together
 * @ranges: their ranges
 * @capacity: fast-tier pages the hot set may use
 * @hot_pages: pages in the hot set
 * @promote_pages: pages that entered the hot set
 * @demote_pages: pages that left it
 */
TRACE_EVENT(hyperplace_rank,
	TP_PROTO(unsigned int mms, unsigned int ranges, unsigned long capacity,
		 unsigned long hot_pages, unsigned long promote_pages,
		 unsigned long demote_pages),
	TP_ARGS(mms, ranges, capacity, hot_pages, promote_pages, demote_pages),
	TP_STRUCT__entry(
		__field(unsigned int, mms)
		__field(unsigned int, ranges)
		__field(unsigned long, capacity)
		__field(unsigned long, hot_pages)
		__field(unsigned long, promote_pages)
		__field(unsigned long, demote_pages)
	),
	TP_fast_assign(
		__entry->mms = mms;
		__entry->ranges = ranges;
		__entry->capacity = capacity;
		__entry->hot_pages = hot_pages;
		__entry->promote_pages = promote_pages;
		__entry->demote_pages = demote_pages;
	),
	TP_printk("mms=%u ranges=%u capacity=%lu hot=%lu promote=%lu demote=%lu",
		  __entry->mms, __entry->ranges, __entry->capacity,
		  __entry->hot_pages, __entry->promote_pages,
		  __entry->demote_pages)
);

/**
 * hyperplace_decision - a range whose hot part changed
 * @pid: process the range belongs to
 * @start: start of the range
 * @end: end of the range
 * @hot_start: start of the new hot part
 * @hot_end: end of the new hot part (== @hot_start when none)
 * @promote_pages: pages that entered the hot part
 * @demote_pages: pages that left it
 */
TRACE_EVENT(hyperplace_decision,
	TP_PROTO(pid_t pid, unsigned long start, unsigned long end,
		 unsigned long hot_start, unsigned long hot_end,
		 unsigned long promote_pages, unsigned long demote_pages),
	TP_ARGS(pid, start, end, hot_start, hot_end, promote_pages,
		demote_pages),
	TP_STRUCT__entry(
		__field(pid_t, pid)
		__field(unsigned long, start)
		__field(unsigned long, end)
		__field(unsigned long, hot_start)
		__field(unsigned long, hot_end)
		__field(unsigned long, promote_pages)
		__field(unsigned long, demote_pages)
	),
	TP_fast_assign(
		__entry->pid = pid;
		__entry->start = start;
		__entry->end = end;
		__entry->hot_start = hot_start;
		__entry->hot_end = hot_end;
		__entry->promote_pages = promote_pages;
		__entry->demote_pages = demote_pages;
	),
	TP_printk("pid=%d range=%#lx-%#lx hot=%#lx-%#lx promote=%lu demote=%lu",
		  __entry->pid, __entry->start, __entry->end,
		  __entry->hot_start, __entry->hot_end,
		  __entry->promote_pages, __entry->demote_pages)
);

/**
 * hyperplace_migrate - one batch of pages moved between the tiers
 * @promote: true for fast-tier promotion, false for demotion
 * @exchange: a demotion that made room for promotions
 * @pid: process the pages belong to
 * @nid: node the pages were sent to
 * @isolated: pages isolated for the move
 * @moved: of those, pages that moved (the others stayed where they were)
 */
TRACE_EVENT(hyperplace_migrate,
	TP_PROTO(bool promote, bool exchange, pid_t pid, int nid,
		 unsigned int isolated, unsigned int moved),
	TP_ARGS(promote, exchange, pid, nid, isolated, moved),
	TP_STRUCT__entry(
		__field(bool, promote)
		__field(bool, exchange)
		__field(pid_t, pid)
		__field(int, nid)
		__field(unsigned int, isolated)
		__field(unsigned int, moved)
	),
	TP_fast_assign(
		__entry->promote = promote;
		__entry->exchange = exchange;
		__entry->pid = pid;
		__entry->nid = nid;
		__entry->isolated = isolated;
		__entry->moved = moved;
	),
	TP_printk("%s pid=%d nid=%d isolated=%u moved=%u",
		  __entry->promote ? "promote" :
		  __entry->exchange ? "exchange" : "demote",
		  __entry->pid, __entry->nid, __entry->isolated,
		  __entry->moved)
);

#endif /* _TRACE_HYPERPLACE_H */

#include <trace/define_trace.h>
