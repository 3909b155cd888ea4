"""Shared by the proxy tests' upstreams (proxy_upstream.py,
proxy_http_upstream.py).

The test picks a free port and starts the upstream on it; in between,
another process may take it (a connect() given it as its local port,
another test's pick). bind() then says "taken PORT" and exits with status
98 (EADDRINUSE), so that start_upstream (proxy_lib.sh) moves the port and
starts the upstream again.
"""
import errno
import os


def bind(ls, port):
    try:
        ls.bind(("127.0.0.1", port))
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        print("taken %d" % port, flush=True)
        os._exit(98)
