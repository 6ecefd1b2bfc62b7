/*
 * warnings.js: what an investigator must know before trusting a snapshot
 * (lost history, partial or failed analysis, dropped events), in words.
 * Each warning is {level: "error"|"warn"|"info", text, short}.
 */
import {h} from './dom.js';
import * as fmt from './fmt.js';

function list(value) {
	if (Array.isArray(value))
		return value.filter((v) => typeof v === 'string' && v !== '');
	return typeof value === 'string' && value !== '' ? value.split('\n') : [];
}

/* analysis: "done" | "pending" | "failed" (from the incident), summary or null. */
export function snapshotWarnings(summary, analysis = 'done') {
	const out = [];
	if (analysis === 'pending')
		out.push({level: 'info', short: 'analysis pending',
		    text: 'analysis pending: the relay is still reading this trace'});
	if (analysis === 'failed' && !(summary && summary.error))
		out.push({level: 'error', short: 'analysis failed',
		    text: 'analysis failed: the relay could not summarize this trace'});
	if (!summary)
		return out;
	if (summary.error)
		out.push({level: 'error', short: 'trace unreadable',
		    text: `trace unreadable: ${summary.error}`});
	const history = summary.history || {};
	if (history.overflowed === true) {
		const since = fmt.nsSet(history.complete_since_ns) ?
		    `${fmt.time(history.complete_since_ns)} UTC` : 'the first event';
		const lost = history.lost_packets ?
		    ` (${fmt.plural(history.lost_packets, 'packet')} overwritten)` : '';
		out.push({level: 'warn', short: `history before ${fmt.time(history.complete_since_ns)} is gone`,
		    text: `ring buffer overflowed: history before ${since} is gone${lost}`});
	} else if (history.overflowed === null && !summary.error) {
		out.push({level: 'info', short: 'history completeness unknown',
		    text: 'whether older history was overwritten is unknown (the trace has no packet index)'});
	}
	if (summary.partial)
		out.push({level: 'warn', short: 'partial summary',
		    text: `partial summary: ${summary.partial_reason || 'the analysis stopped early'}`});
	for (const w of list(summary.warnings))
		out.push({level: 'warn', short: w, text: w});
	if (Number(summary.discarded_events) > 0)
		out.push({level: 'warn', short: 'events discarded',
		    text: `${fmt.plural(summary.discarded_events, 'event')} discarded by the tracer (its buffers were full)`});
	if (Number(summary.discarded_packets) > 0)
		out.push({level: 'warn', short: 'packets discarded',
		    text: `${fmt.plural(summary.discarded_packets, 'packet')} discarded by the tracer`});
	const gaps = Array.isArray(history.gaps) ? history.gaps : [];
	for (const gap of gaps.slice(0, 5))
		out.push({level: 'info', short: 'gap',
		    text: `gap in ${gap.stream}: ${fmt.num(gap.count)} ${gap.what} lost between ` +
		    `${fmt.time(gap.begin_ns)} and ${fmt.time(gap.end_ns)}`});
	if (gaps.length > 5 || Number(history.gaps_dropped) > 0)
		out.push({level: 'info', short: 'more gaps',
		    text: `${fmt.num(gaps.length - 5 + Number(history.gaps_dropped || 0))} more gaps not listed`});
	if (Number(summary.requests_without_begin) > 0)
		out.push({level: 'info', short: 'requests without begin',
		    text: `${fmt.plural(summary.requests_without_begin, 'request')} ended without their begin in the trace (they began before the recorded history)`});
	if (Number(summary.requests_open_dropped) > 0)
		out.push({level: 'info', short: 'open requests dropped',
		    text: `${fmt.plural(summary.requests_open_dropped, 'open request')} not tracked (too many at once)`});
	return out;
}

const ICON = {error: '✖', warn: '⚠', info: 'ℹ'};

/* A list of warnings; prefix (e.g. a node name) leads each line. */
export function warningList(items) {
	return h('ul', {class: 'warnings'}, items.map(({w, prefix}) =>
	    h('li', {class: `w-${w.level}`},
		h('span', {class: 'icon', 'aria-hidden': 'true'}, ICON[w.level]),
		prefix ? h('strong', null, prefix, ': ') : null, w.text)));
}

export function icon(level) {
	return ICON[level];
}
