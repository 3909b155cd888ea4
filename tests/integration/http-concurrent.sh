#!/bin/sh
# Many clients at once, on two workers, with isolation on and then off:
# 64 connections each run a mixed keep-alive conversation (GET, 404,
# echo, pipelined bursts) at the same time; every answer must be right.
. "$top_srcdir/tests/integration/lib.sh"
need_python

for isolation in on off; do
	new_log
	serve_http 2 "isolation = $isolation" 'opt.max_body = 1M'
	ISOLATION=$isolation http_py <<'EOF'
import threading
import random

errors = []


def client(n):
    rnd = random.Random(n)
    try:
        c = Conn(PORT, timeout=10)
        for i in range(30):
            k = rnd.randrange(4)
            if k == 0:
                c.send(get("/"))
                check_hello(c.read_response())
            elif k == 1:
                c.send(get("/nope/%d" % i))
                r = c.read_response()
                check(r.status == 404, "expected 404, got %r" % r)
            elif k == 2:
                body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 20000)))
                c.send(get("/echo", method="POST", headers=["Content-Length: %d" % len(body)],
                           body=body))
                r = c.read_response()
                check(r.status == 200 and r.body == body, "echo of %d bytes: %r" % (len(body), r))
            else:
                c.send(get("/") * 8)
                for _ in range(8):
                    check_hello(c.read_response())
        c.close()
    except Exception as e:
        errors.append("client %d: %r" % (n, e))


threads = [threading.Thread(target=client, args=(n,)) for n in range(64)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    print("isolation = %s: %d client(s) failed:" % (os.environ["ISOLATION"], len(errors)))
    for e in errors[:10]:
        print("  " + e)
    sys.exit(1)
EOF
	stop_vkd
done
exit 0
