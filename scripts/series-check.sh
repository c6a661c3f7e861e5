#!/usr/bin/env bash
# series-check.sh: `make check`'s test of the upstream patch series (the
# quick mode of scripts/make-series.sh, using the cached bases).  TAP on
# stdout, one result per check:
#   - each manifest accounts for every quilt patch and overlay file;
#   - each series' last tree equals the build tree (build/linux, build/qemu);
#   - each patch applies, in order, to the pristine base, and together they
#     give the series' tree;
#   - each patch is checkpatch-clean (no ERROR or WARNING, every CHECK
#     justified in patches/upstream/checkpatch-allow);
#   - get_maintainer.pl finds recipients.
# Progress on stderr; exit status non-zero if any check failed.  Needs
# build/linux and build/qemu prepared (check.sh builds both first).  The
# first run on a machine makes the bases (about a minute); then about
# 1.5 minutes, most of it checkpatch.
exec "$(dirname "$0")/make-series.sh" --check "$@"
