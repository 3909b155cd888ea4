#!/bin/sh
# A Connection: close answer and the FIN leave in one TCP segment: the
# last bytes of a process go with MSG_MORE and its close sends them with
# the FIN (vk_poll_last_words()). The client counts the segments it got
# (TCP_INFO's tcpi_segs_in): the SYN-ACK, the ACK of its request (Linux
# acks a connection's first data at once) and the answer with the FIN:
# three, against four when the FIN comes alone (seen: 4 on every
# connection before the change). A retransmit under load may add one, so
# one connection in 20 seen with at most three is enough.
. "$top_srcdir/tests/integration/lib.sh"
need_python

serve_http 1
http_py <<'PY'
import socket, struct

TCP_INFO_SEGS_IN = 140  # offset of tcpi_segs_in in struct tcp_info (Linux >= 4.2)
counts = []
for i in range(20):
    c = Conn(PORT)
    c.send(get("/", headers=("Connection: close",)))
    check_hello(c.read_response())
    c.expect_closed()
    info = c.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    check(len(info) >= TCP_INFO_SEGS_IN + 4, "TCP_INFO too short: %d bytes" % len(info))
    counts.append(struct.unpack_from("=I", info, TCP_INFO_SEGS_IN)[0])
    c.close()
check(min(counts) <= 3, "segments received per connection: %s (4: the FIN came alone)" % counts)
PY
stop_vkd
exit 0
