#!/usr/bin/env python3
"""api_poll: the relay's HTTP API polled at a steady rate, for
bench/relay-load.sh.

usage: api_poll.py --port N [--rate 20] [--duration S] [--stop-file F]
                   [--while-pid PID] [--path P]... OUT

GETs the --path URLs of http://127.0.0.1:PORT in turn (default
/v1/snapshots?limit=50, /v1/incidents, /metrics), one request every
1/RATE s on a fixed schedule, over one keep-alive HTTP/1.1 connection
(http.client: no process start, no new TCP connection per request). Stops
after --duration s, once --stop-file exists, or once process --while-pid
is gone (both looked at before each request), whichever comes first.

For each request, one line in OUT:
    PATH LATENCY_US LATE_US STATUS BYTES
LATENCY_US runs from just before the request is written to the last byte
of the body read (time.perf_counter_ns). LATE_US is how far behind its
schedule the request went out: when an answer takes longer than the
period, the next request waits for it (one connection, no pipelining)
instead of piling up. A failed request (connection refused or reset) has
STATUS 0, and the connection is made anew.
"""
import argparse
import http.client
import os
import sys
import time

DEFAULT_PATHS = ["/v1/snapshots?limit=50", "/v1/incidents", "/metrics"]


def is_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    # A zombie (exited, not yet waited for) is gone too.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, default=20)
    p.add_argument("--duration", type=float, default=0)
    p.add_argument("--stop-file")
    p.add_argument("--while-pid", type=int)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--path", action="append")
    p.add_argument("out")
    args = p.parse_args()
    if args.duration <= 0 and not args.stop_file:
        p.error("--duration or --stop-file must be set")
    paths = args.path or DEFAULT_PATHS
    period_ns = int(1e9 / args.rate)

    conn = None
    lines = []
    start = time.perf_counter_ns()
    k = 0
    while True:
        due = start + k * period_ns
        now = time.perf_counter_ns()
        if args.duration > 0 and now - start >= args.duration * 1e9:
            break
        if args.stop_file and os.path.exists(args.stop_file):
            break
        if args.while_pid and not is_alive(args.while_pid):
            break
        if due > now:
            time.sleep((due - now) / 1e9)
        path = paths[k % len(paths)]
        k += 1
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", args.port,
                                              timeout=args.timeout)
        sent = time.perf_counter_ns()
        late = max(0, sent - due)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            status, size = resp.status, len(body)
        except (OSError, http.client.HTTPException) as e:
            print("api_poll: %s: %s" % (path, e), file=sys.stderr)
            conn.close()
            conn = None
            status, size = 0, 0
        lines.append("%s %d %d %d %d" % (
            path, (time.perf_counter_ns() - sent) // 1000, late // 1000,
            status, size))
    if conn is not None:
        conn.close()
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
