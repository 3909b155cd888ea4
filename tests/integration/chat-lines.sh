#!/bin/sh
# chat over 1 worker, lines at their edges: a line longer than a member's
# buffer (1,023 bytes and more) reaches the room in pieces, each a line
# of its own and nothing else between them (no empty line either, when
# only the line's end is left for the next piece); a line with NUL bytes is
# passed on whole with its newline; "/nick NAME" sent with CR LF (as
# telnet sends) names the member NAME, not NAME and a carriage return,
# and a /nick of nothing but a line ending or a NUL renames no one; the
# rest of a cut line is never a command.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_app chat 1

chat_py <<'EOF_PY'
def raw(m, data):
    m.sock.setblocking(True)
    m.sock.sendall(data)
    m.sock.setblocking(False)

a, b = Member(PORT), Member(PORT)
wait_until([a], lambda: any(JOINED.match(x) for x in a.lines), what="the second join")
time.sleep(0.1)
b.poll()
b.lines, b.buf = [], b""

raw(a, b"/nick alice\r\n")
wait_until([b], lambda: any(" is now " in x for x in b.lines), what="rename")
check(b.lines[-1].endswith(" is now alice"), "rename: %r" % b.lines[-1])

# Lines of every length around the buffer's: each piece is a line, the
# pieces put together are the line, and nothing else comes between them.
for n in (1021, 1022, 1023, 1024, 1025, 3000):
    b.lines, b.buf = [], b""
    body = "".join(chr(ord("a") + i % 26) for i in range(n))
    raw(a, body.encode() + b"\r\n")
    raw(a, b"end\r\n")
    wait_until([b], lambda: any(x == "alice: end\r" for x in b.lines), what="line of %d" % n)
    pieces = b.lines[:-1]
    check(all(x.startswith("alice: ") and len(x) > len("alice: \r") for x in pieces),
          "%d: %r" % (n, [x[:20] for x in pieces]))
    joined = "".join(x[len("alice: "):] for x in pieces)
    # The CR of the line's end goes with the last piece, or with the end.
    check(joined in (body + "\r", body), "%d bytes came back as %d in %d pieces: %r" %
          (n, len(joined), len(pieces), [x[:20] for x in pieces]))

# A piece that is the rest of a cut line is text, not a command: a line
# of 1,022 bytes and then "/quit" does not make its sender leave.
b.lines, b.buf = [], b""
raw(a, b"x" * 1022 + b"/quit\n")
raw(a, b"still here\n")
wait_until([b], lambda: "alice: still here" in b.lines or any(" left" in x for x in b.lines),
           what="after a cut line ending in /quit")
check("alice: /quit" in b.lines and "alice: still here" in b.lines,
      "a cut line's /quit was taken as a command: %r" % [x[:20] for x in b.lines])

# A NUL byte is passed on, and the line keeps its end.
b.lines, b.buf = [], b""
raw(a, b"abc\x00def\n")
raw(a, b"next\n")
wait_until([b], lambda: len(b.lines) >= 2, what="the NUL line")
check(b.lines[:2] == ["alice: abc\x00def", "alice: next"], "NUL line: %r" % b.lines[:2])

# /nick of nothing: no rename, the line goes to the room as it is.
for line in (b"/nick \r\n", b"/nick \x00x\n"):
    b.lines, b.buf = [], b""
    raw(a, line)
    raw(a, b"still\n")
    wait_until([b], lambda: "alice: still" in b.lines, what="after %r" % line)
    check(not any(" is now " in x for x in b.lines), "%r renamed: %r" % (line, b.lines))
EOF_PY

stop_vkd
exit 0
