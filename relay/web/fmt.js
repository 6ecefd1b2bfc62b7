/*
 * fmt.js: numbers, sizes, durations and UTC times as investigators read them.
 *
 * Trace times are UTC nanoseconds since the epoch (about 1.8e18), beyond
 * the 2^53 a JavaScript number holds exactly. api.js hands such integers
 * over as digit strings; ns() turns them into BigInt, and only differences
 * between two of them (small enough to be exact) become plain numbers.
 */

const integer = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});

/* A nanosecond time (digit string, number or BigInt) as a BigInt, or null. */
export function ns(value) {
	if (value === null || value === undefined || value === '')
		return null;
	if (typeof value === 'bigint')
		return value;
	if (typeof value === 'number')
		return BigInt(Math.round(value));
	return /^-?\d+$/.test(value) ? BigInt(value) : null;
}

/* b - a in nanoseconds, as a number (exact below 104 days). */
export function nsDiff(b, a) {
	return Number(ns(b) - ns(a));
}

/* True when a nanosecond time is set (the analyzer writes 0 for "none"). */
export function nsSet(value) {
	const v = ns(value);
	return v !== null && v !== 0n;
}

export function num(value) {
	if (value === null || value === undefined || value === '')
		return '–';
	return integer.format(Number(value));
}

export function bytes(value) {
	const n = Number(value);
	if (!Number.isFinite(n))
		return '–';
	if (n < 1024)
		return `${n}\u00a0B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let v = n / 1024, i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	return `${v < 10 ? v.toFixed(1) : Math.round(v)}\u00a0${units[i]}`;
}

/* Three significant digits, without a trailing ".0". */
function sig3(v) {
	if (v >= 100)
		return String(Math.round(v));
	return String(Number(v.toPrecision(3)));
}

/* A duration in microseconds: "850 µs", "12.3 ms", "1.23 s", "2 min 05 s". */
export function duration(us) {
	if (us === null || us === undefined)
		return '–';
	const v = Number(us);
	if (v < 1000)
		return `${Math.round(v)}\u00a0µs`;
	if (v < 1e6)
		return `${sig3(v / 1e3)}\u00a0ms`;
	if (v < 60e6)
		return `${sig3(v / 1e6)}\u00a0s`;
	const s = Math.round(v / 1e6);
	if (s < 3600)
		return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
	return `${Math.floor(s / 3600)} h ${String(Math.floor(s / 60) % 60).padStart(2, '0')} min`;
}

export function durationNs(n) {
	return duration(Number(n) / 1000);
}

/* An offset from a start, in ns: "+0", "+850 µs", "+12.345 ms", "+1.234567 s". */
export function offset(n) {
	const v = Number(n);
	if (v === 0)
		return '+0';
	const sign = v < 0 ? '−' : '+';
	const a = Math.abs(v);
	if (a < 1e6)
		return `${sign}${(a / 1e3).toFixed(a < 1e4 ? 3 : 1)}\u00a0µs`;
	if (a < 1e9)
		return `${sign}${(a / 1e6).toFixed(3)}\u00a0ms`;
	return `${sign}${(a / 1e9).toFixed(6)}\u00a0s`;
}

function pad(v, n = 2) {
	return String(v).padStart(n, '0');
}

/* Splits a ns time into a Date (whole ms) and the ns within that ms. */
function split(value) {
	const t = ns(value);
	if (t === null)
		return null;
	const ms = t / 1000000n;
	return {date: new Date(Number(ms)), sub: Number(t - ms * 1000000n)};
}

/* "14:02:12.345" (UTC); with micro, "14:02:12.345678". */
export function time(value, micro = false) {
	const p = split(value);
	if (p === null)
		return '–';
	const d = p.date;
	let s = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:` +
	    `${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
	if (micro)
		s += pad(Math.floor(p.sub / 1000), 3);
	return s;
}

/* "2026-12-06" (UTC). */
export function day(value) {
	const p = split(value);
	if (p === null)
		return '–';
	const d = p.date;
	return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/* "2026-12-06 14:02:12.345 UTC". */
export function dateTime(value) {
	return `${day(value)} ${time(value)} UTC`;
}

export function usToNs(us) {
	const v = ns(us);
	return v === null ? null : v * 1000n;
}

/* An RFC 3339 string as ns (ms precision is all Date.parse gives). */
export function isoToNs(text) {
	const ms = Date.parse(text);
	return Number.isNaN(ms) ? null : BigInt(ms) * 1000000n;
}

/* "5 min ago", for the incidents list. */
export function ago(valueNs, nowMs = Date.now()) {
	const t = ns(valueNs);
	if (t === null)
		return '';
	const s = Math.round((nowMs - Number(t / 1000000n)) / 1000);
	if (s < 0)
		return 'in the future';
	if (s < 60)
		return `${s} s ago`;
	if (s < 3600)
		return `${Math.floor(s / 60)} min ago`;
	if (s < 86400 * 2)
		return `${Math.floor(s / 3600)} h ago`;
	return `${Math.floor(s / 86400)} days ago`;
}

export function plural(n, one, many = `${one}s`) {
	return `${num(n)} ${Number(n) === 1 ? one : many}`;
}
