/*
 * table.js: tables whose header cells sort them, inside a container that
 * scrolls sideways on narrow screens. The page owns the sort state (it
 * keeps it in the URL); the table only reports which header was clicked.
 */
import {h} from './dom.js';

function compare(a, b) {
	if (a === b)
		return 0;
	if (a === null || a === undefined)
		return 1;
	if (b === null || b === undefined)
		return -1;
	if (typeof a === 'string' && typeof b === 'string')
		return a.localeCompare(b, 'en');
	return a < b ? -1 : a > b ? 1 : 0;
}

/* Rows sorted by column key, "asc" or "desc"; missing values go last. */
export function sortRows(rows, columns, key, order) {
	const column = columns.find((c) => c.key === key);
	if (!column || !column.sort)
		return rows;
	const sign = order === 'asc' ? 1 : -1;
	return rows.map((row, i) => ({row, i, v: column.sort(row)}))
	    .sort((x, y) => {
		if (x.v === null || x.v === undefined || y.v === null ||
		    y.v === undefined)
			return compare(x.v, y.v) || x.i - y.i;
		return sign * compare(x.v, y.v) || x.i - y.i;
	    })
	    .map((x) => x.row);
}

/* The order a first click on a column gives. */
export function firstOrder(columns, key) {
	const column = columns.find((c) => c.key === key);
	return column && column.firstOrder ? column.firstOrder : 'asc';
}

/*
 * columns: [{key, label, cell(row) -> string|Node, sort(row) -> value,
 *            num: right-aligned figures, firstOrder, title}]
 * options: {sort, order, onSort(key, order), rowAttrs(row), empty, className,
 *           limit, step, onMore(count): only the first limit rows (after
 *           sorting) are drawn; buttons under them ask the page for step
 *           (100) more, or all}
 */
export function table(columns, rows, options = {}) {
	const {sort, order, onSort, rowAttrs, empty, className, limit, step = 100, onMore} = options;
	const head = h('tr', null, columns.map((c) => {
		const classes = [c.num ? 'num' : '', c.className || ''].join(' ').trim();
		if (!onSort || !c.sort)
			return h('th', {scope: 'col', class: classes || null, title: c.title}, c.label);
		const active = c.key === sort;
		const button = h('button', {type: 'button', class: 'sort'},
		    c.label, h('span', {class: 'arrow', 'aria-hidden': 'true'},
		    active ? (order === 'asc' ? '▲' : '▼') : ''));
		button.addEventListener('click', () => onSort(c.key,
		    active ? (order === 'asc' ? 'desc' : 'asc') : firstOrder(columns, c.key)));
		return h('th', {scope: 'col', class: classes || null, title: c.title,
		    'data-sort': c.key,
		    'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : null},
		    button);
	}));
	const sorted = onSort ? sortRows(rows, columns, sort, order) : rows;
	const drawn = limit && onMore ? sorted.slice(0, limit) : sorted;
	const body = h('tbody', null, drawn.map((row) =>
	    h('tr', rowAttrs ? rowAttrs(row) : null, columns.map((c) =>
		h('td', {class: [c.num ? 'num' : '', c.className || ''].join(' ').trim() || null},
		    c.cell(row))))));
	if (sorted.length === 0)
		body.append(h('tr', null, h('td', {colspan: columns.length,
		    class: 'empty'}, empty || 'Nothing.')));
	const wrap = h('div', {class: 'table-wrap'},
	    h('table', {class: className || null}, h('thead', null, head), body));
	if (drawn.length === sorted.length)
		return wrap;
	const more = h('button', {type: 'button', class: 'subtle more'},
	    `Show ${Math.min(step, sorted.length - drawn.length)} more`);
	const all = h('button', {type: 'button', class: 'subtle more'}, `Show all ${sorted.length}`);
	more.addEventListener('click', () => onMore(drawn.length + step));
	all.addEventListener('click', () => onMore(sorted.length));
	return h('div', null, wrap, h('p', {class: 'table-more'},
	    `${drawn.length} of ${sorted.length} shown. `, more, ' ', all));
}

/* Reads ?<prefix>sort=&<prefix>order= against the columns' keys. */
export function readSort(params, columns, defaultKey, defaultOrder, prefix = '') {
	const key = params.get(`${prefix}sort`);
	const order = params.get(`${prefix}order`);
	const valid = columns.some((c) => c.key === key && c.sort);
	return {
		sort: valid ? key : defaultKey,
		order: order === 'asc' || order === 'desc' ? order :
		    valid ? firstOrder(columns, key) : defaultOrder,
	};
}
