#!/usr/bin/env python3
"""fanout_client: simulated recorders for bench/fanout-latency.sh.

usage: fanout_client.py --port N[,N...] --ca CA
                        (--cert C --key K | --cert-prefix P)
                        [--conns 50] [--triggers 200] [--warmup 3]
                        [--gap-ms 10] [--timeout 5] OUT

With several ports (several relays sharing cluster triggers through
PostgreSQL: bench/fanout-relays.sh), connection i goes to the i-th port,
round robin, and connection 0 sends the triggers. With --cert-prefix P,
connection i is node P<i> (P<i>.pem, P<i>.key): its own certificate, as
relays keep one connection per node.

Opens CONNS relay-link connections (TLS 1.3, client certificate; one
certificate may serve them all), says HELLO on each and waits for every
HELLO back. Then, WARMUP + TRIGGERS times, one at a time: connection 0
sends CLUSTER_TRIGGER, and the client waits until every connection has
received its SNAPSHOT_REQUEST for that incident before the next.

For each measured trigger, one line in OUT:
    INCIDENT FIRST_US LAST_US
with FIRST_US / LAST_US the time (time.monotonic_ns) from just before the
trigger was written to the arrival of the first / the last of the CONNS
SNAPSHOT_REQUESTs. An arrival is stamped when asyncio hands the decrypted
bytes to the connection's protocol, before any parsing; the client's own
work (TLS decryption, the event loop, one callback per connection) is
inside the figure. PINGs are answered with PONGs.

Exits 1, saying why on stderr, when a connection is refused or lost, the
relay sends ERROR, or a trigger's requests do not all arrive in TIMEOUT s.
"""
import argparse
import asyncio
import json
import ssl
import struct
import sys
import time

HELLO, PING, PONG, ERROR = 1, 2, 3, 4
CLUSTER_TRIGGER, SNAPSHOT_REQUEST = 20, 21
HEADER = 8


def frame(ftype, obj):
    payload = json.dumps(obj).encode()
    return struct.pack(">IB", len(payload), ftype) + b"\0\0\0" + payload


class BenchError(Exception):
    pass


class Fleet:
    """What all connections share: the trigger under measurement."""

    def __init__(self, conns, loop):
        self.conns = conns
        self.loop = loop
        self.failure = loop.create_future()
        self.closing = False
        self.reset()

    def reset(self):
        self.incident = None
        self.arrivals = []		# monotonic ns, one per connection
        self.seen = set()
        self.done = self.loop.create_future()

    def fail(self, why):
        if not self.closing and not self.failure.done():
            self.failure.set_exception(BenchError(why))

    def on_request(self, index, now_ns, body):
        incident = body.get("incident")
        if self.incident is None:
            self.incident = incident
        elif incident != self.incident:
            self.fail("connection %d: request for %s while waiting for %s"
                      % (index, incident, self.incident))
            return
        if index in self.seen:
            self.fail("connection %d: two requests for %s"
                      % (index, incident))
            return
        self.seen.add(index)
        self.arrivals.append(now_ns)
        if len(self.seen) == self.conns and not self.done.done():
            self.done.set_result(None)


class Link(asyncio.Protocol):
    def __init__(self, fleet, index):
        self.fleet = fleet
        self.index = index
        self.buf = bytearray()
        self.transport = None
        self.hello = fleet.loop.create_future()

    def connection_made(self, transport):
        self.transport = transport
        transport.write(frame(HELLO, {"version": 1,
                                      "software": "bench/fanout_client"}))

    def data_received(self, data):
        now_ns = time.monotonic_ns()	# before any parsing
        self.buf += data
        while len(self.buf) >= HEADER:
            length, ftype = struct.unpack_from(">IB", self.buf)
            if len(self.buf) < HEADER + length:
                break
            payload = bytes(self.buf[HEADER:HEADER + length])
            del self.buf[:HEADER + length]
            self.on_frame(ftype, payload, now_ns)

    def on_frame(self, ftype, payload, now_ns):
        try:
            body = json.loads(payload) if payload else {}
        except ValueError:
            self.fleet.fail("connection %d: bad JSON in frame type %d"
                            % (self.index, ftype))
            return
        if ftype == SNAPSHOT_REQUEST:
            self.fleet.on_request(self.index, now_ns, body)
        elif ftype == PING:
            self.transport.write(frame(PONG, {}))
        elif ftype == HELLO:
            if not self.hello.done():
                self.hello.set_result(body.get("node"))
        elif ftype == ERROR:
            self.fleet.fail("connection %d: relay error: %s"
                            % (self.index, body.get("message")))
        elif ftype != PONG:
            self.fleet.fail("connection %d: unexpected frame type %d"
                            % (self.index, ftype))

    def connection_lost(self, exc):
        why = "connection %d lost (%s)" % (self.index, exc or "closed")
        if not self.hello.done():
            self.hello.set_exception(BenchError(why))
        self.fleet.fail(why)


async def guarded(fleet, aw, timeout, what):
    """Awaits aw, unless the fleet fails or the timeout passes first."""
    task = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait({task, fleet.failure}, timeout=timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task not in done:
        task.cancel()
        # Retrieved, so that asyncio does not report it at exit.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
    if fleet.failure in done:
        fleet.failure.result()		# raises
    if task not in done:
        raise BenchError("%s: timed out after %g s" % (what, timeout))
    return task.result()


async def run(args):
    loop = asyncio.get_running_loop()
    ports = [int(p) for p in args.port.split(",")]

    def context(i):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(args.ca)
        if args.cert_prefix:
            ctx.load_cert_chain("%s%d.pem" % (args.cert_prefix, i),
                                "%s%d.key" % (args.cert_prefix, i))
        else:
            ctx.load_cert_chain(args.cert, args.key)
        return ctx
    fleet = Fleet(args.conns, loop)
    links = [Link(fleet, i) for i in range(args.conns)]

    # Connect a few at a time: the listen backlog, and handshakes are CPU.
    sem = asyncio.Semaphore(10)

    async def connect(link):
        async with sem:
            await loop.create_connection(
                lambda: link, "127.0.0.1", ports[link.index % len(ports)],
                ssl=context(link.index), server_hostname="127.0.0.1")
            return await link.hello

    connecting = asyncio.gather(*(connect(l) for l in links))
    try:
        await guarded(fleet, connecting, args.connect_timeout,
                      "connecting %d links" % args.conns)
    except (OSError, ssl.SSLError) as e:
        raise BenchError("connect: %s" % e)
    except BenchError as e:
        # Say where each link stands: the one clue to a stuck handshake.
        states = {}
        for link in links:
            state = ("hello" if link.hello.done() else
                     "tls, no hello (%d bytes unsent)" %
                     link.transport.get_write_buffer_size()
                     if link.transport else "no tls yet")
            states[state] = states.get(state, 0) + 1
        raise BenchError("%s; links: %s" % (e, ", ".join(
            "%d %s" % (n, s) for s, n in sorted(states.items()))))
    print("connected %d links" % args.conns, file=sys.stderr)

    samples = []
    for i in range(args.warmup + args.triggers):
        await asyncio.sleep(args.gap_ms / 1000)
        fleet.reset()
        trigger = frame(CLUSTER_TRIGGER, {
            "source": "bench", "reason": "x", "labels": {},
            "received_at_us": time.time_ns() // 1000})
        t0 = time.monotonic_ns()
        links[0].transport.write(trigger)
        await guarded(fleet, fleet.done, args.timeout, "trigger %d" % i)
        if i < args.warmup:
            continue
        samples.append("%s %d %d" % (fleet.incident,
                                     (min(fleet.arrivals) - t0) // 1000,
                                     (max(fleet.arrivals) - t0) // 1000))
    with open(args.out, "w") as f:
        f.write("\n".join(samples) + "\n")
    fleet.closing = True
    for link in links:
        link.transport.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--cert-prefix")
    p.add_argument("--conns", type=int, default=50)
    p.add_argument("--triggers", type=int, default=200)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--gap-ms", type=float, default=10)
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("--connect-timeout", type=float, default=30)
    p.add_argument("out")
    args = p.parse_args()
    try:
        asyncio.run(run(args))
    except BenchError as e:
        print("fanout_client: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
