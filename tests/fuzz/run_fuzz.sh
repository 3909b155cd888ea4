#!/bin/sh
# Run each fuzz target (the HTTP request parser, the vkd.ini loader) for
# FUZZ_SECONDS (30) over a scratch copy of its seed corpus: libFuzzer adds
# files to its corpus directory, and the source tree must stay untouched,
# e.g. under make distcheck. A failing input is kept in tests/fuzz/.
set -eu

: "${top_srcdir:=.}"
: "${top_builddir:=.}"

# fuzz TARGET [DICT]: one target over tests/fuzz/corpus/TARGET.
fuzz() {
	fuzzer="$top_builddir/tests/fuzz/fuzz_$1"
	if [ ! -x "$fuzzer" ]; then
		echo "run_fuzz.sh: $fuzzer not built (configure CC=clang --enable-fuzzing)" >&2
		exit 77
	fi
	mkdir "$work/$1"
	cp "$top_srcdir/tests/fuzz/corpus/$1"/* "$work/$1/"
	echo "run_fuzz.sh: fuzz_$1 for ${FUZZ_SECONDS:-30} s" >&2
	# libFuzzer exits 77 on a finding by default, which automake reads as
	# SKIP: make every finding an ordinary failure.
	"$fuzzer" -max_total_time="${FUZZ_SECONDS:-30}" -print_final_stats=1 \
		-error_exitcode=1 -timeout_exitcode=1 ${2:+-dict="$2"} \
		-artifact_prefix="$work/" "$work/$1" || {
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
}

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
fuzz http "$top_srcdir/tests/fuzz/http.dict"
fuzz config "$top_srcdir/tests/fuzz/config.dict"
