/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HPSIM_CACHE_H
#define HPSIM_CACHE_H

#include "trace.h"

/* 1 if cache_path holds a cache of trace_path at least as new as it, loaded into t */
int cache_load(struct trace *t, const char *trace_path, const char *cache_path);
void cache_save(const struct trace *t, const char *cache_path);

#endif
