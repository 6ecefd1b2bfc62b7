/*
 * incidents.js: the page at "/": incidents newest first, with filters that
 * live in the URL query (node, source, q, since, until, limit) so a
 * filtered list can be shared and survives a reload.
 */
import {h, replace} from './dom.js';
import * as api from './api.js';
import * as fmt from './fmt.js';
import {table} from './table.js';

const FILTERS = [
	{name: 'node', label: 'Node', placeholder: 'any node', list: 'nodes-list'},
	{name: 'source', label: 'Source', placeholder: 'any source', list: 'sources-list'},
	{name: 'q', label: 'Reason contains', placeholder: 'text in a reason'},
	{name: 'since', label: 'Since (UTC)', placeholder: '2026-12-06T14:00:00Z'},
	{name: 'until', label: 'Until (UTC)', placeholder: 'RFC 3339 or µs'},
];
const DEFAULT_LIMIT = 100;

function query() {
	const params = new URLSearchParams(location.search);
	const q = {};
	for (const f of FILTERS)
		q[f.name] = (params.get(f.name) || '').trim();
	const limit = parseInt(params.get('limit'), 10);
	q.limit = limit > 0 ? Math.min(limit, 10000) : DEFAULT_LIMIT;
	return q;
}

/* The page's own URL for a query; empty filters are left out. */
function urlFor(q) {
	const params = new URLSearchParams();
	for (const f of FILTERS)
		if (q[f.name])
			params.set(f.name, q[f.name]);
	if (q.limit && q.limit !== DEFAULT_LIMIT)
		params.set('limit', String(q.limit));
	const s = params.toString();
	return s ? `/?${s}` : '/';
}

function isoAgo(ms) {
	return new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function filterForm(q) {
	/* Works without JS too (a GET form); with JS, empty fields stay out of the URL. */
	const form = h('form', {class: 'filters', method: 'get', action: '/', role: 'search'},
	    FILTERS.map((f) => h('label', {class: 'filter-field'},
		h('span', null, f.label),
		h('input', {type: 'text', name: f.name, value: q[f.name],
		    placeholder: f.placeholder, list: f.list || null,
		    autocomplete: 'off', spellcheck: 'false'}))),
	    h('div', {class: 'actions'},
		h('button', {type: 'submit', class: 'primary'}, 'Filter'),
		h('a', {href: '/', class: 'button'}, 'Clear')));
	form.addEventListener('submit', (event) => {
		event.preventDefault();
		const next = {limit: q.limit};
		for (const f of FILTERS)
			next[f.name] = form.elements[f.name].value.trim();
		location.assign(urlFor(next));
	});
	const ranges = [['last hour', 3600e3], ['24 h', 86400e3], ['7 days', 7 * 86400e3]];
	const quick = h('p', {class: 'quick'}, 'Since: ', ranges.map(([label, ms], i) => [
	    i ? ' · ' : '',
	    h('a', {href: urlFor({...q, since: isoAgo(ms), until: ''})}, label)]),
	    ' · ', h('a', {href: urlFor({...q, since: '', until: ''})}, 'any time'));
	return [form, quick];
}

function chips(values, className, max = 6) {
	const list = Array.isArray(values) ? values : [];
	return h('span', {class: 'chips'},
	    list.slice(0, max).map((v) => h('span', {class: `chip ${className}`}, v)),
	    list.length > max ? h('span', {class: 'chip more'}, `+${list.length - max}`) : null);
}

function stateCell(inc) {
	const parts = [];
	const total = Number(inc.snapshots) || 0;
	const analyzed = Number(inc.analyzed) || 0;
	if (analyzed >= total)
		parts.push(h('span', {class: 'badge ok', title: 'every snapshot analyzed'}, 'analyzed'));
	else
		parts.push(h('span', {class: 'badge pending'}, `${analyzed}/${total} analyzed`));
	if (inc.history_lost)
		parts.push(h('span', {class: 'badge warn', title: 'a ring buffer overflowed: older history is gone'},
		    '⚠ history lost'));
	return h('span', {class: 'badges'}, parts);
}

const columns = [
	{key: 'time', label: 'Taken (UTC)', cell: (inc) => {
		const t = fmt.usToNs(inc.first_taken_at_us) ?? fmt.isoToNs(inc.first_taken_at);
		return [h('a', {href: api.links.incident(inc.id), class: 'incident-link', title: inc.id},
		    fmt.time(t)), h('div', {class: 'sub'}, `${fmt.day(t)} · ${fmt.ago(t)}`)];
	}},
	{key: 'nodes', label: 'Nodes', cell: (inc) => chips(inc.nodes, 'node')},
	{key: 'sources', label: 'Sources', cell: (inc) => chips(inc.sources, 'source')},
	{key: 'reasons', label: 'Reasons', className: 'reasons', cell: (inc) =>
	    (inc.reasons || []).slice(0, 3).map((r) => h('div', {class: 'reason'}, r))},
	{key: 'slowest', label: 'Slowest', num: true, cell: (inc) =>
	    inc.slowest_us === null || inc.slowest_us === undefined ? '–' : fmt.duration(inc.slowest_us)},
	{key: 'requests', label: 'Requests', num: true, cell: (inc) => [
	    Number(inc.analyzed) === 0 && !Number(inc.requests) ? '–' : fmt.num(inc.requests),
	    Number(inc.errors) > 0 ? h('div', {class: 'sub err'}, `${fmt.plural(inc.errors, 'error')}`) : null]},
	{key: 'snapshots', label: 'Snapshots', num: true, cell: (inc) => [fmt.num(inc.snapshots),
	    h('div', {class: 'sub'}, fmt.bytes(inc.bytes))]},
	{key: 'state', label: 'State', cell: stateCell},
];

export async function render(main) {
	const q = query();
	document.title = 'Incidents · tracetrap';
	const {incidents} = await api.get(api.paths.incidents(), {
		limit: q.limit, node: q.node, source: q.source, q: q.q,
		since: q.since, until: q.until});
	const list = Array.isArray(incidents) ? incidents : [];
	const nodes = [...new Set(list.flatMap((i) => i.nodes || []))].sort();
	const sources = [...new Set(list.flatMap((i) => i.sources || []))].sort();
	const filtered = FILTERS.some((f) => q[f.name]);
	const rows = table(columns, list, {
		className: 'incidents',
		rowAttrs: (inc) => ({'data-incident': inc.id, class: 'clickable'}),
		empty: filtered ? 'No incident matches these filters.' :
		    'No incident yet. One appears when a recorder ships a snapshot (e.g. `tracetrap snapshot --reason …` on a node).',
	});
	/* The whole row opens the incident; the link inside stays the real target. */
	rows.addEventListener('click', (event) => {
		const tr = event.target.closest('tr[data-incident]');
		if (!tr || event.target.closest('a') || String(getSelection()).length)
			return;
		location.assign(api.links.incident(tr.dataset.incident));
	});
	replace(main,
	    h('div', {class: 'page-head'},
		h('h1', null, 'Incidents'),
		h('p', {class: 'muted'}, 'Trace snapshots the fleet shipped to this relay, newest first. A cluster incident groups the snapshots its nodes took together.')),
	    filterForm(q),
	    h('datalist', {id: 'nodes-list'}, nodes.map((n) => h('option', {value: n}))),
	    h('datalist', {id: 'sources-list'}, sources.map((s) => h('option', {value: s}))),
	    h('section', {class: 'panel', id: 'incidents'},
		h('p', {class: 'count muted'}, `${fmt.plural(list.length, 'incident')}${filtered ? ' match' : ''}`,
		    list.length >= q.limit ? [' (the newest ', fmt.num(q.limit), ') · ',
			h('a', {href: urlFor({...q, limit: q.limit * 2})}, 'show more')] : null),
		rows));
}
