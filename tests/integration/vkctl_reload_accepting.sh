#!/bin/sh
# vkctl reload --wait answers once no worker of the old generation
# accepts: a client connecting after it reaches the new generation only.
# The old worker is kept from its SIGTERM by a handler computing ("!spin")
# until the watchdog ends it (max_run = 1s of CPU); the reply must wait
# for that, and then status shows no old worker ready. Before, the reply
# came as soon as the old generation was told to drain, while its worker
# still accepted.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_trap 1 'max_run = 1s'
wait_ready 1 1
"$VKCLIENT" crowd "$PORT" 1 "!spin" >"$T/crowd" 2>&1 &
note_pids "$!"
sleep 0.2
ctl reload --wait >"$T/reload.out" 2>&1 || fail "reload --wait: $(cat "$T/reload.out")"
ready=$(status_json | jget 'sum(1 for w in d["workers"] if w["generation"] == 1 and w["state"] == "ready")')
[ "$ready" = 0 ] || fail "generation 1 still accepts at the reply: $(cat "$T/status.json")"
wait_ready 1 2 10000
stop_vkd
exit 0
