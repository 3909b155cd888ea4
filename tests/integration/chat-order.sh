#!/bin/sh
# Several publishers in both workers, one topic (the chat room): every
# member of both workers sees each publisher's lines whole and in that
# publisher's order (how publishers interleave is free), none lost while
# the members read and what is in flight stays under the queue bound
# (each publisher at most a few lines ahead of the slowest reader). A
# member that does not read meanwhile loses lines to its bounded queue
# alone: it is told how many, what it got is still in each publisher's
# order, and got + dropped is all that was sent; the publishers were
# never held back by it (the readers had everything while it still held
# its queue full).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_app chat 2

chat_py <<'EOF'
# Connections go to whichever worker accepts first: on a quiet machine one
# worker may take dozens in a row, hence room for many tries.
observer, members, names, where = join_spread(PORT, 2, at_least=3, most=300)
check(all(where.count(w) >= 3 for w in (1, 2)), "3 members in each worker after %d joins: %r" % (len(where), where))
# Three in each worker stay (two publishers, one listener); the rest leave.
joined = len(members)
keep = [i for w in (1, 2) for i in [j for j, x in enumerate(where) if x == w][:3]]
for i, m in enumerate(members):
    if i not in keep:
        m.close()
members, where = [members[i] for i in keep], [where[i] for i in keep]
# Two publishers per worker; everyone else (at least one per worker) listens.
pubs = [i for w in (1, 2) for i in [j for j, x in enumerate(where) if x == w][:2]]
for k, i in enumerate(pubs):
    members[i].say("/nick p%d" % k)
wait_until([observer], lambda: all(any(x.endswith(" is now p%d" % k) for x in observer.lines)
                                   for k in range(len(pubs))), what="renames")
slow = Member(PORT, rcvbuf=4096)
wait_until([observer], lambda: sum(1 for x in observer.lines if JOINED.match(x)) == joined + 1,
           what="slow member joined")
everyone = [observer] + members
listeners = [m for i, m in enumerate(members) if i not in pubs]
check({where[i] for i, m in enumerate(members) if i not in pubs} == {1, 2},
      "a listener in each worker")

# The queue bound: with at most W lines of each publisher in flight to
# any reader (7 KiB in all), a subscription that keeps up never holds more
# than VK_SUBSCRIPTION_RING (16 KiB). The slow member must miss more than
# its socket buffers hold, some MiB: N lines of 75 bytes from each.
N = 12000
W = 24
pad = "y" * 60
out = {k: "".join("%d %06d %s\n" % (k, j, pad) for j in range(N)).encode() for k in range(len(pubs))}
sent = {k: 0 for k in range(len(pubs))}
heard = {id(m): [0] * len(pubs) for m in everyone}
seen = {id(m): 0 for m in everyone}

def count():
    """Lines of each publisher each reading member has got so far."""
    for m in everyone:
        m.poll()
        for x in m.lines[seen[id(m)]:]:
            if x.endswith(pad):
                heard[id(m)][int(x.split(": ", 1)[1].split()[0])] += 1
        seen[id(m)] = len(m.lines)

def behind(k):
    """The fewest lines of publisher k any other reading member has got."""
    return min(heard[id(m)][k] for m in everyone if m is not members[pubs[k]])

for i in pubs:
    members[i].sock.setblocking(False)
start = time.time()
end = start + 60
while any(sent[k] < len(out[k]) for k in sent):
    check(time.time() < end, "publishing took over 60 s: %r" % heard)
    count()
    for k, i in enumerate(pubs):
        # Up to W lines ahead of the slowest reader, in whole lines.
        stop = min(len(out[k]), (behind(k) + W) * len(out[k]) // N)
        if sent[k] < stop:
            try:
                sent[k] += members[i].sock.send(out[k][sent[k]:stop])
            except BlockingIOError:
                pass
    time.sleep(0.0005)

def seqs(m):
    """Each publisher's sequence numbers as m got them."""
    got = {k: [] for k in range(len(pubs))}
    for x in m.lines:
        if not x.endswith(pad):
            continue
        name, body = x.split(": ", 1)
        k, j = body.split()[:2]
        check(name == "p" + k, "a line of p%s under the name %s" % (k, name))
        got[int(k)].append(int(j))
    return got

def expected(m):
    """What m must hear: every publisher's lines but its own."""
    mine = [k for k, i in enumerate(pubs) if m is members[i]]
    return (len(pubs) - len(mine)) * N

try:
    wait_until(everyone, lambda: all(sum(map(len, seqs(m).values())) >= expected(m)
                                     for m in everyone),
               timeout=60, what="every line at every reading member")
except AssertionError:
    for m in everyone:
        print("member: %r of %d, notices %r" % ({k: len(s) for k, s in seqs(m).items()},
              expected(m), [x for x in m.lines if x.startswith("* ")][-3:]), file=sys.stderr)
    raise
elapsed = time.time() - start
for m in everyone:
    for k, got in seqs(m).items():
        if m is members[pubs[k]]:
            check(got == [], "p%d heard itself" % k)
        else:
            check(got == list(range(N)), "p%d's lines lost or out of order: %d of %d"
                  % (k, len(got), N))
    check(not any(x.endswith(" lines dropped") for x in m.lines), "a reading member dropped")

# The slow member reads now: the rest in order, then a notice of what it
# missed (once what was queued before the drops is out). Only then is its
# queue sure to have room: a marker sent sooner may itself be dropped.
wait_until([slow], lambda: any(x.endswith(" lines dropped") for x in slow.lines), timeout=20,
           what="the notice at the slow member")
observer.say("the end")
wait_until([slow], lambda: any(x.endswith(": the end") for x in slow.lines), timeout=20,
           what="the end at the slow member")
got = seqs(slow)
dropped = sum(int(x.split()[1]) for x in slow.lines
              if x.startswith("* ") and x.endswith(" lines dropped"))
for k, s in got.items():
    check(s == sorted(s) and len(set(s)) == len(s), "p%d out of order at the slow member" % k)
check(dropped > 0, "nothing dropped (got %d): the test did not fill the queue" % sum(map(len, got.values())))
total = sum(map(len, got.values()))
check(total + dropped == len(pubs) * N,
      "slow member: got %d + dropped %d != %d" % (total, dropped, len(pubs) * N))
open(os.path.join(T, "dropped"), "w").write("%d\n" % dropped)
print("%d publishers x %d lines to %d members in %.2f s; slow member got %d, dropped %d"
      % (len(pubs), N, len(everyone), elapsed, total, dropped), file=sys.stderr)
EOF

status_json >/dev/null
# The drops are the slow member's alone.
[ "$(jget 'd["totals"]["drops"]' <"$T/status.json")" = "$(cat "$T/dropped")" ] ||
	fail "drops: $(cat "$T/status.json")"

stop_vkd
exit 0
