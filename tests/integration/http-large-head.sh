#!/bin/sh
# opt.max_head = 64k: a head larger than the 16 KiB receive ring (a large
# cookie jar: seven 8 KiB Cookie lines, 56 KiB) is served, on a kept
# connection, and one byte past 64 KiB gets 431. The ring stays 16 KiB:
# the head is parsed out of it as it arrives.
. "$top_srcdir/tests/integration/lib.sh"
need_python

vkd_section 1 >"$CONF"
printf '[app http]\nmodule = http.so\nlisten = 127.0.0.1:%s\nheap = 256k\nopt.max_head = 64k\n' \
	"$PORT" >>"$CONF"
start_vkd "$CONF"
wait_port "$PORT" 10000
note_workers

http_py <<'PY'
cookies = ["Cookie: c%d=%s" % (i, "v" * 8000) for i in range(7)]
c = Conn(PORT)
for _ in range(2):
    c.send(get("/", headers=cookies))
    check_hello(c.read_response())
c.close()
# Fill to exactly 64 KiB, then one byte more (each line under max_line, 8k).
cookies += ["Cookie: c7=" + "v" * 7000]
head = get("/", headers=cookies)
pad = 65536 - len(head) - len("X-Pad: \r\n")
exact = get("/", headers=cookies + ["X-Pad: " + "p" * pad])
check(len(exact) == 65536 and pad < 8000, "test bug: head of %d, pad %d" % (len(exact), pad))
c = Conn(PORT)
c.send(exact)
check_hello(c.read_response())
c.close()
expect_error(PORT, get("/", headers=cookies + ["X-Pad: " + "p" * (pad + 1)]), 431)
PY
stop_vkd
exit 0
