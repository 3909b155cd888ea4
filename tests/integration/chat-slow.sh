#!/bin/sh
# A chat member that does not read: its queue is bounded, and what does
# not fit is dropped for it alone and counted; it is told how many lines
# it missed, and those plus the lines it got are all that was sent. The
# others, in both workers, lose nothing, and the sender never waits.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_app chat 2

chat_py <<'EOF'
observer, members, names, where = join_spread(PORT, 2, at_least=1)
sender = members[where.index(1)]
fast = members[where.index(2)]
slow = Member(PORT, rcvbuf=4096)
wait_until([observer], lambda: sum(1 for x in observer.lines if JOINED.match(x)) == len(members) + 1,
           what="slow member joined")
slow_name = [JOINED.match(x).group(1) for x in observer.lines if JOINED.match(x)][-1]
listeners = [observer, fast]

N = 20000
pad = "x" * 180
start = time.time()
sock = sender.sock
sock.setblocking(True)
for i in range(0, N, 500):
    sock.sendall("".join("%06d %s\n" % (j, pad) for j in range(i, i + 500)).encode())
    for m in listeners:
        m.poll()
sock.setblocking(False)
def lines_of(m):
    return [x for x in m.lines if x.endswith(pad)]
wait_until(listeners, lambda: all(len(lines_of(m)) >= N for m in listeners), timeout=60,
           what="every line at the members that read")
elapsed = time.time() - start
for m in listeners:
    got = [int(x.split(": ", 1)[1][:6]) for x in lines_of(m)]
    check(got == list(range(N)), "a reading member lost or reordered lines")

# The slow member reads now: some lines, a notice of the rest, in order.
wait_until([slow], lambda: len(slow.lines) > 0, what="slow member reads")
time.sleep(0.5)
fast.say("the end")
wait_until([slow], lambda: any(x.endswith(": the end") for x in slow.lines), timeout=20,
           what="the end at the slow member")
got = [int(x.split(": ", 1)[1][:6]) for x in lines_of(slow)]
dropped = sum(int(x.split()[1]) for x in slow.lines if x.startswith("* ") and x.endswith(" lines dropped"))
check(got == sorted(got), "the slow member's lines are out of order")
check(dropped > 0, "nothing dropped: the test did not fill the queue")
check(len(got) + dropped == N, "got %d + dropped %d != %d" % (len(got), dropped, N))
open(os.path.join(T, "dropped"), "w").write("%d\n" % dropped)
print("slow member: %d lines, %d dropped; %d lines to the others in %.2f s"
      % (len(got), dropped, N, elapsed), file=sys.stderr)
EOF

status_json >/dev/null
[ "$(jget 'd["totals"]["drops"]' <"$T/status.json")" -ge "$(cat "$T/dropped")" ] ||
	fail "drops not counted: $(cat "$T/status.json")"

stop_vkd
exit 0
