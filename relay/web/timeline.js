/*
 * timeline.js: the incident timeline, Perfetto's idiom in one SVG.
 *
 * One lane per node on a shared UTC axis. A lane shows each snapshot's
 * covered window (hatched where a ring buffer overflowed and history is
 * incomplete), the event rate summed over its processes, its slowest
 * requests as bars, and its trigger markers; opening a lane adds one rate
 * strip per process. A dashed line marks when the cluster snapshot was
 * requested. Bars, windows and markers link to the snapshot page; dragging
 * across the chart zooms, double-click or "reset" zooms out.
 *
 * model = {lanes: [{node, snapshots: [{id, analysis, summary}], warnings}],
 *          clusterNs, view: {from, to} (BigInt ns), expanded: Set of nodes,
 *          onToggle(node), onZoom({from, to} | null)}
 */
import {svg, h} from './dom.js';
import * as fmt from './fmt.js';
import {links} from './api.js';

const AXIS_H = 36;
const HEAD_H = 22;
const WIN_H = 12;
const RATE_H = 30;
const PROC_LABEL_H = 14;
const PROC_RATE_H = 18;
const ROW_H = 9;
const MAX_ROWS = 4;
const MAX_BARS = 40;
const LANE_GAP = 10;
const PAD = 8;

let instances = 0;

/*
 * Text widths without a layout: reading getComputedTextLength() after
 * each append lays the whole page out again (a 50-lane incident spent
 * seconds there), so a canvas measures instead, in the font the
 * stylesheet gives each class of text, read once per drawing.
 */
const meter = document.createElement('canvas').getContext('2d');

function textMeter(root, classes) {
	const probes = classes.map((cls) => svg('text', {class: cls}, 'x'));
	root.append(...probes);
	const fonts = new Map(classes.map((cls, i) => {
		const cs = getComputedStyle(probes[i]);
		return [cls, `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`];
	}));
	probes.forEach((p) => p.remove());
	return (cls, text) => {
		meter.font = fonts.get(cls);
		return meter.measureText(text).width;
	};
}

/* The time range every lane of the model covers, with a little margin. */
export function extent(lanes, clusterNs) {
	let lo = null, hi = null;
	const take = (t) => {
		const v = fmt.ns(t);
		if (v === null || v === 0n)
			return;
		if (lo === null || v < lo)
			lo = v;
		if (hi === null || v > hi)
			hi = v;
	};
	for (const lane of lanes)
		for (const snap of lane.snapshots) {
			const s = snap.summary;
			if (!s || !s.span)
				continue;
			take(s.span.first_ns);
			take(s.span.end_ns || s.span.last_ns);
			for (const t of s.triggers || [])
				take(t.received_at_ns);
		}
	take(clusterNs);
	if (lo === null)
		return null;
	const margin = (hi - lo) / 40n + 1000n;
	return {from: lo - margin, to: hi + margin};
}

function niceStep(rangeNs, count) {
	const raw = rangeNs / Math.max(1, count);
	const p = 10 ** Math.floor(Math.log10(raw));
	for (const m of [1, 2, 5, 10])
		if (m * p >= raw)
			return m * p;
	return 10 * p;
}

function requestEnd(req, summary) {
	if (fmt.nsSet(req.end_ns))
		return req.end_ns;
	return summary.span ? summary.span.end_ns || summary.span.last_ns : req.begin_ns;
}

function requestClass(req) {
	if (req.in_flight)
		return 'req inflight';
	const status = Number(req.status);
	return `req ${status >= 500 ? 's5' : status >= 400 ? 's4' : 'ok'}${req.triggered ? ' triggered' : ''}`;
}

export function requestTitle(req) {
	const what = `${req.method || '?'} ${req.uri || '?'}`;
	const how = req.in_flight ? `still running after ${fmt.duration(req.duration_us)}` :
	    `${req.status} in ${fmt.duration(req.duration_us)}`;
	return `${what} → ${how}${req.triggered ? ' (triggered the snapshot)' : ''}`;
}

/* The series of a lane, merged by process across its snapshots. */
function processes(lane) {
	const byKey = new Map();
	for (const snap of lane.snapshots) {
		const tl = snap.summary && snap.summary.timeline;
		if (!tl || !Array.isArray(tl.series))
			continue;
		for (const series of tl.series) {
			const key = `${series.vpid}\u0000${series.procname}`;
			if (!byKey.has(key))
				byKey.set(key, {vpid: series.vpid, procname: series.procname, parts: []});
			byKey.get(key).parts.push({timeline: tl, counts: series.counts || []});
		}
	}
	return [...byKey.values()].sort((a, b) => (a.vpid === -2) - (b.vpid === -2) ||
	    b.parts.reduce((n, p) => n + p.counts.reduce((x, y) => x + y, 0), 0) -
	    a.parts.reduce((n, p) => n + p.counts.reduce((x, y) => x + y, 0), 0));
}

/* Sums series into one rate per bucket for each snapshot of a lane. */
function laneRates(lane) {
	const parts = [];
	for (const snap of lane.snapshots) {
		const tl = snap.summary && snap.summary.timeline;
		if (!tl || !Array.isArray(tl.series) || !tl.series.length)
			continue;
		const n = Number(tl.buckets) || Math.max(...tl.series.map((s) => (s.counts || []).length));
		const counts = new Array(n).fill(0);
		for (const s of tl.series)
			(s.counts || []).forEach((c, i) => { counts[i] += Number(c) || 0; });
		parts.push({timeline: tl, counts});
	}
	return parts;
}

export function drawTimeline(container, model) {
	const id = `tl${++instances}`;
	const W = Math.max(280, Math.floor(container.clientWidth || 800));
	const narrow = W < 560;
	const plotW = W - 2 * PAD;
	const {from, to} = model.view;
	const spanNs = Number(to - from);
	const x = (t) => PAD + Number(fmt.ns(t) - from) / spanNs * plotW;
	const clamp = (v) => Math.max(PAD, Math.min(W - PAD, v));
	const root = svg('svg', {class: 'timeline', width: W, 'aria-label': 'Timeline of the incident, one lane per node',
	    role: 'group', 'data-from': String(from), 'data-to': String(to)});
	root.append(svg('defs', null,
	    svg('pattern', {id: `${id}-hatch`, width: 6, height: 6, patternUnits: 'userSpaceOnUse',
		patternTransform: 'rotate(45)'},
		svg('rect', {width: 6, height: 6, class: 'hatch-bg'}),
		svg('line', {x1: 0, y1: 0, x2: 0, y2: 6, class: 'hatch-line'})),
	    svg('clipPath', {id: `${id}-plot`}, svg('rect', {x: PAD, y: -10000, width: plotW, height: 20000})),
	    svg('pattern', {id: `${id}-flight`, width: 4, height: 4, patternUnits: 'userSpaceOnUse',
		patternTransform: 'rotate(45)'},
		svg('rect', {width: 4, height: 4, class: 'flight-bg'}),
		svg('line', {x1: 0, y1: 0, x2: 0, y2: 4, class: 'flight-line'}))));
	container.replaceChildren(root);
	const textWidth = textMeter(root, ['lane-label', 'lane-info', 'lane-warning w-warn', 'lane-warning w-error']);

	/* Axis: tick labels on the first row, markers on the second. */
	const axis = svg('g', {class: 'axis'});
	const grid = svg('g', {class: 'grid'});
	root.append(grid, axis);
	const step = niceStep(spanNs, Math.max(2, Math.floor(plotW / (narrow ? 105 : 130))));
	const micro = step < 1e6;
	const first = (from / BigInt(step) + 1n) * BigInt(step);
	for (let t = first; t <= to; t += BigInt(step)) {
		const tx = x(t);
		const anchor = tx < PAD + 45 ? 'start' : tx > W - PAD - 45 ? 'end' : 'middle';
		axis.append(svg('line', {x1: tx, x2: tx, y1: 16, y2: 22, class: 'tick'}),
		    svg('text', {x: tx, y: 12, 'text-anchor': anchor, class: 'tick-label'}, fmt.time(t, micro)));
		grid.append(svg('line', {x1: tx, x2: tx, y1: 22, y2: 0, class: 'gridline', 'data-t': String(t)}));
	}
	axis.append(svg('line', {x1: PAD, x2: W - PAD, y1: 22, y2: 22, class: 'axis-line'}));

	let y = AXIS_H;
	for (const lane of model.lanes) {
		const expanded = model.expanded.has(lane.node);
		const g = svg('g', {class: `lane${expanded ? ' expanded' : ''}`, 'data-node': lane.node,
		    transform: `translate(0,${y})`});
		root.append(g);
		let ly = 0;

		/* Header: the node's name, what it holds, and its worst warning. */
		const procs = processes(lane);
		const events = lane.snapshots.reduce((n, s) => n + Number((s.summary && s.summary.events) || 0), 0);
		const head = svg('g', {class: 'lane-head', role: 'button', tabindex: 0,
		    'aria-expanded': expanded ? 'true' : 'false',
		    'aria-label': `${lane.node}: ${expanded ? 'hide' : 'show'} its processes`});
		head.append(svg('rect', {x: 0, y: 0, width: W, height: HEAD_H, class: 'head-bg'}),
		    svg('text', {x: PAD, y: 15, class: 'caret'}, expanded ? '▾' : '▸'));
		const label = svg('text', {x: PAD + 14, y: 15, class: 'lane-label'}, lane.node);
		head.append(label);
		g.append(head);
		/* Everything under the header is clipped to the plot, for zoomed views. */
		const body = svg('g', {class: 'lane-body', 'clip-path': `url(#${id}-plot)`});
		g.append(body);
		let tx = PAD + 14 + textWidth('lane-label', lane.node) + 8;
		if (!narrow) {
			const text = `${fmt.plural(procs.length, 'process', 'processes')} · ${fmt.plural(events, 'event')}`;
			head.append(svg('text', {x: tx, y: 15, class: 'lane-info'}, text));
			tx += textWidth('lane-info', text) + 10;
		}
		const worst = lane.warnings.find((w) => w.level === 'error') || lane.warnings.find((w) => w.level === 'warn');
		if (worst) {
			const more = lane.warnings.filter((w) => w.level !== 'info').length - 1;
			const cls = `lane-warning w-${worst.level === 'error' ? 'error' : 'warn'}`;
			const text = `${worst.level === 'error' ? '✖' : '⚠'} ${worst.short}${more > 0 ? ` (+${more})` : ''}`;
			head.append(svg('text', {x: tx, y: 15, class: cls}, text,
			    svg('title', null, lane.warnings.map((w) => w.text).join('\n'))));
			tx += textWidth(cls, text) + 10;
		}
		const toggle = () => model.onToggle(lane.node);
		head.addEventListener('click', toggle);
		head.addEventListener('keydown', (e) => {
			if (e.key === 'Enter' || e.key === ' ') {
				e.preventDefault();
				toggle();
			}
		});
		ly = HEAD_H + 4;

		/* The window each snapshot covers. */
		const winY = ly;
		for (const snap of lane.snapshots) {
			const s = snap.summary;
			const a = svg('a', {href: links.snapshot(snap.id), class: 'window-link'});
			body.append(a);
			if (!s || !s.span || !fmt.nsSet(s.span.first_ns)) {
				a.append(svg('text', {x: PAD, y: winY + 10, class: 'window-note'},
				    snap.analysis === 'pending' ? 'analysis pending…' :
				    s && s.error ? 'trace unreadable' : 'no events'),
				    svg('title', null, `snapshot ${snap.id}`));
				continue;
			}
			const end = s.span.end_ns || s.span.last_ns;
			const hist = s.history || {};
			const complete = hist.overflowed === true && fmt.nsSet(hist.complete_since_ns) ?
			    hist.complete_since_ns : s.span.first_ns;
			const x0 = clamp(x(s.span.first_ns)), xc = clamp(x(complete)), x1 = clamp(x(end));
			if (xc > x0)
				a.append(svg('rect', {x: x0, y: winY, width: Math.max(1, xc - x0), height: WIN_H,
				    class: 'window lost', fill: `url(#${id}-hatch)`},
				    svg('title', null, `${lane.node}: history before ${fmt.time(complete)} UTC is incomplete (ring buffer overflowed)`)));
			a.append(svg('rect', {x: xc, y: winY, width: Math.max(2, x1 - xc), height: WIN_H, class: 'window'},
			    svg('title', null, `snapshot ${snap.id}\n${fmt.time(s.span.first_ns)} → ${fmt.time(end)} UTC` +
				(hist.overflowed === true ? `\ncomplete from ${fmt.time(complete)}` : ''))));
			if (xc > x0)
				a.append(svg('line', {x1: xc, x2: xc, y1: winY - 3, y2: winY + WIN_H + 3, class: 'complete-mark'}));
		}
		ly += WIN_H + 4;

		/* Event rate: all processes of the node. */
		const peak = drawRate(body, laneRates(lane), ly, RATE_H, x, clamp, 'rate');
		if (peak > 0) {
			const text = `peak ${rateText(peak)} events/s`;
			if (textWidth('lane-info', text) <= W - PAD - tx - 8)
				head.append(svg('text', {x: W - PAD, y: 15, 'text-anchor': 'end', class: 'lane-info'}, text));
		}
		ly += RATE_H + 4;

		/* Slow requests as bars, slowest first, packed into a few rows. */
		const reqs = [];
		for (const snap of lane.snapshots)
			for (const r of (snap.summary && snap.summary.requests) || [])
				if (fmt.nsSet(r.begin_ns))
					reqs.push({r, snap});
		reqs.sort((p, q) => Number(q.r.duration_us) - Number(p.r.duration_us));
		const rows = [];
		for (const {r, snap} of reqs.slice(0, MAX_BARS)) {
			const bx0 = x(r.begin_ns), bx1 = x(requestEnd(r, snap.summary));
			if (bx1 < PAD || bx0 > W - PAD)
				continue;
			const left = clamp(bx0), right = Math.max(clamp(bx1), left + 2);
			let row = rows.findIndex((used) => used.every(([p, q]) => right + 1 < p || left > q + 1));
			if (row === -1) {
				if (rows.length >= MAX_ROWS)
					continue;
				rows.push([]);
				row = rows.length - 1;
			}
			rows[row].push([left, right]);
			const cls = requestClass(r);
			body.append(svg('a', {href: links.snapshot(snap.id, r.request_id), class: 'req-link'},
			    svg('rect', {x: left, y: ly + row * ROW_H, width: right - left, height: ROW_H - 2, rx: 1,
				class: cls, fill: r.in_flight ? `url(#${id}-flight)` : null,
				'data-request': r.request_id},
				svg('title', null, `${requestTitle(r)}\nbegan ${fmt.time(r.begin_ns, true)} UTC`))));
		}
		ly += rows.length ? rows.length * ROW_H + 4 : 0;

		/* Per process, when open. */
		if (expanded) {
			for (const p of procs) {
				const name = p.vpid === -2 ? p.procname || '(other processes)' : `${p.procname || '?'} · pid ${p.vpid}`;
				const label = svg('text', {x: PAD + 14, y: ly + 10, class: 'proc-label'}, name);
				body.append(label);
				ly += PROC_LABEL_H;
				const procPeak = drawRate(body, p.parts, ly, PROC_RATE_H, x, clamp, 'rate proc');
				if (procPeak > 0)
					label.append(svg('tspan', {class: 'rate-label'}, `  peak ${rateText(procPeak)}/s`));
				ly += PROC_RATE_H + 4;
			}
			if (!procs.length) {
				body.append(svg('text', {x: PAD + 14, y: ly + 10, class: 'proc-label'}, 'no per-process counts in this snapshot'));
				ly += PROC_LABEL_H + 4;
			}
		}

		/* Triggers at their received time, and the LTTng event they located. */
		for (const snap of lane.snapshots)
			for (const t of (snap.summary && snap.summary.triggers) || []) {
				if (!fmt.nsSet(t.received_at_ns))
					continue;
				const mx = x(t.received_at_ns);
				if (mx < PAD || mx > W - PAD)
					continue;
				const title = `trigger ${t.source || '?'}: ${t.reason || ''}\nreceived ${fmt.time(t.received_at_ns)} UTC`;
				body.append(svg('a', {href: links.snapshot(snap.id), class: 'trigger-link'},
				    svg('line', {x1: mx, x2: mx, y1: HEAD_H, y2: ly, class: 'trigger-line'}),
				    svg('path', {d: `M${mx - 5},${winY - 3} L${mx + 5},${winY - 3} L${mx},${winY + 5} Z`,
					class: 'trigger'}, svg('title', null, title))));
				if (t.event && fmt.nsSet(t.event.ts_ns)) {
					const ex = x(t.event.ts_ns);
					if (ex >= PAD && ex <= W - PAD)
						body.append(svg('circle', {cx: ex, cy: winY + WIN_H / 2, r: 3.5, class: 'located'},
						    svg('title', null, `located LTTng event ${t.event.name} at ${fmt.time(t.event.ts_ns, true)} UTC`)));
				}
			}
		y += ly + LANE_GAP;
	}
	const H = y;
	root.setAttribute('height', H);
	root.setAttribute('viewBox', `0 0 ${W} ${H}`);
	for (const line of grid.children)
		line.setAttribute('y2', H - LANE_GAP);

	/* When the fleet was asked for a cluster snapshot. */
	if (model.clusterNs !== null && model.clusterNs !== undefined) {
		const cx = x(model.clusterNs);
		if (cx >= PAD && cx <= W - PAD) {
			const anchor = cx < W / 2 ? 'start' : 'end';
			root.append(svg('g', {class: 'cluster-mark'},
			    svg('line', {x1: cx, x2: cx, y1: 24, y2: H - LANE_GAP, class: 'cluster-line'}),
			    svg('text', {x: cx + (anchor === 'start' ? 4 : -4), y: 33, 'text-anchor': anchor, class: 'cluster-label'},
				`cluster snapshot requested ${fmt.time(model.clusterNs)}`),
			    svg('title', null, `cluster snapshot requested at ${fmt.time(model.clusterNs, true)} UTC`)));
		}
	}
	interact(root, model, W, H, from, spanNs, plotW, micro);
}

function drawRate(g, parts, top, height, x, clamp, cls) {
	let peak = 0;
	for (const p of parts) {
		const secs = Number(p.timeline.bucket_ns) / 1e9 || 1;
		for (const c of p.counts)
			peak = Math.max(peak, c / secs);
	}
	g.append(svg('rect', {x: clamp(-Infinity), y: top, width: clamp(Infinity) - clamp(-Infinity), height,
	    class: 'rate-bg'}));
	if (peak === 0) {
		g.append(svg('text', {x: clamp(-Infinity) + 4, y: top + height / 2 + 4, class: 'rate-label'}, 'no events'));
		return 0;
	}
	for (const p of parts) {
		const bucket = BigInt(fmt.ns(p.timeline.bucket_ns) || 1n);
		const start = fmt.ns(p.timeline.first_ns);
		const secs = Number(bucket) / 1e9;
		const base = top + height;
		let d = '';
		p.counts.forEach((c, i) => {
			const x0 = x(start + bucket * BigInt(i));
			const x1 = x(start + bucket * BigInt(i + 1));
			const yv = base - (c / secs) / peak * (height - 2);
			d += `${d ? 'L' : `M${x0.toFixed(1)},${base}L`}${x0.toFixed(1)},${yv.toFixed(1)}L${x1.toFixed(1)},${yv.toFixed(1)}`;
			if (i === p.counts.length - 1)
				d += `L${x1.toFixed(1)},${base}Z`;
		});
		if (d)
			g.append(svg('path', {d, class: cls}));
	}
	return peak;
}

function rateText(peak) {
	return peak >= 1e4 ? `${fmt.num(Math.round(peak / 1e3))}k` : fmt.num(peak);
}

/* Hover readout of the time under the pointer; drag to zoom; dblclick resets. */
function interact(root, model, W, H, from, spanNs, plotW, micro) {
	const cursor = svg('g', {class: 'cursor', visibility: 'hidden'},
	    svg('line', {x1: 0, x2: 0, y1: 22, y2: H - LANE_GAP}),
	    svg('rect', {x: 0, y: 1, width: 10, height: 15, class: 'cursor-bg'}),
	    svg('text', {x: 0, y: 12, 'text-anchor': 'middle'}, ''));
	const brush = svg('rect', {class: 'brush', x: 0, y: 22, width: 0, height: H - 22 - LANE_GAP, visibility: 'hidden'});
	root.append(brush, cursor);
	const [line, bg, text] = cursor.children;
	const at = (px) => from + BigInt(Math.round((px - PAD) / plotW * spanNs));
	const localX = (e) => {
		const box = root.getBoundingClientRect();
		return Math.max(PAD, Math.min(W - PAD, (e.clientX - box.left) * W / box.width));
	};
	let drag = null, dragged = false;
	root.addEventListener('pointermove', (e) => {
		const px = localX(e);
		cursor.setAttribute('visibility', 'visible');
		line.setAttribute('x1', px);
		line.setAttribute('x2', px);
		text.textContent = fmt.time(at(px), micro);
		const tw = text.getComputedTextLength() + 8;
		const cx = Math.max(tw / 2, Math.min(W - tw / 2, px));
		text.setAttribute('x', cx);
		bg.setAttribute('x', cx - tw / 2);
		bg.setAttribute('width', tw);
		if (drag !== null) {
			if (Math.abs(px - drag) > 4)
				dragged = true;
			brush.setAttribute('visibility', dragged ? 'visible' : 'hidden');
			brush.setAttribute('x', Math.min(px, drag));
			brush.setAttribute('width', Math.abs(px - drag));
		}
	});
	root.addEventListener('pointerleave', () => {
		cursor.setAttribute('visibility', 'hidden');
	});
	root.addEventListener('pointerdown', (e) => {
		if (e.button !== 0 || !model.onZoom)
			return;
		drag = localX(e);
		dragged = false;
	});
	root.addEventListener('pointerup', (e) => {
		if (drag === null)
			return;
		const start = drag;
		drag = null;
		brush.setAttribute('visibility', 'hidden');
		if (!dragged)
			return;
		const end = localX(e);
		if (Math.abs(end - start) > 4)
			model.onZoom({from: at(Math.min(start, end)), to: at(Math.max(start, end))});
	});
	/* A drag that ends on a bar is a zoom, not a click on its link. */
	root.addEventListener('click', (e) => {
		if (dragged) {
			e.preventDefault();
			e.stopPropagation();
			dragged = false;
		}
	}, true);
	root.addEventListener('dblclick', () => model.onZoom && model.onZoom(null));
}

/* The legend under a timeline, in HTML. */
export function legend({cluster = true} = {}) {
	const item = (cls, text) => h('span', {class: 'legend-item'}, h('span', {class: `swatch ${cls}`}), text);
	return h('p', {class: 'legend'},
	    item('window', 'snapshot window'), item('lost', 'history incomplete (ring overflowed)'),
	    item('rate', 'events/s'), item('ok', 'request'), item('s4', '4xx'), item('s5', '5xx'),
	    item('inflight', 'in flight at the snapshot'), item('triggered', 'triggered the snapshot'),
	    item('trigger', 'trigger received'), item('located', 'its LTTng event'),
	    cluster ? item('cluster', 'cluster snapshot requested') : null,
	    h('span', {class: 'legend-item muted'}, 'Times UTC. Drag to zoom, double-click to zoom out; click a lane’s name for its processes.'));
}

/* Draws now and again whenever the container's width changes. */
export function mountTimeline(container, getModel) {
	let width = 0;
	const draw = () => {
		width = container.clientWidth;
		drawTimeline(container, getModel());
	};
	draw();
	const observer = new ResizeObserver(() => {
		if (container.isConnected && container.clientWidth !== width)
			draw();
	});
	observer.observe(container);
	return {redraw: draw, disconnect: () => observer.disconnect()};
}
