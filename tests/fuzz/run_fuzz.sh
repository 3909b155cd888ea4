#!/bin/sh
# Run the HTTP parser fuzz target for 30 seconds over a scratch copy of the
# seed corpus (libFuzzer adds files to its corpus directory; the source
# tree must stay untouched, e.g. under make distcheck).
set -eu

: "${top_srcdir:=.}"
: "${top_builddir:=.}"
fuzzer="$top_builddir/tests/fuzz/fuzz_http"
seeds="$top_srcdir/tests/fuzz/corpus/http"

if [ ! -x "$fuzzer" ]; then
	echo "run_fuzz.sh: $fuzzer not built (configure CC=clang --enable-fuzzing)" >&2
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_http.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/corpus"
cp "$seeds"/* "$work/corpus/"

# libFuzzer exits 77 on a finding by default, which automake reads as
# SKIP: make every finding an ordinary failure.
"$fuzzer" -max_total_time="${FUZZ_SECONDS:-30}" -print_final_stats=1 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-dict="$top_srcdir/tests/fuzz/http.dict" \
	-artifact_prefix="$work/" "$work/corpus" || {
	status=$?
	for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -f "$crash" ] || continue
		cp "$crash" "$top_builddir/tests/fuzz/"
		echo "run_fuzz.sh: failing input kept as $top_builddir/tests/fuzz/${crash##*/}:" >&2
		od -c "$crash" | head -40 >&2
	done
	[ "$status" -eq 77 ] && status=1
	exit "$status"
}
