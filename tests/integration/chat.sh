#!/bin/sh
# chat over 2 workers: members in both workers; every line a member sends
# reaches every other member exactly once, and not itself; renames, a
# quit and a member whose micro-process faulted are announced to all.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_app chat 2 'opt.crash_command = on'

chat_py <<'EOF'
observer, members, names, where = join_spread(PORT, 2)
everyone = [observer] + members
for i, m in enumerate(members):
    m.say("/nick m%d" % i)
wait_until(everyone, lambda: all(
    sum(1 for x in observer.lines if x.endswith(" is now m%d" % i)) == 1
    for i in range(len(members))), what="renames")

for i, m in enumerate(members):
    m.say("hello from m%d" % i)
want = {"m%d: hello from m%d" % (i, i) for i in range(len(members))}
def heard(m, i):
    return [x for x in m.lines if x in want]
wait_until(everyone, lambda: all(len(heard(m, i)) == len(want) - 1
                                 for i, m in enumerate(members)) and
           len(heard(observer, -1)) == len(want), what="every line everywhere")
time.sleep(0.2)
for m in everyone:
    m.poll()
for i, m in enumerate(members):
    got = heard(m, i)
    check(sorted(got) == sorted(want - {"m%d: hello from m%d" % (i, i)}),
          "m%d (worker %d) heard %r" % (i, where[i], got))
check(sorted(heard(observer, -1)) == sorted(want), "observer heard %r" % heard(observer, -1))

# A member of worker 2 crashes, one of worker 1 quits: both are announced everywhere.
crash = where.index(2)
quit = where.index(1)
# "/quitter" is a line like any other, not a /quit.
members[quit].say("/quitter")
wait_until([observer], lambda: "m%d: /quitter" % quit in observer.lines, what="/quitter relayed")
members[crash].say("/crash")
members[quit].say("/quit")
rest = [m for i, m in enumerate(everyone) if i - 1 not in (crash, quit)]
wait_until(rest, lambda: all("* m%d left" % crash in m.lines and "* m%d left" % quit in m.lines
                             for m in rest), what="leaves announced")
EOF

status_json >/dev/null
[ "$(jget 'd["totals"]["faults"]' <"$T/status.json")" = 1 ] || fail "faults: $(cat "$T/status.json")"
[ "$(jget 'd["totals"]["drops"]' <"$T/status.json")" = 0 ] || fail "drops: $(cat "$T/status.json")"
[ "$(jget 'd["totals"]["messages"] > 0 and d["totals"]["link_bytes_in"] > 0' <"$T/status.json")" = true ] ||
	fail "messages: $(cat "$T/status.json")"

stop_vkd
exit 0
