#!/usr/bin/python3
"""Writes a CTF trace that reads as LTTng's kernel domain, for tests.

No kernel tracer can run here, so the analyzer's kernel path is checked
on a trace made to order: env.domain = "kernel", packets with a cpu_id,
the contexts tid/pid/procname and sched_switch events (prev_tid,
next_tid, prev_comm, next_comm), written by babeltrace2's own
sink.ctf.fs so the trace is what babeltrace2 reads back.

usage: mkkernel.py OUTDIR SCRIPT
SCRIPT lines: "CPU TIME_NS PREV_TID PREV_COMM NEXT_TID NEXT_COMM"
"""
import sys

import bt2




class Iter(bt2._UserMessageIterator):
    def __init__(self, config, port):
        params, tc, clock = port.user_data
        self._msgs = []
        self._build(params, tc, clock)

    def _build(self, params, tc, clock):
        pctx = tc.create_structure_field_class()
        pctx.append_member("cpu_id", tc.create_unsigned_integer_field_class(32))
        cctx = tc.create_structure_field_class()
        cctx.append_member("pid", tc.create_signed_integer_field_class(32))
        cctx.append_member("tid", tc.create_signed_integer_field_class(32))
        cctx.append_member("procname", tc.create_string_field_class())
        sc = tc.create_stream_class(
            default_clock_class=clock, supports_packets=True,
            packets_have_beginning_default_clock_snapshot=True,
            packets_have_end_default_clock_snapshot=True,
            packet_context_field_class=pctx,
            event_common_context_field_class=cctx)
        payload = tc.create_structure_field_class()
        payload.append_member("prev_comm", tc.create_string_field_class())
        payload.append_member("prev_tid", tc.create_signed_integer_field_class(32))
        payload.append_member("prev_prio", tc.create_signed_integer_field_class(32))
        payload.append_member("prev_state", tc.create_signed_integer_field_class(64))
        payload.append_member("next_comm", tc.create_string_field_class())
        payload.append_member("next_tid", tc.create_signed_integer_field_class(32))
        payload.append_member("next_prio", tc.create_signed_integer_field_class(32))
        ec = sc.create_event_class(name="sched_switch", payload_field_class=payload)
        trace = tc(environment={"domain": "kernel", "tracer_name": "lttng-modules",
                                "hostname": "kt"})
        rows = [l.split() for l in open(params["script"]) if l.strip()]
        cpus = sorted({int(r[0]) for r in rows})
        for cpu in cpus:
            mine = [r for r in rows if int(r[0]) == cpu]
            stream = trace.create_stream(sc, name="chan_%d" % cpu)
            first, last = int(mine[0][1]), int(mine[-1][1])
            self._msgs.append(self._create_stream_beginning_message(stream))
            packet = stream.create_packet()
            packet.context_field["cpu_id"] = cpu
            self._msgs.append(self._create_packet_beginning_message(packet, first))
            for r in mine:
                msg = self._create_event_message(ec, packet, int(r[1]))
                ctx = msg.event.common_context_field
                ctx["pid"] = int(r[2])
                ctx["tid"] = int(r[2])
                ctx["procname"] = r[3]
                p = msg.event.payload_field
                p["prev_comm"], p["prev_tid"] = r[3], int(r[2])
                p["prev_prio"], p["prev_state"] = 20, 0
                p["next_comm"], p["next_tid"] = r[5], int(r[4])
                p["next_prio"] = 20
                self._msgs.append(msg)
            self._msgs.append(self._create_packet_end_message(packet, last))
            self._msgs.append(self._create_stream_end_message(stream))

    def __next__(self):
        if not self._msgs:
            raise StopIteration
        return self._msgs.pop(0)


class Source(bt2._UserSourceComponent, message_iterator_class=Iter):
    def __init__(self, config, params, obj):
        tc = self._create_trace_class()
        clock = self._create_clock_class(
            frequency=1000000000, name="monotonic",
            offset=bt2.ClockClassOffset(1700000000, 0),
            origin_is_unix_epoch=True)
        self._add_output_port("out", ({"script": str(params["script"])},
                                      tc, clock))


def main():
    out, script = sys.argv[1], sys.argv[2]
    graph = bt2.Graph()
    src = graph.add_component(Source, "src", params={"script": script})
    sink = graph.add_component(
        bt2.find_plugin("ctf").sink_component_classes["fs"], "sink",
        params={"path": out, "assume-single-trace": True})
    graph.connect_ports(src.output_ports["out"], sink.input_ports["in"])
    graph.run()


if __name__ == "__main__":
    main()
