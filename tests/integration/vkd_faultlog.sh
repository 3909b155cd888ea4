#!/bin/sh
# The fault log is rate-limited and says what happened: 50 connections
# that each fault log at most 10 lines a second, then a summary with the
# count held back (the lines and summaries account for all 50, as does the
# faults counter); each line names the app, the micro-process, the peer,
# the signal, the faulting address and the code address in the module.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_trap 1

"$PYTHON" - "$PORT" <<'PY' || fail "the faulting connections"
import socket, sys
port = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
for c in conns:
    c.sendall(b"!segv\n")
for c in conns:
    c.settimeout(10)
    try:
        if c.recv(100) != b"":
            sys.exit("a faulting connection answered")
    except ConnectionResetError:
        pass
PY

# The summary comes at the end of its window (1 s).
end=$(($(now_ms) + 5000))
while :; do
	faults=$(status_json | jget 'd["totals"]["faults"]')
	[ "$faults" = 50 ] && grep -q "more early ends" "$LOG" && break
	[ "$(now_ms)" -lt "$end" ] || fail "50 faults, status says $faults; no summary line"
	sleep 0.1
done
sleep 1.2
grep "ended by SIGSEGV" "$LOG" >"$T/lines"
shown=$(grep -c . "$T/lines")
held=$(sed -n 's/.* \([0-9][0-9]*\) more early ends.*/\1/p' "$LOG" | awk '{ n += $1 } END { print n + 0 }')
[ $((shown + held)) = 50 ] || fail "$shown lines shown and $held held back: not 50"
# At most 10 a second: the faults came within a few seconds at most.
[ "$shown" -le 30 ] || fail "$shown fault lines for 50 faults: not rate-limited"
while read -r line; do
	for want in "app trap:" "micro-process " "(127.0.0.1:" "SIGSEGV" "at address 0x0," \
		"trapmod.so+0x"; do
		case $line in
		*"$want"*) ;;
		*) fail "a fault line does not say '$want': $line" ;;
		esac
	done
done <"$T/lines"
stop_vkd
exit 0
