#!/bin/sh
# Used only by the runner's self-test (hp.selftest=fail): a test that fails,
# so that `make check` proves it notices failures.
echo "TAP version 13"
echo "1..1"
echo "not ok 1 deliberate_failure # the runner must report this"
exit 1
