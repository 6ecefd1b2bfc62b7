#!/usr/bin/env python3
"""upload_client: simulated recorders uploading at once, for bench/relay-load.sh.

usage: upload_client.py --port N --pki DIR --nodes A,B,.. [--snap-mb 20]
                        [--files 4] [--chunk-kb 128] [--uploads 0]
                        [--duration 60] [--started FILE] [--stopped FILE]
                        [--timeout 120] [--trace DIR] [--incident NAME] [--cluster]
                        [--reason TEXT] OUT

One relay-link connection per node (TLS 1.3, DIR/NODE.pem and .key, the
fleet CA DIR/ca.pem): the relay allows one upload at a time per connection
and files each upload under its certificate's name. Every connection says
HELLO, and once all of them have their HELLO back, --started is created and
each uploads snapshots back to back: UPLOAD_BEGIN with the manifest, the
files as UPLOAD_CHUNK frames of --chunk-kb (the recorder's default: 128),
UPLOAD_END, then it waits for the ACK before the next BEGIN, as a recorder
does. A connection stops after --uploads snapshots (0: no count) or once
--duration seconds have passed since the start (0: no limit), finishing the
upload it is in; --stopped is created when the first connection stops, so
that until then all of them were uploading.

A snapshot is SNAP_MB * 10^6 bytes: --files data files of equal size
(trace/ust/uid/0/64-bit/channel0_<n>) and a 4096-byte metadata file, made
once from os.urandom with their sha256 in the manifest, and the very same
bytes (the same prebuilt UPLOAD_CHUNK frames) sent for every snapshot,
under a new id each time: <node>-<yyyymmddThhmmssZ>-<n>. The client's own
per-byte work is then only TLS encryption. With --trace DIR, the files are
those of a real CTF trace directory instead (its metadata and streams), so
the relay's analysis has something to read; --incident files every
snapshot under that incident (the relay keeps the name only if it asked
that node for it), --cluster sends one cluster trigger first and files
every snapshot under the incident the relay's requests name, --reason
sets the trigger's reason.

For each upload acknowledged "stored", one line in OUT:
    CONN BEGIN_NS ACK_NS BYTES
with BEGIN_NS / ACK_NS on time.monotonic_ns, relative to the start. A
"refused" ACK is counted (and its message printed on stderr) and the
connection goes on with its next snapshot. Exits 1, saying why on stderr,
when a connection is refused or lost, the relay sends ERROR, or an ACK
takes more than --timeout s.
"""
import argparse
import asyncio
import hashlib
import json
import os
import ssl
import struct
import sys
import time

HELLO, PING, PONG, ERROR = 1, 2, 3, 4
BEGIN, CHUNK, END, ACK = 10, 11, 12, 13
CLUSTER_TRIGGER, SNAPSHOT_REQUEST = 20, 21
HEADER = 8
WRITE_SLICE = 1024 * 1024	# bytes handed to TLS between drains
METADATA_BYTES = 4096


def frame(ftype, payload):
    return struct.pack(">IB", len(payload), ftype) + b"\0\0\0" + payload


def jframe(ftype, obj):
    return frame(ftype, json.dumps(obj).encode())


class BenchError(Exception):
    pass


class Snapshot:
    """The files of every snapshot, and their UPLOAD_CHUNK frames."""

    def __init__(self, total, nfiles, chunk, trace=None, incident=None,
                 reason="relay-load"):
        self.incident = incident
        self.reason = reason
        if trace is not None:
            self.load(trace, chunk)
            return
        data_bytes = total - METADATA_BYTES
        if data_bytes < nfiles:
            raise BenchError("snapshot of %d bytes is too small" % total)
        sizes = [data_bytes // nfiles] * nfiles
        sizes[-1] += data_bytes - sum(sizes)
        names = ["trace/ust/uid/0/64-bit/channel0_%d" % i
                 for i in range(nfiles)]
        names.append("trace/ust/uid/0/64-bit/metadata")
        sizes.append(METADATA_BYTES)
        self.files = []
        parts = []
        for index, (name, size) in enumerate(zip(names, sizes)):
            data = os.urandom(size)
            self.files.append({"path": name, "bytes": size,
                               "sha256": hashlib.sha256(data).hexdigest()})
            for offset in range(0, size, chunk):
                part = data[offset:offset + chunk]
                parts.append(frame(CHUNK, struct.pack(">IQ", index, offset)
                                   + part))
        self.bytes = total
        self.body = memoryview(b"".join(parts))

    def load(self, trace, chunk):
        self.files = []
        parts = []
        for index, name in enumerate(sorted(os.listdir(trace))):
            path = os.path.join(trace, name)
            if not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                data = f.read()
            self.files.append({"path": "trace/ust/uid/0/64-bit/" + name,
                               "bytes": len(data),
                               "sha256": hashlib.sha256(data).hexdigest()})
            for offset in range(0, len(data), chunk):
                part = data[offset:offset + chunk]
                parts.append(frame(CHUNK, struct.pack(
                    ">IQ", len(self.files) - 1, offset) + part))
        self.bytes = sum(f["bytes"] for f in self.files)
        self.body = memoryview(b"".join(parts))

    def manifest(self, snap_id, node):
        now_us = time.time_ns() // 1000
        m = {"id": snap_id, "node": node, "taken_at_us": now_us,
             "bytes": self.bytes,
             "triggers": [{"source": "bench", "reason": self.reason,
                           "received_at_us": now_us}],
             "files": self.files}
        if self.incident is not None:
            m["incident"] = self.incident
        return m


class Run:
    """What all connections share."""

    def __init__(self, args, loop):
        self.args = args
        self.loop = loop
        self.failure = loop.create_future()
        self.closing = False
        self.t0 = None
        self.has_stopped = False
        self.samples = []
        self.refused = 0

    def fail(self, why):
        if not self.closing and not self.failure.done():
            self.failure.set_exception(BenchError(why))

    def is_over(self, done):
        a = self.args
        if a.uploads > 0 and done >= a.uploads:
            return True
        return (a.duration > 0 and
                time.monotonic_ns() - self.t0 >= a.duration * 1e9)

    def stop(self):
        if not self.has_stopped:
            self.has_stopped = True
            if self.args.stopped:
                open(self.args.stopped, "w").close()


class Link:
    def __init__(self, run, index, node):
        self.run = run
        self.index = index
        self.node = node
        self.reader = None
        self.writer = None
        self.ack = None
        self.incident = None    # a SNAPSHOT_REQUEST's, future

    async def connect(self):
        a = self.run.args
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations("%s/ca.pem" % a.pki)
        ctx.load_cert_chain("%s/%s.pem" % (a.pki, self.node),
                            "%s/%s.key" % (a.pki, self.node))
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", a.port, ssl=ctx, server_hostname="127.0.0.1")
        self.writer.write(jframe(HELLO, {"version": 1,
                                         "software": "bench/upload_client"}))
        ftype, body = await self.read_frame()
        if ftype != HELLO:
            raise BenchError("%s: frame %d instead of hello: %s"
                             % (self.node, ftype, body))
        if body.get("node") != self.node:
            raise BenchError("%s: the relay calls us %s"
                             % (self.node, body.get("node")))

    async def read_frame(self):
        header = await self.reader.readexactly(HEADER)
        length, ftype = struct.unpack_from(">IB", header)
        payload = await self.reader.readexactly(length)
        return ftype, json.loads(payload) if payload else {}

    async def read_loop(self):
        try:
            while True:
                ftype, body = await self.read_frame()
                if ftype == ACK:
                    if self.ack is None or self.ack.done():
                        self.run.fail("%s: ACK with no upload waiting: %s"
                                      % (self.node, body))
                        return
                    self.ack.set_result(body)
                elif ftype == PING:
                    self.writer.write(jframe(PONG, {}))
                elif ftype == SNAPSHOT_REQUEST and self.incident is not None \
                        and not self.incident.done():
                    self.incident.set_result(body.get("incident"))
                elif ftype == ERROR:
                    self.run.fail("%s: relay error: %s"
                                  % (self.node, body.get("message")))
                    return
                elif ftype != PONG:
                    self.run.fail("%s: unexpected frame type %d"
                                  % (self.node, ftype))
                    return
        except (asyncio.IncompleteReadError, OSError, ssl.SSLError) as e:
            self.run.fail("%s: connection lost (%s)"
                          % (self.node, e.__class__.__name__))

    async def upload(self, snap, seq):
        run = self.run
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        snap_id = "%s-%s-%d" % (self.node, stamp, seq)
        self.ack = run.loop.create_future()
        begin = time.monotonic_ns()
        manifest = snap.manifest(snap_id, self.node)
        if self.incident is not None:
            manifest["incident"] = self.incident.result()
        self.writer.write(frame(BEGIN, json.dumps(manifest).encode()))
        body = snap.body
        for offset in range(0, len(body), WRITE_SLICE):
            # An early ACK (refused): the rest would only be skipped.
            if self.ack.done():
                break
            self.writer.write(body[offset:offset + WRITE_SLICE])
            await self.writer.drain()
        self.writer.write(jframe(END, {"id": snap_id}))
        try:
            answer = await asyncio.wait_for(asyncio.shield(self.ack),
                                            run.args.timeout)
        except asyncio.TimeoutError:
            raise BenchError("%s: no ACK for %s in %g s"
                             % (self.node, snap_id, run.args.timeout))
        end = time.monotonic_ns()
        if answer.get("status") == "stored" and answer.get("id") == snap_id:
            run.samples.append("%d %d %d %d" % (self.index, begin - run.t0,
                                                end - run.t0, snap.bytes))
        else:
            run.refused += 1
            print("upload_client: %s: %s" % (snap_id, answer),
                  file=sys.stderr)

    async def uploads(self, snap):
        done = 0
        try:
            while not self.run.is_over(done):
                await self.upload(snap, done + 1)
                done += 1
        except (OSError, ssl.SSLError) as e:
            raise BenchError("%s: connection lost while sending (%s)"
                             % (self.node, e.__class__.__name__))
        self.run.stop()


async def guarded(run, aw, what, timeout=None):
    """Awaits aw, unless the run fails (or the timeout passes) first."""
    task = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait({task, run.failure}, timeout=timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task not in done:
        task.cancel()
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
    if run.failure in done:
        run.failure.result()		# raises
    if task not in done:
        raise BenchError("%s: timed out after %g s" % (what, timeout))
    return task.result()


async def main_async(args):
    loop = asyncio.get_running_loop()
    run = Run(args, loop)
    snap = Snapshot(args.snap_mb * 1000000, args.files, args.chunk_kb * 1024,
                    args.trace, args.incident, args.reason)
    links = [Link(run, i, n) for i, n in enumerate(args.nodes.split(","))]

    # A few handshakes at a time: they are CPU, and the listen backlog.
    sem = asyncio.Semaphore(10)

    async def connect(link):
        async with sem:
            await link.connect()

    try:
        await guarded(run, asyncio.gather(*(connect(l) for l in links)),
                      "connecting %d links" % len(links), 60)
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as e:
        raise BenchError("connect: %s: %s" % (e.__class__.__name__, e))
    readers = [asyncio.ensure_future(l.read_loop()) for l in links]
    print("upload_client: %d links, snapshot %d bytes in %d files"
          % (len(links), snap.bytes, len(snap.files)), file=sys.stderr)

    if args.cluster:
        # One cluster trigger: the relay asks every link for a snapshot
        # of one incident (only such an incident may be named).
        for link in links:
            link.incident = loop.create_future()
        links[0].writer.write(jframe(CLUSTER_TRIGGER, {
            "source": "bench", "reason": args.reason}))
        await guarded(run, asyncio.gather(*(l.incident for l in links)),
                      "the relay's snapshot requests", 30)
    run.t0 = time.monotonic_ns()
    if args.started:
        open(args.started, "w").close()
    await guarded(run, asyncio.gather(*(l.uploads(snap) for l in links)),
                  "uploads")
    wall = time.monotonic_ns() - run.t0
    run.closing = True
    for r in readers:
        r.cancel()
    for link in links:
        link.writer.close()
    with open(args.out, "w") as f:
        f.write("\n".join(run.samples) + ("\n" if run.samples else ""))
    print("upload_client: %d stored, %d refused in %.3f s"
          % (len(run.samples), run.refused, wall / 1e9), file=sys.stderr)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pki", required=True)
    p.add_argument("--nodes", required=True)
    p.add_argument("--snap-mb", type=int, default=20)
    p.add_argument("--files", type=int, default=4)
    p.add_argument("--chunk-kb", type=int, default=128)
    p.add_argument("--uploads", type=int, default=0)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--started")
    p.add_argument("--stopped")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--trace")
    p.add_argument("--incident")
    p.add_argument("--cluster", action="store_true")
    p.add_argument("--reason", default="relay-load")
    p.add_argument("out")
    args = p.parse_args()
    if args.uploads <= 0 and args.duration <= 0:
        p.error("--uploads or --duration must be set")
    if not 4 <= args.chunk_kb <= 256:
        p.error("--chunk-kb: 4 to 256 (protocol.h FRAME_CHUNK_DATA_MAX)")
    try:
        asyncio.run(main_async(args))
    except BenchError as e:
        print("upload_client: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
