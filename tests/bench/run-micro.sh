#!/bin/sh
# Build and run the libvk micro-benchmark from a build tree.
# usage: tests/bench/run-micro.sh [--quick] [--runs N] [--procs N]
# (run from the top of the build tree, or set top_builddir)
set -e
top_builddir=${top_builddir:-.}
make -C "$top_builddir" tests/bench/micro >&2
exec "$top_builddir/tests/bench/micro" "$@"
