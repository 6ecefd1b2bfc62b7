/*
 * incident.js: the page at /incidents/<id>. What happened across the
 * nodes: a timeline with a lane per node, each node's warnings, the
 * requests of all nodes in one table (sort in the URL: ?sort=&order=),
 * and how to get the traces (archive links, `tracetrap fetch`, Trace
 * Compass). Timeline state also lives in the URL: ?open=<node> (repeated)
 * for lanes showing their processes, ?from=&to= (UTC ns) for a zoom.
 */
import {h, replace, errorBox} from './dom.js';
import * as api from './api.js';
import * as fmt from './fmt.js';
import {table, readSort} from './table.js';
import {snapshotWarnings, warningList} from './warnings.js';
import {extent, mountTimeline, legend, requestTitle} from './timeline.js';

/* Rows drawn at first: a 50-node incident lists thousands. */
const REQUESTS_SHOWN = 100;

export const requestColumns = [
	{key: 'node', label: 'Node', sort: (r) => r.node, cell: (r) => h('span', {class: 'chip node'}, r.node)},
	{key: 'duration', label: 'Duration', num: true, firstOrder: 'desc', sort: (r) => Number(r.req.duration_us),
	    cell: (r) => h('span', {class: 'duration', title: r.req.in_flight ? 'still running when the snapshot was taken' : null},
		fmt.duration(r.req.duration_us), r.req.in_flight ? '+' : '')},
	{key: 'status', label: 'Status', num: true, sort: (r) => r.req.in_flight ? null : Number(r.req.status),
	    cell: (r) => statusCell(r.req)},
	{key: 'method', label: 'Method', sort: (r) => r.req.method || '', cell: (r) => r.req.method || '–'},
	{key: 'uri', label: 'URI', className: 'uri', sort: (r) => r.req.uri || '',
	    cell: (r) => h('a', {href: api.links.snapshot(r.snapshot, r.req.request_id), title: requestTitle(r.req)},
		r.req.uri || '(none)')},
	{key: 'vhost', label: 'Vhost', className: 'vhost', sort: (r) => r.req.vhost || '', cell: (r) => h('span', {title: r.req.vhost || null}, r.req.vhost || '–')},
	{key: 'begin', label: 'Begin (UTC)', firstOrder: 'asc', sort: (r) => fmt.ns(r.req.begin_ns),
	    cell: (r) => h('span', {class: 'mono'}, fmt.time(r.req.begin_ns))},
	{key: 'state', label: 'Triggered / in flight', firstOrder: 'desc',
	    sort: (r) => (r.req.triggered ? 2 : 0) + (r.req.in_flight ? 1 : 0), cell: (r) => stateBadges(r.req)},
];

export function statusCell(req) {
	if (req.in_flight)
		return h('span', {class: 'muted'}, '–');
	const s = Number(req.status);
	return h('span', {class: s >= 500 ? 'status s5' : s >= 400 ? 'status s4' : 'status'}, String(req.status));
}

export function stateBadges(req) {
	return h('span', {class: 'badges'},
	    req.triggered ? h('span', {class: 'badge trig', title: 'this request fired the trigger'}, 'triggered') : null,
	    req.in_flight ? h('span', {class: 'badge flight', title: 'still running when the snapshot was taken'}, 'in flight') : null);
}

function lanesOf(incident) {
	const byNode = new Map();
	for (const snap of incident.snapshots || []) {
		if (!byNode.has(snap.node))
			byNode.set(snap.node, {node: snap.node, snapshots: [], warnings: []});
		const lane = byNode.get(snap.node);
		lane.snapshots.push(snap);
		lane.warnings.push(...snapshotWarnings(snap.summary, snap.analysis));
	}
	return [...byNode.values()].sort((a, b) => String(a.node).localeCompare(String(b.node), 'en'));
}

function setParams(change) {
	const params = new URLSearchParams(location.search);
	for (const [key, value] of Object.entries(change)) {
		params.delete(key);
		for (const v of [].concat(value ?? []))
			params.append(key, v);
	}
	const s = params.toString();
	history.replaceState(null, '', `${location.pathname}${s ? `?${s}` : ''}${location.hash}`);
}

function fact(label, ...value) {
	return h('div', {class: 'fact'}, h('dt', null, label), h('dd', null, ...value));
}

function wideFact(label, ...value) {
	const f = fact(label, ...value);
	f.classList.add('wide');
	return f;
}

function header(incident, lanes) {
	const firstNs = fmt.usToNs(incident.first_taken_at_us) ?? fmt.isoToNs(incident.first_taken_at);
	const lastNs = fmt.usToNs(incident.last_taken_at_us) ?? fmt.isoToNs(incident.last_taken_at);
	const c = incident.cluster;
	const clusterNs = c ? fmt.usToNs(c.requested_at_us) : null;
	return [
	    h('nav', {class: 'crumbs'}, h('a', {href: '/'}, 'Incidents'), ' / ', h('span', {class: 'id'}, incident.id)),
	    h('div', {class: 'page-head'},
		h('h1', null, c ? 'Cluster incident' : 'Snapshot incident', ' ',
		    h('span', {class: 'h-time'}, `${fmt.day(firstNs)} ${fmt.time(firstNs)} UTC`)),
		h('p', {class: 'id-line'}, h('span', {class: 'id'}, incident.id))),
	    h('dl', {class: 'facts'},
		fact('Nodes', h('span', {class: 'chips'}, lanes.map((l) => h('span', {class: 'chip node'}, l.node)))),
		fact('Taken', fmt.time(firstNs), fmt.nsSet(lastNs) && lastNs !== firstNs ? ` → ${fmt.time(lastNs)}` : ''),
		fact('Snapshots', `${fmt.num(incident.snapshots && incident.snapshots.length)} · ${fmt.bytes(incident.bytes)}`),
		fact('Requests', Number(incident.analyzed) === 0 && !Number(incident.requests) ? '–' : fmt.num(incident.requests),
		    Number(incident.errors) > 0 ? h('span', {class: 'err'}, ` · ${fmt.plural(incident.errors, 'error')}`) : ''),
		fact('Slowest', incident.slowest_us === null || incident.slowest_us === undefined ? '–' : fmt.duration(incident.slowest_us)),
		fact('Sources', h('span', {class: 'chips'}, (incident.sources || []).map((s) => h('span', {class: 'chip source'}, s)))),
		c ? fact('Cluster request', `${fmt.time(clusterNs)} UTC by `, h('strong', null, c.requested_by || '?'),
		    c.origin_source ? [' via ', h('span', {class: 'chip source'}, c.origin_source)] : '') : null,
		wideFact('Reasons', h('ul', {class: 'reasons'}, [...new Set([...(incident.reasons || []), ...(c && c.reason ? [c.reason] : [])])]
		    .map((r) => h('li', {class: 'reason'}, r))))),
	];
}

function copyButton(code) {
	const button = h('button', {type: 'button', class: 'copy'}, 'Copy');
	button.addEventListener('click', async () => {
		let ok = false;
		try {
			await navigator.clipboard.writeText(code.textContent);
			ok = true;
		} catch {
			/* Not a secure context: select the text, let the browser copy it. */
			const range = document.createRange();
			range.selectNodeContents(code);
			getSelection().removeAllRanges();
			getSelection().addRange(range);
			ok = document.execCommand && document.execCommand('copy');
		}
		button.textContent = ok ? 'Copied' : 'Selected: press Ctrl+C';
		setTimeout(() => { button.textContent = 'Copy'; }, 2000);
	});
	return button;
}

/* Opened from the start when there are few snapshots to list. */
const DOWNLOADS_OPEN = 10;

export function downloads(snapshots) {
	return h('details', {class: 'panel', id: 'downloads', open: snapshots.length <= DOWNLOADS_OPEN},
	    h('summary', null, h('h2', null, 'Get the traces'),
		snapshots.length > DOWNLOADS_OPEN ? h('span', {class: 'muted'}, ` · ${fmt.num(snapshots.length)} snapshots`) : null),
	    h('ul', {class: 'downloads'}, snapshots.map((snap) => {
		const code = h('code', null, `tracetrap fetch ${snap.id} --relay ${location.origin}`);
		return h('li', {'data-snapshot': snap.id},
		    h('div', {class: 'dl-head'},
			h('span', {class: 'chip node'}, snap.node), ' ',
			h('a', {href: api.links.snapshot(snap.id), class: 'id'}, snap.id),
			h('span', {class: 'muted'}, ` · taken ${fmt.time(fmt.usToNs(snap.taken_at_us) ?? fmt.isoToNs(snap.taken_at))} · ${fmt.bytes(snap.bytes)} · analysis ${snap.analysis || '?'}`)),
		    h('div', {class: 'dl-links'},
			h('a', {href: api.links.archive(snap.id), class: 'button', download: `${snap.id}.tar`}, 'Archive (.tar)'),
			h('a', {href: api.links.manifest(snap.id), class: 'button subtle'}, 'manifest.json'),
			snap.analysis === 'done' ? h('a', {href: api.links.summary(snap.id), class: 'button subtle'}, 'summary.json') : null),
		    h('div', {class: 'command'}, code, copyButton(code)));
	    })),
	    h('p', {class: 'howto'}, h('strong', null, 'Trace Compass: '),
		'File › Open Trace…, then select the folder under the fetched snapshot’s ', h('code', null, 'trace/'),
		' directory that holds ', h('code', null, 'metadata'), ' (one per tracing domain). ',
		'The command above needs ', h('code', null, 'TRACETRAP_RELAY_TOKEN'), ' set when this relay asks for a token.'));
}

export async function render(main, id) {
	performance.mark('tt:fetch');
	const incident = await api.get(api.paths.incident(id));
	performance.mark('tt:data');
	document.title = `${incident.id} · tracetrap`;
	const lanes = lanesOf(incident);
	const clusterNs = incident.cluster ? fmt.usToNs(incident.cluster.requested_at_us) : null;
	const full = extent(lanes, clusterNs);
	const params = new URLSearchParams(location.search);
	const expanded = new Set(params.getAll('open'));

	/* Warnings, node by node. */
	const warned = lanes.flatMap((l) => l.warnings.map((w) => ({w, prefix: l.node})));
	const warnings = warned.length ? h('section', {class: 'panel', id: 'warnings'},
	    h('h2', null, 'Before you trust these traces'), warningList(warned)) : null;

	/* The timeline. */
	const chart = h('div', {class: 'timeline-box'});
	const zoomInfo = h('span', {class: 'zoom-info'});
	const timeline = h('section', {class: 'panel', id: 'timeline'},
	    h('div', {class: 'panel-head'}, h('h2', null, 'Timeline'), zoomInfo), chart, legend({cluster: clusterNs !== null}));
	let view = full;
	const zoomFrom = fmt.ns(params.get('from')), zoomTo = fmt.ns(params.get('to'));
	if (full && zoomFrom !== null && zoomTo !== null && zoomTo > zoomFrom)
		view = {from: zoomFrom, to: zoomTo};
	let mounted = null;
	const showZoom = () => {
		if (view === full) {
			replace(zoomInfo);
			return;
		}
		const reset = h('button', {type: 'button', class: 'subtle'}, 'Reset zoom');
		reset.addEventListener('click', () => model.onZoom(null));
		replace(zoomInfo, `${fmt.time(view.from, true)} → ${fmt.time(view.to, true)} (${fmt.durationNs(view.to - view.from)}) `, reset);
	};
	const model = {
		lanes, clusterNs, expanded,
		get view() { return view; },
		onToggle(node) {
			if (expanded.has(node))
				expanded.delete(node);
			else
				expanded.add(node);
			setParams({open: [...expanded]});
			mounted.redraw();
		},
		onZoom(range) {
			view = range && range.to - range.from > 1000n ? range : full;
			setParams(view === full ? {from: null, to: null} : {from: String(view.from), to: String(view.to)});
			showZoom();
			mounted.redraw();
		},
	};

	/* All requests of all nodes. */
	const rows = [];
	for (const snap of incident.snapshots || [])
		for (const req of (snap.summary && snap.summary.requests) || [])
			rows.push({node: snap.node, snapshot: snap.id, req});
	const requests = h('section', {class: 'panel', id: 'requests'});
	let shown = REQUESTS_SHOWN;
	const drawRequests = () => {
		const {sort, order} = readSort(new URLSearchParams(location.search), requestColumns, 'duration', 'desc');
		const total = (incident.snapshots || []).reduce((n, s) => n + Number((s.summary && s.summary.requests_total) || 0), 0);
		const omitted = (incident.snapshots || []).reduce((n, s) => n + Number((s.summary && s.summary.requests_omitted) || 0), 0);
		const t = table(requestColumns, rows, {
			sort, order, className: 'requests',
			onSort(key, dir) {
				setParams({sort: key, order: dir});
				shown = REQUESTS_SHOWN;
				drawRequests();
			},
			limit: shown,
			onMore(count) {
				shown = count;
				drawRequests();
			},
			rowAttrs: (r) => ({class: `clickable${r.req.triggered ? ' is-triggered' : ''}`,
			    'data-request': r.req.request_id, 'data-snapshot': r.snapshot,
			    'data-duration-us': String(r.req.duration_us)}),
			empty: 'No HTTP request in these snapshots (the nodes ran no traced web server, or none was seen).',
		});
		t.addEventListener('click', (event) => {
			const tr = event.target.closest('tr[data-request]');
			if (!tr || event.target.closest('a') || String(getSelection()).length)
				return;
			location.assign(api.links.snapshot(tr.dataset.snapshot, tr.dataset.request));
		});
		replace(requests, h('div', {class: 'panel-head'}, h('h2', null, 'Requests'),
		    h('span', {class: 'muted'}, `${fmt.num(rows.length)} listed (slowest, triggered and in flight of each node) ` +
			`of ${fmt.num(total)} completed${omitted ? '; a snapshot’s page lists more of its own' : ''}`)),
		    t, h('p', {class: 'hint muted'}, 'Click a request for its events.'));
	};
	drawRequests();

	const pending = (incident.snapshots || []).some((s) => s.analysis === 'pending');
	replace(main, header(incident, lanes),
	    pending ? h('div', {class: 'notice info'}, 'Some snapshots are still being analyzed; this page updates when they are done.') : null,
	    warnings, full ? timeline : h('div', {class: 'notice info'}, 'No snapshot of this incident has a summary with events yet, so there is no timeline.'));
	/* The timeline reads its width: before the rest is in the page, so
	 * that reading lays out the top of the page only. */
	if (full) {
		mounted = mountTimeline(chart, () => model);
		showZoom();
	}
	main.append(requests, downloads(incident.snapshots || []));
	/* For devtools and bench/incident-page.sh: the answer is on screen
	 * once the frame after this one has been painted. */
	performance.mark('tt:drawn');
	requestAnimationFrame(() => setTimeout(() => performance.mark('tt:painted')));
	if (pending)
		setTimeout(() => {
			if (mounted)
				mounted.disconnect();
			render(main, id).catch((e) => replace(main, errorBox(e)));
		}, 4000);
}
