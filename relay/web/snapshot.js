/*
 * snapshot.js: the page at /snapshots/<id>: one snapshot's summary.
 * Header, warnings, its timeline lane, triggers (with the LTTng event or
 * the request they name), requests (a click opens the drill-down, kept in
 * the URL as ?request=<id>), per-URI latencies, statuses, processes,
 * events by name, the kernel's on-CPU threads, streams.
 */
import {h, replace} from './dom.js';
import * as api from './api.js';
import * as fmt from './fmt.js';
import {table, readSort} from './table.js';
import {snapshotWarnings, warningList} from './warnings.js';
import {extent, mountTimeline, legend} from './timeline.js';
import {requestColumns} from './incident.js';
import {drillDown} from './waterfall.js';

const PENDING_RETRY_MS = 3000;

function fact(label, ...value) {
	return h('div', {class: 'fact'}, h('dt', null, label), h('dd', null, ...value));
}

function section(id, title, ...content) {
	return h('section', {class: 'panel', id}, h('div', {class: 'panel-head'}, h('h2', null, title)), ...content);
}

/* A number with a bar showing its share of the largest. */
function barCell(value, max) {
	const bar = h('span', {class: 'bar'});
	bar.style.width = `${max > 0 ? Math.max(1, Number(value) / max * 100) : 0}%`;
	return h('span', {class: 'bar-cell'}, h('span', {class: 'bar-track'}, bar), h('span', {class: 'bar-num'}, fmt.num(value)));
}

function setParams(change, push = false) {
	const params = new URLSearchParams(location.search);
	for (const [key, value] of Object.entries(change)) {
		params.delete(key);
		if (value !== null && value !== undefined)
			params.set(key, value);
	}
	const s = params.toString();
	history[push ? 'pushState' : 'replaceState'](null, '', `${location.pathname}${s ? `?${s}` : ''}`);
}

function header(id, s) {
	const span = s.span || {};
	const end = span.end_ns || span.last_ns;
	/* taken_at is RFC 3339 text; shown as the relay wrote it, in the pages' form. */
	const taken = typeof s.taken_at === 'string' ? s.taken_at.replace('T', ' ').replace(/Z$/, ' UTC') : '';
	return [
	    h('nav', {class: 'crumbs'}, h('a', {href: '/'}, 'Incidents'), ' / ',
		s.incident && s.incident !== id ? [h('a', {href: api.links.incident(s.incident), class: 'id'}, s.incident), ' / '] : '',
		h('span', {class: 'id'}, id)),
	    h('div', {class: 'page-head'},
		h('h1', null, s.node ? h('span', {class: 'node-name'}, s.node) : 'Snapshot', ' ',
		    h('span', {class: 'h-time'}, taken)),
		h('p', {class: 'id-line'}, h('span', {class: 'id'}, id),
		    s.incident === id ? [' · ', h('a', {href: api.links.incident(id)}, 'incident view')] : '')),
	    h('dl', {class: 'facts'},
		fact('Span', fmt.nsSet(span.first_ns) ? `${fmt.time(span.first_ns)} → ${fmt.time(end)}` : '–',
		    fmt.nsSet(span.first_ns) ? h('span', {class: 'muted'}, ` (${fmt.durationNs(fmt.nsDiff(end, span.first_ns))})`) : ''),
		fact('Events', fmt.num(s.events),
		    Number(s.discarded_events) > 0 ? h('span', {class: 'err'}, ` · ${fmt.num(s.discarded_events)} discarded`) : ''),
		fact('Trace size', fmt.bytes(s.trace_bytes)),
		fact('Requests', fmt.num(s.requests_total), Number(s.requests_in_flight) > 0 ?
		    h('span', {class: 'muted'}, ` · ${fmt.num(s.requests_in_flight)} in flight`) : ''),
		fact('History', s.history && s.history.overflowed === true ?
		    h('span', {class: 'warn-text'}, `complete from ${fmt.time(s.history.complete_since_ns)}`) :
		    s.history && s.history.overflowed === false ? 'complete' : 'unknown'),
		fact('Analyzer', `v${s.analyzer_version ?? '?'}`, s.cpu_ms !== undefined ? ` · ${fmt.num(s.cpu_ms)} ms CPU` : '',
		    s.analyzed_at ? h('span', {class: 'muted'}, ` · ${s.analyzed_at}`) : '')),
	];
}

function triggers(id, s, openRequest) {
	const list = Array.isArray(s.triggers) ? s.triggers : [];
	if (!list.length)
		return null;
	return section('triggers', 'Triggers', h('ul', {class: 'triggers'}, list.map((t) => {
		const labels = Object.entries(t.labels || {});
		const ev = t.event;
		return h('li', null,
		    h('div', {class: 'trigger-head'},
			h('span', {class: 'chip source'}, t.source || '?'), ' ',
			h('span', {class: 'reason'}, t.reason || '(no reason given)'),
			h('span', {class: 'muted'}, ` · ${t.scope || '?'} · received ${fmt.time(t.received_at_ns, true)} UTC`),
			t.after_freeze ? h('span', {class: 'badge warn', title: 'it arrived after the ring buffers were frozen for this snapshot'}, 'after freeze') : null),
		    labels.length ? h('div', {class: 'labels'}, labels.map(([k, v]) =>
			h('span', {class: 'field'}, h('span', {class: 'k'}, k, '='), typeof v === 'string' ? v : JSON.stringify(v)))) : null,
		    t.request_id !== undefined ? h('div', null, 'Names request ', h('span', {class: 'mono'}, t.request_id), ': ',
			t.request_found ? openRequest(t.request_id, 'open its drill-down') :
			    h('span', {class: 'warn-text'}, 'not found in the trace (it may have begun before the history)')) : null,
		    ev ? h('div', {class: 'located-event'}, 'Located LTTng event ', h('strong', null, ev.name), ` at ${fmt.time(ev.ts_ns, true)} UTC`,
			h('span', {class: 'muted'}, ` · ${ev.procname || '?'} pid ${ev.vpid} tid ${ev.vtid} cpu ${ev.cpu}`),
			h('div', {class: 'labels'}, Object.entries(ev.fields || {}).map(([k, v]) =>
			    h('span', {class: 'field'}, h('span', {class: 'k'}, k, '='), typeof v === 'string' ? v : JSON.stringify(v))))) :
			t.source === 'lttng' ? h('div', {class: 'muted'}, t.event_note || 'The event that fired it was not found in the trace.') : null);
	})));
}

const uriColumns = [
	{key: 'uri', label: 'URI', className: 'uri', sort: (u) => u.uri || '', cell: (u) => u.uri || '(none)'},
	{key: 'count', label: 'Count', num: true, firstOrder: 'desc', sort: (u) => Number(u.count), cell: (u) => fmt.num(u.count)},
	{key: 'errors', label: 'Errors', num: true, firstOrder: 'desc', sort: (u) => Number(u.errors),
	    cell: (u) => Number(u.errors) > 0 ? h('span', {class: 'err'}, fmt.num(u.errors)) : '0'},
	{key: 'p50', label: 'p50', num: true, firstOrder: 'desc', sort: (u) => Number(u.p50_us), cell: (u) => fmt.duration(u.p50_us)},
	{key: 'p99', label: 'p99', num: true, firstOrder: 'desc', sort: (u) => Number(u.p99_us), cell: (u) => fmt.duration(u.p99_us)},
	{key: 'max', label: 'Max', num: true, firstOrder: 'desc', sort: (u) => Number(u.max_us), cell: (u) => fmt.duration(u.max_us)},
];

function statuses(s) {
	const entries = Object.entries(s.status_counts || {}).sort(([a], [b]) => a.localeCompare(b));
	const max = Math.max(0, ...entries.map(([, n]) => Number(n)));
	return section('statuses', 'Statuses', entries.length ? table([
		{key: 'status', label: 'Status', cell: ([k]) => h('span', {class: Number(k) >= 500 ? 'status s5' : Number(k) >= 400 ? 'status s4' : 'status'}, k)},
		{key: 'n', label: 'Requests', cell: ([, n]) => barCell(n, max)},
	], entries, {className: 'compact'}) : h('p', {class: 'muted'}, 'No completed request.'));
}

function processes(s) {
	const list = Array.isArray(s.by_process) ? s.by_process : [];
	const max = Math.max(0, ...list.map((p) => Number(p.events)));
	return section('processes', 'Processes', table([
		{key: 'procname', label: 'Process', cell: (p) => p.procname || '?'},
		{key: 'vpid', label: 'PID', num: true, cell: (p) => String(p.vpid)},
		{key: 'events', label: 'Events', cell: (p) => barCell(p.events, max)},
	], list, {className: 'compact', empty: 'No process.'}),
	    Number(s.processes_total) > list.length ? h('p', {class: 'muted'}, `${fmt.num(s.processes_total)} processes in all; the busiest are listed.`) : null);
}

function byName(s) {
	const entries = Object.entries(s.by_name || {}).sort(([, a], [, b]) => Number(b) - Number(a));
	const max = Math.max(0, ...entries.map(([, n]) => Number(n)));
	return section('by-name', 'Events by name', table([
		{key: 'name', label: 'Event', className: 'event-name', cell: ([k]) => k},
		{key: 'n', label: 'Count', cell: ([, n]) => barCell(n, max)},
	], entries, {className: 'compact', empty: 'No event.'}));
}

function kernel(s) {
	const k = s.kernel || {};
	if (!k.present)
		return section('kernel', 'Kernel: on-CPU threads', h('p', {class: 'muted'}, k.reason || 'No kernel trace in this snapshot.'));
	const threads = Array.isArray(k.threads) ? k.threads : [];
	const span = fmt.nsSet(s.span && s.span.first_ns) ? fmt.nsDiff(s.span.end_ns || s.span.last_ns, s.span.first_ns) : 0;
	const max = Math.max(0, ...threads.map((t) => Number(t.oncpu_ns)));
	return section('kernel', 'Kernel: on-CPU threads',
	    h('p', {class: 'muted'}, `${fmt.plural(k.events, 'kernel event')} · ${fmt.plural(k.sched_switches, 'context switch', 'context switches')} · ` +
		`idle ${fmt.durationNs(k.idle_ns)} · ${fmt.plural(k.threads_total, 'thread')}`),
	    table([
		{key: 'comm', label: 'Thread', cell: (t) => t.comm || '?'},
		{key: 'tid', label: 'TID', num: true, cell: (t) => String(t.tid)},
		{key: 'oncpu', label: 'On CPU', cell: (t) => {
			const cell = barCell(0, 0);
			cell.querySelector('.bar').style.width = `${max > 0 ? Math.max(1, Number(t.oncpu_ns) / max * 100) : 0}%`;
			cell.querySelector('.bar-num').textContent = fmt.durationNs(t.oncpu_ns) +
			    (span > 0 ? ` (${(Number(t.oncpu_ns) / span * 100).toFixed(1)}%)` : '');
			return cell;
		}},
		{key: 'switches', label: 'Switched in', num: true, cell: (t) => fmt.num(t.switches_in)},
	    ], threads, {className: 'compact', empty: 'No thread ran.'}));
}

function streams(s) {
	const list = Array.isArray(s.streams) ? s.streams : [];
	if (!list.length)
		return null;
	return h('details', {class: 'panel', id: 'streams'}, h('summary', null, h('h2', null, `Streams (${list.length})`)),
	    table([
		{key: 'file', label: 'Stream', cell: (x) => h('span', {class: 'mono'}, x.file)},
		{key: 'domain', label: 'Domain', cell: (x) => x.domain},
		{key: 'cpu', label: 'CPU', num: true, cell: (x) => String(x.cpu)},
		{key: 'events', label: 'Events', num: true, cell: (x) => fmt.num(x.events)},
		{key: 'first', label: 'First (UTC)', cell: (x) => fmt.nsSet(x.first_ns) ? fmt.time(x.first_ns, true) : '–'},
		{key: 'last', label: 'Last (UTC)', cell: (x) => fmt.nsSet(x.last_ns) ? fmt.time(x.last_ns, true) : '–'},
		{key: 'packets', label: 'Packets', num: true, cell: (x) => fmt.num(x.packets)},
		{key: 'over', label: 'Overwritten', num: true, cell: (x) => Number(x.overwritten_packets) > 0 ?
		    h('span', {class: 'warn-text'}, fmt.num(x.overwritten_packets)) : '0'},
		{key: 'disc', label: 'Discarded ev.', num: true, cell: (x) => fmt.num(x.discarded_events)},
	    ], list, {className: 'compact'}));
}

async function summaryOf(main, id) {
	for (;;) {
		try {
			return await api.get(api.paths.summary(id));
		} catch (error) {
			if (error.status !== 503 || error.code !== 'pending')
				throw error;
			replace(main, h('nav', {class: 'crumbs'}, h('a', {href: '/'}, 'Incidents'), ' / ', h('span', {class: 'id'}, id)),
			    h('div', {class: 'notice info'}, h('strong', null, 'Analysis pending. '), error.message,
				' This page shows the summary as soon as it is ready.'));
			await new Promise((resolve) => setTimeout(resolve, PENDING_RETRY_MS));
		}
	}
}

export async function render(main, id) {
	const s = await summaryOf(main, id);
	document.title = `${s.node ? `${s.node} · ` : ''}${id} · tracetrap`;
	const node = s.node || 'this node';
	const warnings = snapshotWarnings(s, s.error ? 'failed' : 'done');
	const drillSlot = h('div', {class: 'drill-slot'});
	const closeHref = () => {
		const params = new URLSearchParams(location.search);
		params.delete('request');
		const q = params.toString();
		return `${location.pathname}${q ? `?${q}` : ''}`;
	};
	const showDrill = () => {
		const rid = new URLSearchParams(location.search).get('request');
		if (rid === null) {
			replace(drillSlot);
			return;
		}
		replace(drillSlot, drillDown(id, s, rid, closeHref()));
	};
	const openRequest = (rid, text) => h('a', {href: api.links.snapshot(id, rid), class: 'open-request'}, text);

	/* Requests of this snapshot, slowest first unless sorted otherwise. */
	const rows = ((s.requests) || []).map((req) => ({node: s.node, snapshot: id, req}));
	const columns = requestColumns.filter((c) => c.key !== 'node');
	const requests = h('section', {class: 'panel', id: 'requests'});
	const uris = h('section', {class: 'panel', id: 'uris'});
	const drawTables = () => {
		const params = new URLSearchParams(location.search);
		const {sort, order} = readSort(params, columns, 'duration', 'desc');
		replace(requests, h('div', {class: 'panel-head'}, h('h2', null, 'Requests'),
		    h('span', {class: 'muted'}, `${fmt.num(rows.length)} listed of ${fmt.num(s.requests_total)} completed` +
			(Number(s.requests_in_flight) ? ` + ${fmt.num(s.requests_in_flight)} in flight` : ''))),
		    table(columns, rows, {sort, order, className: 'requests',
			onSort(key, dir) { setParams({sort: key, order: dir}); drawTables(); },
			rowAttrs: (r) => ({class: `clickable${r.req.triggered ? ' is-triggered' : ''}`, 'data-request': r.req.request_id,
			    'data-snapshot': id, 'data-duration-us': String(r.req.duration_us)}),
			empty: 'No HTTP request seen in this snapshot.'}),
		    h('p', {class: 'hint muted'}, 'Click a request for its events.'));
		const us = readSort(params, uriColumns, 'p99', 'desc', 'uri_');
		replace(uris, h('div', {class: 'panel-head'}, h('h2', null, 'Per URI')),
		    table(uriColumns, s.uris || [], {sort: us.sort, order: us.order, className: 'uris',
			onSort(key, dir) { setParams({uri_sort: key, uri_order: dir}); drawTables(); },
			empty: 'No completed request.'}));
	};
	drawTables();

	/* One lane, its processes open. */
	const lanes = [{node: s.node || id, snapshots: [{id, summary: s, analysis: s.error ? 'failed' : 'done'}], warnings}];
	const full = extent(lanes, null);
	const expanded = new Set([lanes[0].node]);
	const chart = h('div', {class: 'timeline-box'});
	let mounted = null;
	let view = full;
	const model = {lanes, clusterNs: null, expanded, get view() { return view; },
		onToggle(n) { if (expanded.has(n)) expanded.delete(n); else expanded.add(n); mounted.redraw(); },
		onZoom(range) { view = range && range.to - range.from > 1000n ? range : full; mounted.redraw(); }};

	const footLinks = h('p', {class: 'muted foot-links'}, h('a', {href: api.links.archive(id), download: `${id}.tar`}, 'Archive (.tar)'), ' · ',
	    h('a', {href: api.links.manifest(id)}, 'manifest.json'), ' · ', h('a', {href: api.links.summary(id)}, 'summary.json'));
	const warningPanel = warnings.length ? h('section', {class: 'panel', id: 'warnings'}, h('h2', null, 'Before you trust this trace'),
	    warningList(warnings.map((w) => ({w, prefix: null})))) : null;
	/* An unreadable trace has nothing to tabulate; the triggers still tell why it was taken. */
	if (s.error && !(s.span && fmt.nsSet(s.span.first_ns))) {
		replace(main, header(id, s), warningPanel, triggers(id, s, openRequest), footLinks);
		return;
	}
	replace(main, header(id, s),
	    warningPanel,
	    drillSlot,
	    full ? section('timeline', `Timeline of ${node}`, chart, legend({cluster: false})) : null,
	    triggers(id, s, openRequest),
	    requests, uris,
	    h('div', {class: 'grid2'}, statuses(s), processes(s), byName(s)),
	    kernel(s),
	    streams(s), footLinks);
	if (full)
		mounted = mountTimeline(chart, () => model);
	showDrill();

	/* Opening a request of this snapshot stays on the page: the URL changes, the drill-down opens. */
	main.addEventListener('click', (event) => {
		if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
			return;
		const a = event.target.closest('a[href]');
		const tr = event.target.closest('tr[data-request]');
		let target = null;
		if (a) {
			const url = new URL(a.href, location.href);
			if (url.origin === location.origin && url.pathname === location.pathname)
				target = url.searchParams.get('request') ?? '';
			else
				return;
		} else if (tr && !String(getSelection()).length) {
			target = tr.dataset.request;
		}
		if (target === null)
			return;
		event.preventDefault();
		setParams({request: target === '' ? null : target}, true);
		showDrill();
		if (target !== '')
			drillSlot.scrollIntoView({block: 'start'});
	});
	window.addEventListener('popstate', () => { showDrill(); drawTables(); });
}
