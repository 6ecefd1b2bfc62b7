#!/usr/bin/env python3
"""ttframe: a hand-driven relay-link client for the relay's bad-input tests.

usage: ttframe.py --port N --ca CA [--cert C --key K] SCENARIO [ARGS]

Scenarios (each prints one line saying what the relay did):
  handshake                 connect, say hello; "ok NODE" or "refused ..."
  upload MANIFEST DIR [--lie-bytes N] [--pause-after-first FILE]
                            upload a snapshot: the manifest file as is,
                            then every files[] entry read from DIR; with
                            --pause-after-first, only BEGIN and the first
                            chunk until FILE exists
  oversized | truncated | unknown-type | chunk-first | reserved-bits
                            a malformed frame after hello; prints the
                            relay's ERROR message or how it closed
  peer-error TEXT           an ERROR frame carrying TEXT, then a PING:
                            "pong" once the relay answered it
  stall-begin SECONDS       the header of a 1 MiB UPLOAD_BEGIN and 100 kB
                            of it, then nothing for SECONDS: "held" or
                            how the relay closed it
  ping-flood MEGABYTES [HOLD]
                            PINGs, never reading the PONGs, until
                            MEGABYTES went out or the relay stops reading:
                            "blocked after N bytes" or "sent N bytes";
                            then, still reading nothing, HOLD seconds more
  error-unread PINGS UNTIL  PINGS pings, never reading the PONGs, then a
                            frame of an unknown type: "error sent after N
                            pings"; then still nothing read until the file
                            UNTIL exists (60 s at most), and then all that
                            arrived: "read N bytes, ERROR frame received|
                            not received, then how it ended". With
                            --rcvbuf, set it small: the relay's PONGs then
                            fill the kernel's buffers soon
"""
import argparse
import json
import socket
import os
import ssl
import struct
import sys
import time

HELLO, PING, PONG, ERROR = 1, 2, 3, 4
BEGIN, CHUNK, END, ACK = 10, 11, 12, 13


def frame(ftype, payload, reserved=b"\0\0\0"):
    return struct.pack(">IB", len(payload), ftype) + reserved + payload


def jframe(ftype, obj):
    return frame(ftype, json.dumps(obj).encode())


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        part = sock.recv(n - len(data))
        if not part:
            return None
        data += part
    return data


def read_frame(sock):
    header = read_exact(sock, 8)
    if header is None:
        return None, None
    length, ftype = struct.unpack(">IB", header[:5])
    payload = read_exact(sock, length)
    return ftype, payload


def connect(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(args.ca)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Before connect(), or the window is agreed on already.
    if args.rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", args.port))
    sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    # TLS 1.3 reports a refused client certificate only on the first read.
    sock.sendall(jframe(HELLO, {"version": 1, "software": "ttframe"}))
    ftype, payload = read_frame(sock)
    if ftype != HELLO:
        raise ConnectionError("no hello from the relay")
    return sock, json.loads(payload)


def answer(sock):
    """What the relay said next: an ACK, an ERROR, or a close."""
    try:
        ftype, payload = read_frame(sock)
    except (ssl.SSLError, OSError) as e:
        return "closed (%s)" % e.__class__.__name__
    if ftype is None or payload is None:
        return "closed"
    body = json.loads(payload)
    if ftype == ERROR:
        try:
            more = read_frame(sock)[0]
        except (ssl.SSLError, OSError):
            more = None
        return "error %s%s" % (body.get("message"),
                               "; closed" if more is None else "")
    if ftype == ACK:
        return "ack %s %s" % (body.get("status"), body.get("message", ""))
    return "frame %d" % ftype


def upload(sock, manifest_path, data_dir, lie_bytes, pause_file=None):
    with open(manifest_path, "rb") as f:
        manifest = f.read()
    files = json.loads(manifest)["files"]
    sock.sendall(frame(BEGIN, manifest))
    for index, entry in enumerate(files):
        try:
            with open("%s/%s" % (data_dir, entry["path"]), "rb") as f:
                data = f.read()
        except OSError:
            data = b"x" * entry["bytes"]
        if lie_bytes and index == 0:
            data = data[:-lie_bytes] + b"\xff" * lie_bytes
        offset = 0
        while offset < len(data):
            part = data[offset:offset + 65536]
            sock.sendall(frame(CHUNK, struct.pack(">IQ", index, offset) +
                               part))
            offset += len(part)
            while pause_file and not os.path.exists(pause_file):
                time.sleep(0.05)
    sock.sendall(jframe(END, {"id": json.loads(manifest)["id"]}))
    return answer(sock)


def error_unread(sock, pings, until):
    ping = jframe(PING, {})
    sock.settimeout(10)
    sent = 0
    try:
        while sent < pings:
            n = min(512, pings - sent)
            sock.sendall(ping * n)
            sent += n
        sock.sendall(frame(99, b"{}"))
    except (socket.timeout, ssl.SSLError, OSError) as e:
        print("blocked after %d pings (%s)" % (sent, e.__class__.__name__))
        return
    print("error sent after %d pings" % sent, flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(until) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Now read it all: PONGs, and the ERROR if it ever got out.
    sock.settimeout(2)
    data = b""
    try:
        while True:
            part = sock.recv(65536)
            if not part:
                how = "closed"
                break
            data += part
    except socket.timeout:
        how = "still open"
    except (ssl.SSLError, OSError) as e:
        how = "cut (%s)" % e.__class__.__name__
    has_error = False
    offset = 0
    while offset + 8 <= len(data):
        length, ftype = struct.unpack(">IB", data[offset:offset + 5])
        has_error = has_error or ftype == ERROR
        offset += 8 + length
    print("read %d bytes, ERROR frame %s, then %s" % (
        len(data), "received" if has_error else "not received", how))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--lie-bytes", type=int, default=0)
    parser.add_argument("--pause-after-first")
    parser.add_argument("--rcvbuf", type=int, default=0)
    parser.add_argument("scenario")
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()
    try:
        sock, hello = connect(args)
    except (ssl.SSLError, OSError, ConnectionError) as e:
        print("refused %s: %s" % (e.__class__.__name__, e))
        return 0
    if args.scenario == "handshake":
        print("ok %s" % hello.get("node"))
    elif args.scenario == "upload":
        print(upload(sock, args.rest[0], args.rest[1], args.lie_bytes,
                     args.pause_after_first))
    elif args.scenario == "oversized":
        sock.sendall(struct.pack(">IB", 64 * 1024 * 1024, BEGIN) + b"\0" * 3)
        print(answer(sock))
    elif args.scenario == "truncated":
        sock.sendall(struct.pack(">IB", 100, BEGIN) + b"\0" * 3 + b"{\"id\"")
        sock.shutdown(socket.SHUT_WR)
        print(answer(sock))
    elif args.scenario == "unknown-type":
        sock.sendall(frame(99, b"{}"))
        print(answer(sock))
    elif args.scenario == "reserved-bits":
        sock.sendall(frame(PING, b"{}", reserved=b"\1\0\0"))
        print(answer(sock))
    elif args.scenario == "chunk-first":
        sock.sendall(frame(CHUNK, struct.pack(">IQ", 0, 0) + b"data"))
        print(answer(sock))
    elif args.scenario == "peer-error":
        sock.sendall(jframe(ERROR, {"error": "x", "message": args.rest[0]}))
        sock.sendall(jframe(PING, {}))
        ftype, _ = read_frame(sock)
        print("pong" if ftype == PONG else "frame %s" % ftype)
    elif args.scenario == "stall-begin":
        sock.sendall(struct.pack(">IB", 1024 * 1024, BEGIN) + b"\0" * 3 +
                     b" " * 100000)
        sock.settimeout(float(args.rest[0]))
        try:
            data = sock.recv(1)
            print("closed" if not data else "frame")
        except socket.timeout:
            print("held")
        except (ssl.SSLError, OSError) as e:
            print("closed (%s)" % e.__class__.__name__)
    elif args.scenario == "ping-flood":
        limit = int(args.rest[0]) * 1024 * 1024
        ping = jframe(PING, {}) * 512
        sock.settimeout(3)
        sent = 0
        try:
            while sent < limit:
                sock.sendall(ping)
                sent += len(ping)
            print("sent %d bytes" % sent)
        except (socket.timeout, ssl.SSLError, OSError) as e:
            print("blocked after %d bytes (%s)" % (sent,
                                                   e.__class__.__name__),
                  flush=True)
            # Still reading nothing: the relay's write timeout is next.
            if len(args.rest) > 1:
                time.sleep(float(args.rest[1]))
    elif args.scenario == "error-unread":
        error_unread(sock, int(args.rest[0]), args.rest[1])
    else:
        print("unknown scenario", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
