// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "trace.h"
#include "util.h"
#include "vmap.h"

#define MAX_REPORTED	20
#define CHUNK		(8u << 20)

struct parser {
	struct trace *t;
	struct vmap vm;
	FILE *err;
	uint64_t line;
	uint64_t prev_t;
	int events_seen;
	int have_fast;
	int errors;
	int fatal;
	/* the mapping of the last access: most accesses hit it again */
	uint32_t cpid;
	uint64_t cstart, cend, cbase;
};

static void perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->errors++ >= MAX_REPORTED)
		return;
	fprintf(p->err, "%s:%llu: ", p->t->name, (unsigned long long)p->line);
	va_start(ap, fmt);
	vfprintf(p->err, fmt, ap);
	va_end(ap);
	fputc('\n', p->err);
}

static int is_sep(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_sep(const char *s, const char *e)
{
	while (s < e && is_sep(*s))
		s++;
	return s;
}

/* hex digit values, -1 for anything else */
static signed char hexval[256];

static void init_hexval(void)
{
	memset(hexval, -1, sizeof(hexval));
	for (int i = 0; i < 10; i++)
		hexval['0' + i] = (signed char)i;
	for (int i = 0; i < 6; i++)
		hexval['a' + i] = hexval['A' + i] = (signed char)(10 + i);
}

/* Decimal field ending at a separator or the end of the line; 0 on bad input. */
static int get_dec(const char **sp, const char *e, uint64_t *out)
{
	const char *s = *sp, *s0 = s;
	uint64_t v = 0;
	unsigned int d;

	/* 19 digits cannot overflow: check only beyond that */
	while (s < e && (d = (unsigned int)(*s - '0')) < 10 && s - s0 < 19)
		v = v * 10 + d, s++;
	if (s < e && (d = (unsigned int)(*s - '0')) < 10) {
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d, s++;
	}
	if (s == s0 || (s < e && !is_sep(*s)))
		return 0;
	*sp = s;
	*out = v;
	return 1;
}

/* Hex field, optional 0x prefix, at most 16 digits. */
static int get_hex(const char **sp, const char *e, uint64_t *out)
{
	const unsigned char *s = (const unsigned char *)*sp, *s0, *ue = (const unsigned char *)e;
	uint64_t v = 0;
	int d;

	if (ue - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	s0 = s;
	while (s < ue && (d = hexval[*s]) >= 0 && s - s0 < 16)
		v = (v << 4) | (unsigned int)d, s++;
	if (s == s0 || (s < ue && !is_sep((char)*s)))
		return 0;
	*sp = (const char *)s;
	*out = v;
	return 1;
}

static void push_ev(struct trace *t, uint32_t word, uint32_t dt)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1 << 16;
		t->ev = xrealloc(t->ev, t->cap * sizeof(*t->ev));
		t->dt = xrealloc(t->dt, t->cap * sizeof(*t->dt));
	}
	t->ev[t->n] = word;
	t->dt[t->n++] = dt;
}

static int push_ctl(struct parser *p, struct ctl c)
{
	struct trace *t = p->t;

	if (t->nctl > EV_MAX_ARG) {
		perr(p, "too many control events");
		p->fatal = 1;
		return 0;
	}
	if (t->nctl == t->ctlcap) {
		t->ctlcap = t->ctlcap ? 2 * t->ctlcap : 256;
		t->ctl = xrealloc(t->ctl, t->ctlcap * sizeof(*t->ctl));
	}
	t->ctl[t->nctl] = c;
	push_ev(t, (EV_CTL << EV_SHIFT) | (uint32_t)t->nctl++, 0);
	return 1;
}

/* Allocate page ids for a new mapping and record who owns them. */
static int alloc_pages(struct parser *p, uint32_t pid, uint64_t start, uint64_t npg,
		       uint64_t *base)
{
	struct trace *t = p->t;

	if (t->npages + npg > (uint64_t)EV_MAX_ARG + 1) {
		perr(p, "more than %u pages mapped over the trace", EV_MAX_ARG + 1);
		p->fatal = 1;
		return 0;
	}
	if (t->npages + npg > t->pcap) {
		while (t->npages + npg > t->pcap)
			t->pcap = t->pcap ? 2 * t->pcap : 1 << 16;
		t->page_pid = xrealloc(t->page_pid, t->pcap * sizeof(*t->page_pid));
		t->page_va = xrealloc(t->page_va, t->pcap * sizeof(*t->page_va));
	}
	*base = t->npages;
	for (uint64_t i = 0; i < npg; i++) {
		t->page_pid[t->npages + i] = pid;
		t->page_va[t->npages + i] = start + (i << t->shift);
	}
	t->npages += npg;
	return 1;
}

static void header(struct parser *p, const char *key, size_t klen, const char *val,
		   const char *e)
{
	struct trace *t = p->t;
	uint64_t v;
	const char *s = val;
	int known = (klen == 9 && !memcmp(key, "page_size", 9)) ||
		    (klen == 10 && !memcmp(key, "fast_pages", 10)) ||
		    (klen == 4 && !memcmp(key, "cpus", 4));

	if (!known)
		return;		/* other keys are comments: generators may add their own */
	if (p->events_seen) {
		perr(p, "header %.*s after the first event", (int)klen, key);
		return;
	}
	if (!get_dec(&s, e, &v) || skip_sep(s, e) != e || !v) {
		perr(p, "header %.*s needs a positive decimal value", (int)klen, key);
		return;
	}
	if (*key == 'p') {
		if ((v & (v - 1)) || v < 512 || v > (1ull << 30)) {
			perr(p, "page_size must be a power of two in [512, 2^30]");
			return;
		}
		t->page_size = v;
		t->shift = (unsigned int)__builtin_ctzll(v);
		p->vm.shift = t->shift;
	} else if (*key == 'f') {
		t->fast_pages = v;
		p->have_fast = 1;
	} else {
		if (v > 4096) {
			perr(p, "cpus must be in [1, 4096]");
			return;
		}
		t->cpus = (uint32_t)v;
	}
}

static void comment(struct parser *p, const char *s, const char *e)
{
	const char *k, *eq;

	s = skip_sep(s + 1, e);
	k = s;
	while (s < e && ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
		s++;
	if (s == k || s >= e || *s != '=')
		return;
	eq = s;
	for (s = eq + 1; s < e && !is_sep(*s); s++)
		;
	if (skip_sep(s, e) != e)
		return;		/* "# a=b and more" is prose, not a header */
	header(p, k, (size_t)(eq - k), eq + 1, s);
}

static void kill_nothing(void *ctx, uint64_t first, uint64_t n)
{
	(void)ctx; (void)first; (void)n;
}

static void time_step(struct parser *p, uint64_t ts, uint32_t pid)
{
	struct ctl c = { .t = ts, .pid = pid, .op = 't' };

	push_ctl(p, c);
}

static void record_access(struct parser *p, uint64_t ts, uint32_t pid, int write, uint64_t a)
{
	struct trace *t = p->t;
	uint64_t page, dt = ts - p->prev_t;

	if (dt > UINT32_MAX) {
		time_step(p, ts, pid);
		dt = 0;
	}
	if (pid == p->cpid && a >= p->cstart && a < p->cend) {
		page = p->cbase + ((a - p->cstart) >> t->shift);
	} else {
		struct vpid *vp = vmap_pid(&p->vm, pid, 0);
		long i = vp ? vmap_find(vp, a) : -1;

		if (i < 0) {
			t->unmapped++;
			return;
		}
		p->cpid = pid;
		p->cstart = vp->v[i].start;
		p->cend = vp->v[i].end;
		p->cbase = vp->v[i].base;
		page = p->cbase + ((a - p->cstart) >> t->shift);
	}
	push_ev(t, ((write ? EV_WRITE : EV_READ) << EV_SHIFT) | (uint32_t)page, (uint32_t)dt);
	t->accesses++;
}

/*
 * The common line, "<t> <pid> r|w <hex>\n" in canonical form, without bounds checks:
 * the caller guarantees FAST_SLACK readable bytes. Anything else returns NULL and
 * takes the general path, which also reports errors.
 */
#define FAST_SLACK 64

static const char *fast_access(struct parser *p, const char *q)
{
	uint64_t ts = 0, pid = 0, a = 0;
	unsigned int d;
	int n, x;
	char op;

	for (n = 0; n < 20 && (d = (unsigned int)(*q - '0')) < 10; n++, q++)
		ts = ts * 10 + d;
	if (!n || n > 19 || *q++ != ' ')
		return NULL;
	for (n = 0; n < 11 && (d = (unsigned int)(*q - '0')) < 10; n++, q++)
		pid = pid * 10 + d;
	if (!n || pid > UINT32_MAX || *q++ != ' ')
		return NULL;
	op = *q;
	if ((op != 'r' && op != 'w') || q[1] != ' ')
		return NULL;
	q += 2;
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		q += 2;
	for (n = 0; n < 17 && (x = hexval[(unsigned char)*q]) >= 0; n++, q++)
		a = (a << 4) | (unsigned int)x;
	if (!n || n > 16 || *q != '\n' || ts < p->prev_t)
		return NULL;
	p->line++;
	record_access(p, ts, (uint32_t)pid, op == 'w', a);
	p->prev_t = ts;
	return q + 1;
}

static void event(struct parser *p, const char *s, const char *e)
{
	struct trace *t = p->t;
	uint64_t ts, pid, a, len;
	char op;

	if (!get_dec(&s, e, &ts)) {
		perr(p, "bad time (want decimal ns)");
		return;
	}
	s = skip_sep(s, e);
	if (!get_dec(&s, e, &pid) || pid > UINT32_MAX) {
		perr(p, "bad pid (want decimal, < 2^32)");
		return;
	}
	s = skip_sep(s, e);
	if (s >= e || (s + 1 < e && !is_sep(s[1]))) {
		perr(p, "bad or missing event type (want m, u, r, w or x)");
		return;
	}
	op = *s++;
	s = skip_sep(s, e);
	if (!p->events_seen) {
		if (!p->have_fast) {
			perr(p, "first event before the required header '# fast_pages=N'");
			p->fatal = 1;
			return;
		}
		p->events_seen = 1;
		t->t0 = p->prev_t = ts;
	}
	if (ts < p->prev_t) {
		perr(p, "time goes backwards (%llu < %llu)", (unsigned long long)ts,
		     (unsigned long long)p->prev_t);
		return;
	}
	switch (op) {
	case 'r':
	case 'w':
		if (!get_hex(&s, e, &a) || skip_sep(s, e) != e) {
			perr(p, "'%c' wants exactly one hex address", op);
			return;
		}
		record_access(p, ts, (uint32_t)pid, op == 'w', a);
		break;
	case 'm':
	case 'u': {
		struct ctl c = { .t = ts, .pid = (uint32_t)pid, .op = op };

		if (!get_hex(&s, e, &a) || (s = skip_sep(s, e), !get_hex(&s, e, &len)) ||
		    skip_sep(s, e) != e) {
			perr(p, "'%c' wants a hex start and a hex length", op);
			return;
		}
		if (a & (t->page_size - 1)) {
			perr(p, "'%c' start 0x%llx is not page aligned", op, (unsigned long long)a);
			return;
		}
		len = (len + t->page_size - 1) & ~(t->page_size - 1);
		if (!len || a + len < a) {
			perr(p, "'%c' length is zero or wraps around", op);
			return;
		}
		c.start = a;
		c.end = a + len;
		p->cend = 0;		/* the cached mapping may change */
		if (op == 'm') {
			if (!alloc_pages(p, c.pid, a, len >> t->shift, &c.base))
				return;
			vmap_map(&p->vm, c.pid, c.start, c.end, c.base, kill_nothing, NULL);
		} else {
			vmap_unmap(&p->vm, c.pid, c.start, c.end, kill_nothing, NULL);
		}
		push_ctl(p, c);
		break;
	}
	case 'x': {
		struct ctl c = { .t = ts, .pid = (uint32_t)pid, .op = 'x' };

		if (s != e) {
			perr(p, "'x' takes no arguments");
			return;
		}
		vmap_exit(&p->vm, c.pid, kill_nothing, NULL);
		p->cend = 0;
		push_ctl(p, c);
		break;
	}
	default:
		perr(p, "unknown event type '%c' (want m, u, r, w or x)", op);
		return;
	}
	p->prev_t = ts;
}

static void line(struct parser *p, const char *s, const char *e)
{
	p->line++;
	if (e > s && e[-1] == '\r')
		e--;
	if (s < e && *s == '#') {
		comment(p, s, e);
		return;
	}
	s = skip_sep(s, e);
	if (s == e)
		return;		/* blank lines are allowed */
	event(p, s, e);
}

/* Every complete line of [s, end); returns where the incomplete last one starts. */
static const char *parse_buf(struct parser *p, const char *s, const char *end)
{
	const char *nl;

	while (!p->fatal) {
		if (p->events_seen && end - s >= FAST_SLACK && (nl = fast_access(p, s))) {
			s = nl;
			continue;
		}
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			break;
		line(p, s, nl);
		s = nl + 1;
	}
	return s;
}

/* A whole file in memory; the last line may lack its newline. */
static void parse_mapped(struct parser *p, const char *s, const char *end)
{
	s = parse_buf(p, s, end);
	if (!p->fatal && s < end)
		line(p, s, end);
}

/* Pipes and stdin: read in chunks, carrying the partial last line over. */
static void parse_stream(struct parser *p, FILE *f)
{
	char *buf = xmalloc(CHUNK + 1);
	size_t have = 0;

	for (;;) {
		size_t got = fread(buf + have, 1, CHUNK - have, f);
		char *end = buf + have + got, *s = buf;

		if (!got && !have)
			break;
		s = (char *)parse_buf(p, s, end);
		have = (size_t)(end - s);
		if (p->fatal)
			break;
		if (!got) {		/* last line without a newline */
			line(p, s, end);
			break;
		}
		if (have == CHUNK) {
			p->line++;
			perr(p, "line longer than %u bytes", CHUNK);
			break;
		}
		memmove(buf, s, have);
	}
	if (ferror(f)) {
		fprintf(p->err, "%s: read error\n", p->t->name);
		p->errors++;
	}
	free(buf);
}

int trace_load(struct trace *t, const char *path, FILE *err)
{
	struct parser p = { .t = t, .err = err };
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct stat st;

	init_hexval();
	memset(t, 0, sizeof(*t));
	t->name = strcmp(path, "-") ? path : "<stdin>";
	t->page_size = 4096;
	t->shift = 12;
	t->cpus = 1;
	vmap_init(&p.vm, t->shift);
	if (!f) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		vmap_free(&p.vm);
		return 1;
	}
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		size_t size = (size_t)st.st_size;
		void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fileno(f), 0);

		if (m != MAP_FAILED) {
			/* a line takes >= 8 bytes: reserve once, untouched pages cost nothing */
			t->cap = size / 8 + 1;
			t->ev = xmalloc(t->cap * sizeof(*t->ev));
			t->dt = xmalloc(t->cap * sizeof(*t->dt));
			parse_mapped(&p, m, (const char *)m + size);
			munmap(m, size);
		} else {
			parse_stream(&p, f);
		}
	} else {
		parse_stream(&p, f);
	}
	if (f != stdin)
		fclose(f);
	vmap_free(&p.vm);
	if (!p.have_fast && !p.errors) {
		fprintf(err, "%s: missing required header '# fast_pages=N'\n", t->name);
		p.errors++;
	}
	if (p.errors > MAX_REPORTED)
		fprintf(err, "%s: %d more errors not shown\n", t->name, p.errors - MAX_REPORTED);
	t->lines = p.line;
	t->t_end = p.prev_t;
	return p.errors;
}

void trace_free(struct trace *t)
{
	free(t->ev);
	free(t->dt);
	free(t->ctl);
	free(t->page_pid);
	free(t->page_va);
	memset(t, 0, sizeof(*t));
}
