#!/bin/sh
# 1,000 clients at once through the HTTP proxy (opt.mode = http, one
# worker) to a python upstream (proxy_http_upstream.py): each opens its
# connection, then all of them POST random bytes (a few KiB up to 1 MiB)
# and read them back, byte for byte, from /upload. Every answer must be a
# complete 200; afterwards no upstream connection is left open but the
# idle ones the pool keeps.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"
need_vkctl

new_port U
http_upstream "$U"

proxy_config 1 "127.0.0.1:$U" 'opt.mode = http' 'backlog = 4096' 'opt.read_timeout = 30s' \
	'opt.connect_timeout = 20s' >"$CONF"
serve "$CONF" 1
wait_ready 1

py <<'PY'
import asyncio, random

N = 1000


async def client(i, opened, go):
    rnd = random.Random(i)
    n = rnd.choice((1, 1000, 10000, 65536, 200000)) if i % 100 else 1 << 20
    body = rnd.randbytes(n)
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", PORT), 60)
    opened.append(i)
    await go.wait()
    w.write(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % n + body)
    await w.drain()
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 60)
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 200"):
        raise Exception("client %d: %r" % (i, head[:200]))
    length = [int(l.split(b":", 1)[1]) for l in lines if l.lower().startswith(b"content-length:")]
    if length != [n]:
        raise Exception("client %d: length %r, want %d" % (i, length, n))
    got = await asyncio.wait_for(r.readexactly(n), 60)
    w.close()
    if got != body:
        raise Exception("client %d: %d bytes came back changed" % (i, n))
    return n


async def main():
    opened, go = [], asyncio.Event()
    tasks = [asyncio.ensure_future(client(i, opened, go)) for i in range(N)]
    end = time.monotonic() + 60
    while len(opened) < N and time.monotonic() < end and not any(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    print("%d connections open at once" % len(opened))
    go.set()
    out = await asyncio.gather(*tasks, return_exceptions=True)
    bad = [o for o in out if isinstance(o, BaseException)]
    for b in bad[:10]:
        print("FAIL:", repr(b))
    check(len(opened) == N, "only %d of %d connections were open at once" % (len(opened), N))
    check(not bad, "%d of %d answers failed" % (len(bad), N))
    print("%d answers complete, %d bytes back" % (N, sum(out)))


asyncio.run(main())
PY

# Every upstream connection ended or went back to the pool.
_end=$(($(now_ms) + 5000))
while [ "$(status_json | jget 'd["workers"][0]["outbound"]')" != 0 ]; do
	[ "$(now_ms)" -lt "$_end" ] || fail "upstream connections left open: $(cat "$T/status.json")"
	sleep 0.05
done
stop_vkd
exit 0
