#!/usr/bin/env python3
"""ttflood: idle connections against the relay's ingest port.

usage: ttflood.py --port N [--count K] [--hold S] [--until-closed]
                  [--forever] [--source ADDRESS]

Opens K TCP connections to 127.0.0.1:N that never say a word (no TLS
ClientHello), holds them S seconds, and prints "opened A closed B":
A connections the kernel accepted, B of them the relay closed within the
hold. With --until-closed it returns as soon as all were closed. With
--forever it holds them until killed (a benchmark's flood), printing
"opened A" once they are open, and opens a new one for each the relay
closes, so that K stay open (or wait in the relay's backlog). --source
binds the connections to a local address (127.0.0.2: another peer than
the recorders of 127.0.0.1, as far as the relay's per-address cap goes).
"""
import argparse
import select
import socket
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--hold", type=float, default=5)
    parser.add_argument("--until-closed", action="store_true")
    parser.add_argument("--forever", action="store_true")
    parser.add_argument("--source")
    args = parser.parse_args()
    def connect():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if args.source:
            s.bind((args.source, 0))
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", args.port))
        return s

    socks = []
    for _ in range(args.count):
        try:
            socks.append(connect())
        except OSError:
            break
    poller = select.poll()
    by_fd = {}
    for s in socks:
        poller.register(s, select.POLLIN)
        by_fd[s.fileno()] = s
    if args.forever:
        print("opened %d" % len(socks), flush=True)
        while True:
            for fd, _ in poller.poll(1000):
                s = by_fd.pop(fd)
                poller.unregister(fd)
                s.close()
                try:
                    s = connect()
                except OSError:
                    time.sleep(0.1)
                    continue
                poller.register(s, select.POLLIN)
                by_fd[s.fileno()] = s
    closed = 0
    deadline = time.monotonic() + args.hold
    while by_fd and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            s = by_fd.get(fd)
            if s is None:
                continue
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                closed += 1
                poller.unregister(fd)
                del by_fd[fd]
        if args.until_closed and not by_fd:
            break
    print("opened %d closed %d" % (len(socks), closed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
