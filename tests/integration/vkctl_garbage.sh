#!/bin/sh
# Garbage on the control socket: a 2 KiB line, binary bytes, an empty
# line, too many words, a line cut by end of file, a client that sends
# nothing, more clients than the master serves at once. Each gets one
# valid JSON reply (or is simply closed); the master keeps answering
# others meanwhile and never dies (same pid, status works).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_ready 1

cat >"$T/raw.py" <<'EOT'
# raw.py SOCKET MODE [OK [TEXT]]: send MODE's bytes and print the reply.
# With OK ("true"/"false"), also check that the reply is one line of
# valid JSON whose "ok" is OK and whose "error" contains TEXT.
import json, socket, sys, time

path, mode = sys.argv[1], sys.argv[2]
payloads = {
    "long": b"a" * 2048 + b"\n",
    "huge": bytes(b for b in range(256) if b != 10) * 400,
    "binary": b"\x00\xff\x01\x02stat\x7fus\n",
    "highbytes": b"\xc3\xa9t\xe2\x80\x9c\xff\n",
    "quote": b'"\\\x22\n',
    "empty": b"\n",
    "spaces": b"   \t \n",
    "words": b"status a b c d e f g h i j\n",
    "eof": b"version",
    "crlf": b"version\r\n",
    "reloadbad": b"reload now\n",
    "reloadbad2": b"reload foo bar\n",
    "control": b"x\xc2\x9by\n",
    "twolines": b"version\nstop\n",
}


def connect():
    # A full accept queue says EAGAIN to a non-blocking connect: retry.
    for _ in range(200):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.01)
    sys.exit("connect: the queue stayed full")


def read_line(s):
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return data


def check(reply, ok, text):
    lines = reply.split(b"\n")
    if len(lines) != 2 or lines[1] != b"":
        sys.exit(f"{mode}: not one reply line: {reply!r}")
    try:
        d = json.loads(lines[0].decode("utf-8"))
    except ValueError as e:
        sys.exit(f"{mode}: invalid JSON ({e}): {reply!r}")
    if d.get("ok") is not (ok == "true"):
        sys.exit(f"{mode}: ok is not {ok}: {reply!r}")
    if text and text not in d.get("error", ""):
        sys.exit(f"{mode}: error without '{text}': {reply!r}")


if mode == "silent":
    # Connect, say nothing: the master answers with an error in time.
    s = connect()
    start = time.monotonic()
    reply = read_line(s)
    after = time.monotonic() - start
    check(reply, "false", "no request")
    if not 4.5 <= after < 5.8:
        sys.exit(f"silent: answered after {after:.1f} s, want about 5")
    sys.exit(0)
if mode == "flood":
    # More connections than the master serves at once: the extra ones are
    # told "busy" at once; all are closed by us before their timeout.
    socks = [connect() for _ in range(40)]
    time.sleep(0.3)
    busy = 0
    for s in socks:
        s.setblocking(False)
        try:
            reply = s.recv(4096)
            if reply:
                check(reply, "false", "busy")
                busy += 1
        except BlockingIOError:
            pass
    for s in socks:
        s.close()
    print(busy)
    sys.exit(0)
if mode == "hangup":
    # Connect and leave at once, with and without a half-sent line.
    for i in range(20):
        s = connect()
        if i % 2:
            s.sendall(b"sta")
        s.close()
    sys.exit(0)
s = connect()
try:
    s.sendall(payloads[mode])
except (BrokenPipeError, ConnectionResetError):
    pass
if mode == "eof":
    s.shutdown(socket.SHUT_WR)
reply = read_line(s)
if len(sys.argv) > 3:
    check(reply, sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
# Quoted back: well-formed UTF-8 as it was sent, a stray byte as U+FFFD,
# control characters only as JSON escapes, never raw.
quoted = {"highbytes": "'\u00e9t\u201c\ufffd'", "control": "'x\x9by'"}
if mode in quoted:
    check(reply, "false", quoted[mode])
    if any(b < 0x20 and b != 0x0a or b == 0x7f for b in reply) or b"\xc2\x9b" in reply:
        sys.exit(f"{mode}: a raw control character in the reply: {reply!r}")
sys.stdout.write(reply.decode("utf-8"))
EOT

raw() {
	"$PYTHON" "$T/raw.py" "$SOCK" "$@"
}

# expect MODE OK [TEXT]: see raw.py; and the master is still there.
expect() {
	raw "$@" >"$T/reply" 2>"$T/raw.err" || fail "$(cat "$T/raw.err")"
	alive "$VKD_PID" || fail "master died on $1"
}

expect long false 'too long'
expect huge false 'too long'
expect binary false 'not a line of text'
expect highbytes false 'unknown command'
expect quote false 'unknown command'
expect empty false 'empty request'
expect spaces false 'empty request'
expect words false 'too many words'
expect reloadbad false "unexpected argument 'now'"
expect reloadbad2 false "unexpected argument 'foo'"
expect control false 'unknown command'

# vkctl shows what the daemon quotes back, but no control character
# reaches the terminal, where an escape sequence would act: a C1 control
# in a command, and an ESC in a config value quoted by a failed reload.
ctl "$(printf 'x\302\233y')" >"$T/ctl.out" 2>"$T/ctl.err" && fail "vkctl: a bad command succeeded"
grep -q "unknown command 'x?y'" "$T/ctl.err" || fail "vkctl: $(od -c "$T/ctl.err" | head -5)"
cp "$CONF" "$T/good.ini"
printf 'backlog = caf\303\251\033[7mX\n' >>"$CONF"
ctl reload >"$T/ctl.out" 2>"$T/ctl.err" && fail "vkctl: reload of a bad config succeeded"
grep -q "caf$(printf '\303\251')?\[7mX" "$T/ctl.err" ||
	fail "vkctl: reload error: $(od -c "$T/ctl.err" | head -8)"
if LC_ALL=C grep -q "$(printf '[\033\233]')" "$T/ctl.err" "$T/ctl.out"; then
	fail "vkctl printed a control character: $(od -c "$T/ctl.err" | head -8)"
fi
cp "$T/good.ini" "$CONF"
ctl "$(printf 'caf\303\251')" 2>"$T/ctl.err" && fail "vkctl: a bad command succeeded"
grep -q "unknown command 'caf$(printf '\303\251')'" "$T/ctl.err" ||
	fail "vkctl garbled UTF-8: $(od -c "$T/ctl.err" | head -5)"
expect eof true
expect crlf true
expect twolines true
[ "$(jget 'd["version"]' <"$T/reply")" != "" ] || fail "version reply: $(cat "$T/reply")"
raw hangup 2>"$T/raw.err" || fail "hang-up clients: $(cat "$T/raw.err")"

# A silent client: the others are answered at once meanwhile, and it gets
# its error after the request timeout (5 s), not before, not never.
raw silent >"$T/silent" 2>&1 &
SILENT=$!
sleep 0.2
for i in 1 2 3; do
	start=$(now_ms)
	ctl status >/dev/null || fail "status while a client is silent"
	took=$(($(now_ms) - start))
	[ "$took" -lt 1000 ] || fail "status took $took ms next to a silent client"
done
"$VKCLIENT" load "$PORT" 5 3 || fail "echo while a control client is silent"
wait "$SILENT" || fail "silent client: $(cat "$T/silent")"

# More clients than slots: the extra ones hear "busy" at once.
busy=$(raw flood 2>"$T/raw.err") || fail "flood: $(cat "$T/raw.err")"
[ "$busy" -ge 8 ] || fail "only $busy of 40 connections were told busy (32 slots)"

# Still the same master, still answering, still serving.
[ "$(status_json | jget 'd["pid"]')" = "$VKD_PID" ] || fail "master changed"
wait_ready 1
"$VKCLIENT" load "$PORT" 5 3 || fail "echo after the garbage"
stop_vkd
exit 0
