// SPDX-License-Identifier: GPL-2.0
/* Parameter defaults and validation. */
#include <stddef.h>
#include <string.h>
#include "tests.h"

void test_params_defaults(void)
{
	struct hp_range_params p;

	memset(&p, 0xff, sizeof(p));
	hp_range_params_init(&p);
	CHECK_EQ(hp_range_params_validate(&p), 0);
	CHECK_EQ(p.split_shift, 21);
	CHECK_EQ(p.decay_shift, 1);
	CHECK_EQ(p.split_ratio, 200);
	CHECK_EQ(p.split_min_samples, 32);
	CHECK_EQ(p.merge_ratio, 125);
	CHECK_EQ(p.merge_floor_samples, 1);
	CHECK_EQ(p.min_age, 2);
	CHECK_EQ(p.max_ranges, 2048);
	CHECK_EQ(p.hysteresis, 25);
}

struct hpt_field {
	size_t off;
	unsigned int lo;
	unsigned int hi;
};

#define F(name, lo, hi) { offsetof(struct hp_range_params, name), lo, hi }

/* Valid ranges as documented in range.h. */
static const struct hpt_field fields[] = {
	F(split_shift, PAGE_SHIFT, 30),
	F(decay_shift, 1, 16),
	F(split_ratio, 110, 10000),
	F(split_min_samples, 1, 1048576),
	F(merge_ratio, 100, 10000),
	F(merge_floor_samples, 0, 1048576),
	F(min_age, 0, 1000),
	F(max_ranges, 16, 1048576),
	F(hysteresis, 0, 1000),
};

static int hpt_expect(const struct hp_range_params *p)
{
	if (p->merge_ratio >= p->split_ratio ||
	    p->merge_floor_samples > p->split_min_samples)
		return -EINVAL;
	return 0;
}

static int hpt_try(size_t off, unsigned int v)
{
	struct hp_range_params p;

	hp_range_params_init(&p);
	memcpy((char *)&p + off, &v, sizeof(v));
	return hp_range_params_validate(&p);
}

void test_params_validate(void)
{
	struct hp_range_params p;
	unsigned int i, v;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct hpt_field *f = &fields[i];
		const unsigned int vals[] = { f->lo, f->hi, (f->lo + f->hi) / 2 };
		unsigned int j;

		if (f->lo)
			CHECK_EQ(hpt_try(f->off, f->lo - 1), -ERANGE);
		CHECK_EQ(hpt_try(f->off, f->hi + 1), -ERANGE);
		CHECK_EQ(hpt_try(f->off, ~0U), -ERANGE);
		for (j = 0; j < 3; j++) {
			hp_range_params_init(&p);
			v = vals[j];
			memcpy((char *)&p + f->off, &v, sizeof(v));
			CHECK_EQ(hp_range_params_validate(&p), hpt_expect(&p));
		}
	}
	hp_range_params_init(&p);
	p.merge_ratio = p.split_ratio;
	CHECK_EQ(hp_range_params_validate(&p), -EINVAL);
	p.merge_ratio = p.split_ratio - 1;
	CHECK_EQ(hp_range_params_validate(&p), 0);
	p.merge_floor_samples = p.split_min_samples + 1;
	CHECK_EQ(hp_range_params_validate(&p), -EINVAL);
}

void test_params_create_set(void)
{
	struct hp_range_params p, bad;
	struct hpt_space t;
	struct hp_space *s;

	hp_range_params_init(&bad);
	bad.decay_shift = 0;
	s = hp_space_create(&bad);
	CHECK(IS_ERR(s) && PTR_ERR(s) == -ERANGE);
	bad.decay_shift = 1;
	bad.merge_ratio = 300;
	s = hp_space_create(&bad);
	CHECK(IS_ERR(s) && PTR_ERR(s) == -EINVAL);
	s = hp_space_create(NULL);
	CHECK(!IS_ERR(s));
	if (!IS_ERR(s)) {
		hp_range_params_init(&p);
		CHECK(!memcmp(&s->params, &p, sizeof(p)));
		hp_space_destroy(s);
	}
	hp_space_destroy(NULL);

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(16));
	hpt_sweep(&t, HPT_ADDR(0), HPT_ADDR(HPT_MIB(4)), 100, 1);
	/* hpt_set_params() checks that a rejected set changes nothing. */
	CHECK_EQ(hpt_set_params(&t, &bad), -EINVAL);
	bad.merge_ratio = 125;
	bad.max_ranges = 15;
	CHECK_EQ(hpt_set_params(&t, &bad), -ERANGE);
	bad.max_ranges = 64;
	CHECK_EQ(hpt_set_params(&t, &bad), 0);
	CHECK_EQ(t.s->params.max_ranges, 64);
	hpt_fini(&t);
}
