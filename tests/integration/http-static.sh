#!/bin/sh
# The bundled static.so (vk_http_static): files of a directory with curl,
# against a real vkd: types, HEAD, index files and the redirect of a
# directory, Range (206, 416, a list ignored), ETag and Last-Modified
# conditions (304), a 4 MiB file whole; every way out of the root refused
# (.., encoded %2e%2e and %2f, a leading /, symlinks out, relative,
# absolute or through a directory) unless opt.symlinks = any; a FIFO does
# not hold the worker. With python: a pipelined batch mixing small and
# large files, and a slow reader of the large file, which holds one more
# descriptor than its socket and does not keep another client waiting. A
# request head of 3 KiB (cookies) is served on the 64k heap. The open-file
# cache: a file written in place is seen at once, one renamed over it
# after opt.open_cache (at once with 0); a bad value is refused.
. "$top_srcdir/tests/integration/lib.sh"
need_python
need_cmd curl cmp

W=$T/www
mkdir -p "$W/sub" "$T/outside" || fail "mkdir"
printf 'hello\n' >"$W/a.txt"
printf '<p>index</p>\n' >"$W/sub/index.html"
printf '{"a":1}\n' >"$W/sub/data.json"
head -c 4194304 /dev/urandom >"$W/big.bin" || fail "big.bin"
printf 'secret\n' >"$T/outside/secret"
ln -s ../outside/secret "$W/esc"
ln -s "$T/outside/secret" "$W/abs"
ln -s "$T/outside" "$W/escdir"
ln -s a.txt "$W/in"
mkfifo "$W/fifo" || fail "mkfifo"

# static_config [EXTRA APP LINES...]
static_config() {
	vkd_section 1
	printf '[app static]\nmodule = static.so\nlisten = 127.0.0.1:%s\nheap = 64k\nopt.root = %s\n' \
		"$PORT" "$W"
	for _line in "$@"; do
		echo "$_line"
	done
}

static_config >"$CONF"
serve "$CONF" 1
URL=http://127.0.0.1:$PORT

# code PATH [CURL ARGS...]: the status, body to $T/body, head to $T/head.
code() {
	_p=$1
	shift
	rm -f "$T/body" # curl leaves the file alone when no body comes
	curl -sS --max-time 10 --path-as-is -o "$T/body" -D "$T/head" -w '%{http_code}' "$@" \
		"$URL$_p" 2>"$T/curl.err" || fail "curl $_p: $(cat "$T/curl.err")"
}

# field NAME: the value of a field of $T/head (no CR).
field() {
	grep -i "^$1:" "$T/head" | head -n 1 | cut -d: -f2- | sed 's/^ *//' | tr -d '\r'
}

expect() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# ---- files ----
expect "$(code /a.txt)" 200 "GET /a.txt"
expect "$(cat "$T/body")" hello "/a.txt body"
expect "$(field Content-Type)" "text/plain; charset=utf-8" "/a.txt type"
expect "$(field Content-Length)" 6 "/a.txt length"
expect "$(field Accept-Ranges)" bytes "Accept-Ranges"
expect "$(code /sub/data.json)" 200 "GET json"
expect "$(field Content-Type)" application/json "json type"
# (curl -I writes the head as its output: the python part checks that no body follows.)
expect "$(code /a.txt -I)" 200 "HEAD /a.txt"
expect "$(field Content-Length)" 6 "HEAD length"
expect "$(code /sub)" 301 "a directory without its /"
expect "$(field Location)" /sub/ "the redirect"
expect "$(code /sub/)" 200 "index"
expect "$(cat "$T/body")" "<p>index</p>" "index body"
expect "$(field Content-Type)" "text/html; charset=utf-8" "index type"
expect "$(code /in)" 200 "a symlink inside the root"
expect "$(cat "$T/body")" hello "symlink body"
expect "$(code /nope)" 404 "missing"
expect "$(code /a.txt -X POST)" 405 "POST"
expect "$(code /big.bin)" 200 "4 MiB"
cmp -s "$T/body" "$W/big.bin" || fail "4 MiB body differs"
expect "$(code /fifo)" 403 "a FIFO"

# ---- a browser-sized head (3 KiB of cookies) on the 64k heap, twice on one connection ----
cookie="Cookie: $(head -c 3000 /dev/zero | tr '\0' c)"
out=$(curl -sS --max-time 10 -o /dev/null -o /dev/null -w '%{http_code} ' -H "$cookie" "$URL/a.txt" \
	"$URL/sub/data.json" 2>"$T/curl.err") || fail "curl with a 3 KiB head: $(cat "$T/curl.err")"
expect "$out" "200 200 " "a 3 KiB head, twice"

# ---- ranges ----
expect "$(code /big.bin -r 0-9)" 206 "range 0-9"
expect "$(field Content-Range)" "bytes 0-9/4194304" "Content-Range"
head -c 10 "$W/big.bin" | cmp -s - "$T/body" || fail "range 0-9 body"
expect "$(code /big.bin -r 4194300-)" 206 "open range"
expect "$(field Content-Length)" 4 "open range length"
tail -c 4 "$W/big.bin" | cmp -s - "$T/body" || fail "open range body"
expect "$(code /big.bin -r -5)" 206 "suffix range"
tail -c 5 "$W/big.bin" | cmp -s - "$T/body" || fail "suffix range body"
expect "$(code /a.txt -r 2-100)" 206 "range past the end"
expect "$(cat "$T/body")" llo "range past the end body"
expect "$(code /big.bin -r 4194304-)" 416 "unsatisfiable range"
expect "$(field Content-Range)" "bytes */4194304" "416 Content-Range"
expect "$(code /a.txt -r 0-1,3-4)" 200 "several ranges: the whole file"
expect "$(cat "$T/body")" hello "several ranges body"
expect "$(code /a.txt -r 0-1 -I)" 206 "HEAD with a range"

# ---- conditions ----
code /a.txt >/dev/null
etag=$(field ETag)
modified=$(field Last-Modified)
[ -n "$etag" ] && [ -n "$modified" ] || fail "no ETag or Last-Modified"
expect "$(code /a.txt -H "If-None-Match: $etag")" 304 "If-None-Match"
[ ! -s "$T/body" ] || fail "304 with a body"
expect "$(field ETag)" "$etag" "304's ETag"
expect "$(code /a.txt -H "If-None-Match: \"x\", W/$etag")" 304 "weak tag in a list"
expect "$(code /a.txt -H 'If-None-Match: "other"')" 200 "If-None-Match, other tag"
expect "$(code /a.txt -H "If-Modified-Since: $modified")" 304 "If-Modified-Since"
expect "$(code /a.txt -H 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT')" 200 "old date"
expect "$(code /a.txt -H 'If-None-Match: "other"' -H "If-Modified-Since: $modified")" 200 \
	"If-None-Match wins over If-Modified-Since"
expect "$(code /a.txt -r 0-1 -H 'If-Range: "other"')" 200 "If-Range of another version"
expect "$(code /a.txt -r 0-1 -H "If-Range: $etag")" 206 "If-Range of this version"

# ---- the root holds ----
for p in /../outside/secret /%2e%2e/outside/secret /%2E%2e/outside/secret \
	/sub/%2e%2e/%2e%2e/outside/secret /..%2foutside%2fsecret /sub/..%2F..%2Foutside/secret \
	/%2f/etc/passwd //etc/passwd; do
	expect "$(code "$p")" 400 "traversal $p"
	! grep -q secret "$T/body" || fail "$p: the secret leaked"
done
for p in /esc /abs /escdir/secret; do
	expect "$(code "$p")" 403 "symlink out of the root $p"
	! grep -q secret "$T/body" || fail "$p: the secret leaked"
done

# ---- python: a pipelined batch, and a slow reader ----
WORKER=$WORKERS http_py <<'EOF'
import hashlib, time
W = T + "/www"
big = open(W + "/big.bin", "rb").read()
worker = int(os.environ["WORKER"])


def fds():
    return len(os.listdir("/proc/%d/fd" % worker))


c = Conn(PORT)
c.send(get("/a.txt") + get("/big.bin") + get("/a.txt", method="HEAD") + get("/sub/"))
r = c.read_response()
check(r.status == 200 and r.body == b"hello\n", "pipelined 1: %r" % r)
r = c.read_response()
check(r.status == 200 and r.body == big, "pipelined 2: %r" % r)
r = c.read_response(head=True)
check(r.status == 200 and r.header("Content-Length") == b"6", "pipelined HEAD: %r" % r)
r = c.read_response()
check(r.status == 200 and r.body == b"<p>index</p>\n", "pipelined 4: %r" % r)
c.close()

time.sleep(0.2)
before = fds()
slow = Conn(PORT, timeout=10)
slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
slow.send(get("/big.bin"))
time.sleep(0.3)
during = fds()
check(during == before + 2, "a slow reader holds its socket and one file: %d -> %d" % (before, during))
# Another client is served meanwhile.
t0 = time.time()
fast = Conn(PORT)
fast.send(get("/a.txt"))
r = fast.read_response()
check(r.status == 200 and r.body == b"hello\n", "served beside a slow reader: %r" % r)
check(time.time() - t0 < 2, "another client waited %.1f s" % (time.time() - t0))
fast.close()
r = slow.read_response()
check(r.status == 200 and hashlib.sha256(r.body).digest() == hashlib.sha256(big).digest(),
      "slow reader's body: %r" % r)
slow.close()
time.sleep(0.2)
check(fds() == before, "descriptors left after the slow reader: %d -> %d" % (before, fds()))
EOF

# ---- the open-file cache (opt.open_cache, 1 s by default) ----
# A file written in place is seen at once (its size too); one renamed
# over it within the second, and surely after it.
printf 'one\n' >"$W/c.txt"
expect "$(code /c.txt)" 200 "GET /c.txt"
printf 'one more\n' >"$W/c.txt"
expect "$(code /c.txt)" 200 "GET /c.txt written in place"
expect "$(cat "$T/body")" "one more" "a file written in place, at once"
expect "$(field Content-Length)" 9 "its new length, at once"
printf 'two\n' >"$W/c.new" && mv "$W/c.new" "$W/c.txt" || fail "mv"
sleep 1.2
expect "$(code /c.txt)" 200 "GET /c.txt replaced"
expect "$(cat "$T/body")" two "a file renamed over, after opt.open_cache"

# ---- opt.open_cache = 0: a file renamed over is served at once ----
stop_vkd
static_config 'opt.open_cache = 0' >"$CONF"
serve "$CONF" 1
expect "$(code /c.txt)" 200 "GET /c.txt, no cache"
printf 'three\n' >"$W/c.new" && mv "$W/c.new" "$W/c.txt" || fail "mv"
expect "$(code /c.txt)" 200 "GET /c.txt replaced, no cache"
expect "$(cat "$T/body")" three "a file renamed over, no cache"

# ---- opt.symlinks = any lets symlinks lead out; .. stays refused ----
stop_vkd
static_config 'opt.symlinks = any' 'opt.index = off' >"$CONF"
serve "$CONF" 1
expect "$(code /esc)" 200 "opt.symlinks = any"
expect "$(cat "$T/body")" secret "symlink out, allowed"
expect "$(code /%2e%2e/outside/secret)" 400 "encoded .. with symlinks = any"
expect "$(code /sub/)" 403 "a directory without opt.index"

# ---- a bad option stops the app at start ----
stop_vkd
static_config 'opt.symlinks = maybe' >"$CONF"
"$VKD" -t -c "$CONF" >"$T/check.out" 2>&1 && fail "vkd -t accepted opt.symlinks = maybe"
static_config 'opt.open_cache = soon' >"$CONF"
"$VKD" -t -c "$CONF" >"$T/check.out" 2>&1 && fail "vkd -t accepted opt.open_cache = soon"
vkd_section 1 >"$CONF"
printf '[app static]\nmodule = static.so\nlisten = 127.0.0.1:%s\n' "$PORT" >>"$CONF"
"$VKD" -t -c "$CONF" >"$T/check.out" 2>&1 && fail "vkd -t accepted a static app without opt.root"
exit 0
