#!/bin/sh
# A line reaches the other members without running them: each member's
# subscription is relayed to its socket by the kernel (vk_relay()), so a
# delivery costs its receiver no dispatch and no protection change. Lines
# go one at a time, each awaited at every member, so no two share a loop
# turn (a figure load does not move): with a coroutine copying each line
# (before vk_relay) every delivery dispatched its member, dispatches >=
# deliveries. Every member still gets every line, in order.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_app chat 2

VKCTL_SOCK=$SOCK
export VKCTL VKCTL_SOCK
chat_py <<'EOF'
import json, subprocess

def counters():
    out = subprocess.run([os.environ["VKCTL"], "-s", os.environ["VKCTL_SOCK"], "--json", "status"],
                         stdout=subprocess.PIPE, check=True).stdout
    t = json.loads(out)["totals"]
    return {k: t[k] for k in ("dispatches", "protections", "deliveries")}

observer, members, names, where = join_spread(PORT, 2, at_least=1, most=300)
check(all(where.count(w) >= 1 for w in (1, 2)), "members in both workers: %r" % where)
while len(members) < 15:
    members.append(Member(PORT))
everyone = [observer] + members
sender, others = members[0], [observer] + members[1:]
# Connected is not joined yet: every join seen before a line goes out.
wait_until(everyone, lambda: sum(1 for x in observer.lines if JOINED.match(x)) >= len(members),
           what="every join")
sender.say("sync")
wait_until(everyone, lambda: all(any(x.endswith(": sync") for x in m.lines) for m in others),
           what="sync at every member")
time.sleep(0.2)
before = counters()
LINES = 40
for i in range(LINES):
    sender.say("line %d" % i)
    wait_until(everyone, lambda: all(any(x.endswith(": line %d" % i) for x in m.lines) for m in others),
               what="line %d at every member" % i)
after = counters()
for m in others:
    got = [x.split(": ", 1)[1] for x in m.lines if ": line " in x]
    check(got == ["line %d" % i for i in range(LINES)], "a member lost or reordered lines: %r" % got)
d = {k: after[k] - before[k] for k in after}
print("%d deliveries, %d dispatches, %d protections" % (d["deliveries"], d["dispatches"], d["protections"]),
      file=sys.stderr)
check(d["deliveries"] >= LINES * len(others), "deliveries not counted: %r" % d)
# The sender's own dispatches (a line each, give or take) are all that is left.
check(d["dispatches"] * 4 < d["deliveries"], "members dispatched to deliver: %r" % d)
check(d["protections"] * 2 < d["deliveries"], "protection changes to deliver: %r" % d)
EOF

stop_vkd
