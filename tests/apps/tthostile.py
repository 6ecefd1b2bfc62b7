#!/usr/bin/env python3
"""A hostile relay for the CLI's tests (cli-hostile.t): an HTTP server on
127.0.0.1 whose first path component picks how it misbehaves. It writes its
port to the file named by argv[1] and serves until killed.

  /badchunk/...   a chunked body with a chunk size that is not hex
  /hugechunk/...  a chunk size of 2^68
  /hugelength/... Content-Length: 99999999999999, a few bytes, then nothing
  /endless/...    a 200 without length, zeros until the client hangs up
  /endlesschunk/  the same, chunked
  /driphead/...   the status line, then a header byte every 0.3 s
  /dripbody/...   Content-Length: 1000000, then 16 bytes every 0.2 s
  /silent/...     reads the request and never answers
  /twice/...      a snapshot archive whose manifest lists one file twice
                  and leaves another unlisted
"""
import hashlib
import io
import json
import socketserver
import sys
import tarfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def archive(snap_id):
    a = b"listed twice\n"
    b = b"never listed, never checked\n"
    manifest = {
        "id": snap_id,
        "files": [
            {"path": "trace/a", "sha256": hashlib.sha256(a).hexdigest()},
            {"path": "trace/a", "sha256": hashlib.sha256(a).hexdigest()},
        ],
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name in (snap_id, snap_id + "/trace"):
            d = tarfile.TarInfo(name)
            d.type = tarfile.DIRTYPE
            d.mode = 0o755
            t.addfile(d)
        for name, data in (("manifest.json", json.dumps(manifest).encode()),
                           ("trace/a", a), ("trace/b", b)):
            f = tarfile.TarInfo(snap_id + "/" + name)
            f.size = len(data)
            f.mode = 0o644
            t.addfile(f, io.BytesIO(data))
    return out.getvalue()


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def head(self, *headers):
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for h in headers:
            self.wfile.write(h.encode() + b"\r\n")
        self.wfile.write(b"\r\n")
        self.wfile.flush()

    def do_GET(self):
        mode = self.path.split("/")[1]
        try:
            getattr(self, "mode_" + mode)()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def mode_badchunk(self):
        self.head("Content-Type: application/json",
                  "Transfer-Encoding: chunked")
        self.wfile.write(b"2\r\n[]\r\nzz\r\n[]\r\n0\r\n\r\n")

    def mode_hugechunk(self):
        self.head("Transfer-Encoding: chunked")
        self.wfile.write(b"100000000000000000\r\n[]")
        self.wfile.flush()
        time.sleep(5)

    def mode_hugelength(self):
        self.head("Content-Length: 99999999999999")
        self.wfile.write(b"[1,2,3")
        self.wfile.flush()
        time.sleep(30)

    def mode_endless(self):
        self.head("Content-Type: application/json", "Connection: close")
        block = b"0" * 65536
        while True:
            self.wfile.write(block)

    def mode_endlesschunk(self):
        self.head("Transfer-Encoding: chunked")
        block = b"10000\r\n" + b"0" * 65536 + b"\r\n"
        while True:
            self.wfile.write(block)

    def mode_driphead(self):
        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        while True:
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.3)

    def mode_dripbody(self):
        self.head("Content-Length: 1000000")
        while True:
            self.wfile.write(b"0" * 16)
            self.wfile.flush()
            time.sleep(0.2)

    def mode_silent(self):
        time.sleep(60)

    def mode_twice(self):
        snap_id = self.path.split("/")[4]
        body = archive(snap_id)
        self.head("Content-Type: application/x-tar",
                  "Content-Length: %d" % len(body))
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    server = Server(("127.0.0.1", 0), Hostile)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()
