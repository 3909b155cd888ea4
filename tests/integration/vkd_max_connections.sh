#!/bin/sh
# max_connections bounds an app in a worker whatever address a connection
# came by: with two listen addresses and max_connections = 3, three
# connections are served in all, each further one is closed at once
# (either address), and a slot freed by a client that leaves is reused.
# The heap is the smallest the config takes: it must serve.
. "$top_srcdir/tests/integration/lib.sh"

need_python

new_port PORT2
{
	vkd_section 1
	printf '[app echo]\nmodule = echo.so\nlisten = 127.0.0.1:%s\n' "$PORT"
	# The smallest heap the config takes must serve.
	printf 'listen = 127.0.0.1:%s\nmax_connections = 3\nheap = 40k\n' "$PORT2"
} >"$CONF"
serve "$CONF" 1

"$PYTHON" - "$PORT" "$PORT2" <<'EOT' || fail "max_connections: see above"
import socket, sys, time

ports = [int(p) for p in sys.argv[1:3]]


def served(port):
    """Connect, send a line: the socket if it is echoed, None if closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(b"hi\n")
        if s.recv(16) == b"hi\n":
            return s
    except (ConnectionResetError, BrokenPipeError):
        pass
    s.close()
    return None


kept = [served(ports[i % 2]) for i in range(3)]
if not all(kept):
    sys.exit("the first 3 connections were not all served: %r" % kept)
for i in range(4):
    extra = served(ports[i % 2])
    if extra:
        sys.exit("connection %d over the limit (port %d) was served" % (4 + i, ports[i % 2]))
# A client leaves: its slot serves the next connection, on either address.
kept.pop(0).close()
for attempt in range(50):
    again = served(ports[1])
    if again:
        break
    time.sleep(0.1)
else:
    sys.exit("a freed slot was not reused")
for s in kept + [again]:
    s.close()
EOT
stop_vkd
exit 0
