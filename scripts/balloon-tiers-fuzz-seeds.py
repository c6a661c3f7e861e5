#!/usr/bin/env python3
"""Write seed inputs for QEMU's virtio-balloon-tiers-fuzz target.

usage: balloon-tiers-fuzz-seeds.py DIR

The input format is the fuzz target's (qemu/tests/qtest/fuzz/
virtio_balloon_tiers_fuzz.c): 8-byte actions (op, queue, arg, cut, len,
value; little endian), a request's payload after its action.  The
machine's fast node is guest pages 0-8191, the slow node 8192-16383; the
test allocator uses the first MiBs, so the seeds balloon pages above it.
Seeds are valid conversations a driver could have; the fuzzer mutates
them into the invalid ones.
"""

import os
import struct
import sys

REQUEST, CONFIG, TARGET, QUERY, STOP_CONT, CLOCK = range(6)
STOCK_INFLATE, STOCK_DEFLATE, INFLATE, DEFLATE, STATS = range(5)
SPLIT, WRITABLE, NOKICK = 1, 2, 4
FAST, SLOW = 0, 1
FAST_PFN, SLOW_PFN = 0x1000, 0x3000


def action(op, queue=0, arg=0, cut=0, payload=b'', value=0):
    return struct.pack('<BBBBHH', op, queue, arg, cut, len(payload), value) + payload


def tier_req(tier, ranges):
    body = b''.join(struct.pack('<QII', pfn, n, 0) for pfn, n in ranges)
    return struct.pack('<HHI', tier, 0, len(ranges)) + body


def stats(records):
    return b''.join(struct.pack('<HHIQ', tier, tag, 0, val) for tier, tag, val in records)


def request(queue, payload, arg=0, cut=0):
    return action(REQUEST, queue, arg, cut, payload)


SEEDS = {
    'inflate-deflate': [
        request(INFLATE, tier_req(FAST, [(FAST_PFN, 16)])),
        request(DEFLATE, tier_req(FAST, [(FAST_PFN, 16)])),
    ],
    'both-tiers': [
        action(TARGET, arg=3, value=2048),
        request(INFLATE, tier_req(FAST, [(FAST_PFN, 8), (FAST_PFN + 64, 1)])),
        request(INFLATE, tier_req(SLOW, [(SLOW_PFN, 512)])),
        action(QUERY),
        action(CLOCK, value=1000),
        request(DEFLATE, tier_req(SLOW, [(SLOW_PFN + 256, 256)])),
        action(QUERY),
    ],
    'split-descriptors': [
        request(INFLATE, tier_req(SLOW, [(SLOW_PFN, 4), (SLOW_PFN + 8, 4)]),
                arg=SPLIT, cut=11),
        request(DEFLATE, tier_req(SLOW, [(SLOW_PFN, 4)]), arg=SPLIT | NOKICK, cut=7),
        request(DEFLATE, tier_req(SLOW, [(SLOW_PFN + 8, 4)])),
    ],
    'stop-cont': [
        request(INFLATE, tier_req(FAST, [(FAST_PFN, 256)])),
        action(STOP_CONT),
        request(DEFLATE, tier_req(FAST, [(FAST_PFN, 128)])),
    ],
    'throttle': [request(INFLATE, tier_req(FAST, [(FAST_PFN + i, 1)]))
                 for i in range(24)] + [action(CLOCK, value=250)],
    'stats': [
        request(STATS, stats([(FAST, 0, 1 << 24), (FAST, 1, 1 << 25),
                              (SLOW, 2, 7), (SLOW, 9, 1)])),
        action(QUERY),
    ],
    'stock-and-tier': [
        request(STOCK_INFLATE, struct.pack('<4I', *range(FAST_PFN, FAST_PFN + 4))),
        request(INFLATE, tier_req(FAST, [(FAST_PFN, 4)])),
        request(STOCK_DEFLATE, struct.pack('<4I', *range(FAST_PFN, FAST_PFN + 4))),
        request(DEFLATE, tier_req(FAST, [(FAST_PFN, 4)])),
    ],
    'config-actual': [
        action(TARGET, arg=1, value=4096),
        request(INFLATE, tier_req(FAST, [(FAST_PFN, 256)])),
        action(CONFIG, arg=FAST, value=256),
        action(CLOCK, value=2000),
        action(QUERY),
    ],
    'writable-descriptor': [
        request(INFLATE, tier_req(FAST, [(FAST_PFN, 1)]), arg=WRITABLE),
    ],
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, actions in SEEDS.items():
        with open(os.path.join(out, 'seed-' + name), 'wb') as f:
            f.write(b''.join(actions))


if __name__ == '__main__':
    main()
