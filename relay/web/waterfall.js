/*
 * waterfall.js: a request's drill-down. The events of its process (and of
 * its thread, when it began and ended on the same one) between its begin
 * and its end, one row per event, placed by their time since the begin.
 * Begin/end, entry/exit and start/end pairs of one thread draw as spans.
 */
import {h, replace, errorBox} from './dom.js';
import * as api from './api.js';
import * as fmt from './fmt.js';
import {statusCell, stateBadges} from './incident.js';

const LIMIT = 1000;

function fieldValue(v) {
	if (Array.isArray(v)) {
		const shown = v.slice(0, 8).map((x) => typeof x === 'object' ? JSON.stringify(x) : String(x));
		return `[${shown.join(', ')}${v.length > 8 ? `, … ${v.length} items` : ''}]`;
	}
	if (v !== null && typeof v === 'object')
		return JSON.stringify(v).slice(0, 300);
	if (typeof v === 'string')
		return JSON.stringify(v.length > 300 ? `${v.slice(0, 300)}…` : v);
	return String(v);
}

function fields(obj) {
	const entries = Object.entries(obj || {});
	if (!entries.length)
		return h('span', {class: 'muted'}, '–');
	return entries.map(([k, v]) => h('span', {class: 'field'}, h('span', {class: 'k'}, k, '='), fieldValue(v)));
}

/* "provider:event" is user space; the kernel's events have no provider. */
function isKernel(name) {
	return !String(name).includes(':');
}

/* For each event that closes a begin/entry/start, the offset it opened at. */
function pairs(events, beginNs) {
	const open = new Map();
	const spanStart = new Map();
	events.forEach((e, i) => {
		const name = String(e.name);
		const opening = name.match(/^(.*?)(begin|entry|start)(.*)$/);
		const closing = name.match(/^(.*?)(end|exit)(.*)$/);
		if (opening) {
			const key = `${e.vtid}\u0000${opening[1]}*${opening[3]}`;
			if (!open.has(key))
				open.set(key, []);
			open.get(key).push(i);
		} else if (closing) {
			const key = `${e.vtid}\u0000${closing[1]}*${closing[3]}`;
			let stack = open.get(key);
			/* A request may end on another thread than the one it began on. */
			if (!stack || !stack.length)
				stack = [...open.entries()].find(([k, v]) => v.length && k.endsWith(`\u0000${closing[1]}*${closing[3]}`))?.[1];
			if (stack && stack.length)
				spanStart.set(i, fmt.nsDiff(events[stack.pop()].ts_ns, beginNs));
		}
	});
	return spanStart;
}

export function findRequest(summary, requestId) {
	return ((summary && summary.requests) || []).find((r) => r.request_id === requestId) || null;
}

/* The drill-down section for one request of a snapshot's summary. */
export function drillDown(snapshotId, summary, requestId, closeHref) {
	const section = h('section', {class: 'panel drilldown', id: 'drilldown', 'data-request': requestId});
	const close = h('a', {href: closeHref, class: 'button subtle close', 'aria-label': 'Close the drill-down'}, 'Close ✕');
	const req = findRequest(summary, requestId);
	if (!req) {
		replace(section, h('div', {class: 'panel-head'}, h('h2', null, 'Request ', h('span', {class: 'mono'}, requestId)), close),
		    h('div', {class: 'notice warn'}, 'This snapshot’s summary does not list that request (it keeps the slowest, ' +
			'triggered and in-flight requests). ', h('code', null, `tracetrap events ${snapshotId} --request ${requestId}`),
			' searches the whole trace.'));
		return section;
	}
	const beginNs = fmt.ns(req.begin_ns);
	const endNs = fmt.nsSet(req.end_ns) ? fmt.ns(req.end_ns) :
	    fmt.ns(summary.span && (summary.span.end_ns || summary.span.last_ns)) ?? beginNs;
	const sameThread = req.begin_vtid === undefined || String(req.begin_vtid) === String(req.vtid);
	const query = {from: String(beginNs), to: String(endNs), vpid: req.vpid, limit: LIMIT};
	if (sameThread)
		query.vtid = req.vtid;
	const body = h('div', {class: 'waterfall-body'}, h('p', {class: 'loading'}, 'Loading the request’s events…'));
	const thread = sameThread ? `thread ${req.vtid}` : `began on thread ${req.begin_vtid}, ended on ${req.vtid}`;
	replace(section,
	    h('div', {class: 'panel-head'},
		h('h2', null, h('span', {class: 'method'}, req.method || '?'), ' ', h('span', {class: 'uri'}, req.uri || '(none)')),
		close),
	    h('p', {class: 'drill-meta'},
		req.in_flight ? h('span', {class: 'badge flight'}, 'in flight') : statusCell(req), ' ',
		h('strong', null, req.in_flight ? `running for ${fmt.duration(req.duration_us)} at the snapshot` : fmt.duration(req.duration_us)),
		' · ', req.vhost ? [h('span', {class: 'vhost'}, req.vhost), ' · '] : '',
		`pid ${req.vpid} · ${thread} · ${fmt.time(beginNs, true)} → ${fmt.time(endNs, true)} UTC `, stateBadges(req)),
	    body,
	    h('p', {class: 'hint muted'}, 'The same from a shell: ',
		h('code', null, `tracetrap events ${snapshotId} --request ${requestId} --relay ${location.origin}`)));
	load(body, snapshotId, query, req, beginNs, endNs);
	return section;
}

async function load(body, snapshotId, query, req, beginNs, endNs) {
	let result;
	try {
		result = await api.get(api.paths.events(snapshotId), query);
	} catch (error) {
		replace(body, errorBox(error, 'The request’s events'));
		return;
	}
	const events = Array.isArray(result.events) ? result.events : [];
	const total = Math.max(1, fmt.nsDiff(endNs, beginNs));
	const spans = pairs(events, beginNs);
	const pct = (off) => `${Math.max(0, Math.min(100, off / total * 100)).toFixed(3)}%`;
	const rows = events.map((e, i) => {
		const off = fmt.nsDiff(e.ts_ns, beginNs);
		const track = h('div', {class: 'track'});
		if (spans.has(i)) {
			const bar = h('div', {class: 'span'});
			bar.style.left = pct(spans.get(i));
			bar.style.width = `calc(${pct(off - spans.get(i))} + 1px)`;
			bar.title = `${fmt.offset(off - spans.get(i))} long`;
			track.append(bar);
		}
		const mark = h('div', {class: 'mark'});
		mark.style.left = pct(off);
		track.append(mark);
		const kernel = isKernel(e.name);
		/* With only the process to filter on, other requests' events show up too: dim them. */
		const rid = e.fields && e.fields.request_id;
		const other = rid !== undefined && rid !== null && String(rid) !== String(req.request_id);
		return h('tr', {'data-event': e.name, 'data-offset-ns': String(off),
		    class: [kernel ? 'kernel' : '', other ? 'other' : ''].join(' ').trim() || null},
		    h('td', {class: 'offset num mono'}, fmt.offset(off)),
		    h('td', {class: 'track-cell'}, track),
		    h('td', {class: 'event-name'}, e.name, kernel ? h('span', {class: 'chip kernel'}, 'kernel') : null,
			other ? h('span', {class: 'chip other', title: 'an event of another request'}, 'other request') : null),
		    h('td', {class: 'thread num'}, String(e.vtid ?? '–'), h('div', {class: 'sub'}, `cpu ${e.cpu ?? '?'}`)),
		    h('td', {class: 'fields'}, fields(e.fields)));
	});
	const scale = h('div', {class: 'scale'}, h('span', null, '+0'), h('span', null, fmt.offset(total)));
	const out = [h('div', {class: 'table-wrap'},
	    h('table', {class: 'waterfall'},
		h('thead', null, h('tr', null, h('th', {class: 'num'}, 'Offset'), h('th', {class: 'track-cell'}, scale),
		    h('th', null, 'Event'), h('th', {class: 'num'}, 'Thread'), h('th', null, 'Fields'))),
		h('tbody', null, rows.length ? rows : h('tr', null, h('td', {colspan: 5, class: 'empty'},
		    'No event of this request in the trace (its begin may be older than the recorded history).')))))];
	const notes = [`${fmt.plural(events.length, 'event')} between the begin and the ${req.in_flight ? 'snapshot' : 'end'}`];
	if (result.truncated)
		notes.push(`only the first ${fmt.num(LIMIT)} are shown`);
	if (result.seek)
		notes.push(result.seek === 'packets' ? `read ${fmt.bytes(result.packets_bytes)} of packets through the index` :
		    'read the whole trace (no packet index)');
	out.unshift(h('p', {class: `muted${result.truncated ? ' warn-text' : ''}`}, `${notes.join('; ')}.`));
	replace(body, ...out);
}
