#!/bin/sh
# tests/bench/http's figures: a latency percentile wrk gives as 0 (seen in
# pipelined runs, where wrk records one latency per batch) is no figure:
# the tables print n/a, and medians and ratios leave it out instead of
# counting it as 0 us.
command -v python3 >/dev/null 2>&1 || {
	echo "SKIP: no python3" >&2
	exit 77
}
PYTHONDONTWRITEBYTECODE=1 exec python3 - "$top_srcdir/tests/bench/http" <<'PY'
import importlib.machinery
import importlib.util
import math
import sys

loader = importlib.machinery.SourceFileLoader("bench_http", sys.argv[1])
spec = importlib.util.spec_from_loader("bench_http", loader)
http = importlib.util.module_from_spec(spec)
loader.exec_module(http)

bad = []
out = "stats requests=5000 p50=0 p99=0 p999=0 max=2100 over1s=0 timeouts=0\n"
r = http.wrk_stats(out)
for k in ("p50", "p99", "p999"):
    if not math.isnan(r[k]):
        bad.append("wrk's %s of 0 read as %r, not as no figure" % (k, r[k]))
    if http.fmt_us(r[k]) != "n/a":
        bad.append("wrk's %s of 0 printed %r, not n/a" % (k, http.fmt_us(r[k])))
if r["max"] != 2100:
    bad.append("max read as %r" % r["max"])
good = http.wrk_stats(out.replace("p99=0", "p99=350"))
if good["p99"] != 350:
    bad.append("p99=350 read as %r" % good["p99"])
m = http.median_of([r["p99"], 100.0, 200.0])
if m != 150.0:
    bad.append("the median of (n/a, 100, 200) is %r, want 150" % m)
if http.fmt_us(http.median_of([r["p99"], r["p99"]])) != "n/a":
    bad.append("the median of two n/a is not n/a")
if http.fmt_ratio(r["p99"], 100.0) != "-" or http.fmt_ratio(100.0, r["p99"]) != "-":
    bad.append("a ratio to n/a is a figure")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY
