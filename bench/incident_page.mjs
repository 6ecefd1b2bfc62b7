// The incident page's cost, as an investigator meets it: the API's
// answer for the incident (every node's summary) and the page in
// Debian's chromium until the frame with its timeline (one lane per
// node) and its requests table is painted. Prints figures only.
//
// usage: node bench/incident_page.mjs BASE_URL INCIDENT NODES RUNS
import {createRequire} from 'node:module';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

// puppeteer-core is installed for the browser test (make browser-deps).
const require = createRequire(new URL('../tests/browser/package.json',
    import.meta.url));
const puppeteer = require('puppeteer-core');

const [base, incident, nodes, runs] = process.argv.slice(2);
const url = `${base}/incidents/${incident}`;

function pct(list, q) {
	const s = [...list].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const api = [];
for (let i = 0; i < runs; i++) {
	const t0 = performance.now();
	const r = await fetch(`${base}/v1/incidents/${incident}`);
	const body = await r.arrayBuffer();
	api.push(performance.now() - t0);
	if (i === 0)
		console.log(`API answer: ${(body.byteLength / 1e6).toFixed(2)} MB`);
}

const profile = mkdtempSync(path.join(tmpdir(), 'tracetrap-bench-'));
const browser = await puppeteer.launch({
	executablePath: '/usr/bin/chromium', headless: true, userDataDir: profile,
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	    '--disable-background-networking', '--disable-component-update',
	    '--disable-sync', '--disable-dev-shm-usage'],
});
const page = await browser.newPage();
await page.setViewport({width: 1366, height: 800});
/*
 * Per navigation, from the page's own marks (incident.js): the whole
 * navigation until the frame with the incident is painted; from the
 * API request to that frame (the API's time + the render); the render
 * alone, from the answer parsed to that frame.
 */
const whole = [], apiRender = [], render = [];
for (let i = 0; i < runs; i++) {
	await page.goto('about:blank');
	await page.goto(url);
	await page.waitForFunction((n) =>
	    performance.getEntriesByName('tt:painted').length > 0 &&
	    document.querySelectorAll('svg.timeline g.lane[data-node]').length >= n &&
	    document.querySelectorAll('#requests table.requests tbody tr').length > 0,
	    {timeout: 60000}, Number(nodes));
	const m = await page.evaluate(() => Object.fromEntries(
	    ['tt:fetch', 'tt:data', 'tt:painted'].map((name) =>
		[name, performance.getEntriesByName(name)[0].startTime])));
	whole.push(m['tt:painted']);
	apiRender.push(m['tt:painted'] - m['tt:fetch']);
	render.push(m['tt:painted'] - m['tt:data']);
}
/*
 * PROFILE=1: one more navigation under the CPU profiler, and the
 * functions that took the most self time (profile before optimizing).
 */
if (process.env.PROFILE) {
	await page.goto('about:blank');
	const cdp = await page.createCDPSession();
	await cdp.send('Profiler.enable');
	await cdp.send('Profiler.setSamplingInterval', {interval: 100});
	await cdp.send('Profiler.start');
	await page.goto(url);
	await page.waitForFunction((n) =>
	    document.querySelectorAll('svg.timeline g.lane[data-node]').length >= n,
	    {timeout: 60000}, Number(nodes));
	const {profile: prof} = await cdp.send('Profiler.stop');
	/* Where the navigation's time went, from the page's own timings. */
	const t = await page.evaluate(() => {
		const nav = performance.getEntriesByType('navigation')[0];
		const res = performance.getEntriesByType('resource');
		const apiEntry = res.find((r) => r.name.includes('/v1/incidents/'));
		const modules = res.filter((r) => r.name.includes('/static/') && r.name.endsWith('.js'));
		return {
			html: nav.responseEnd,
			modules: Math.max(...modules.map((r) => r.responseEnd)),
			apiStart: apiEntry ? apiEntry.startTime : -1,
			apiEnd: apiEntry ? apiEntry.responseEnd : -1,
			now: performance.now(),
		};
	});
	console.log(`timings (ms from navigation): html ${t.html.toFixed(1)}, ` +
	    `modules ${t.modules.toFixed(1)}, API ${t.apiStart.toFixed(1)} -> ` +
	    `${t.apiEnd.toFixed(1)}, drawn by ${t.now.toFixed(1)}`);
	const self = new Map();
	const dt = prof.timeDeltas || [];
	const byId = new Map(prof.nodes.map((n) => [n.id, n]));
	(prof.samples || []).forEach((id, i) => {
		const f = byId.get(id).callFrame;
		const k = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
		self.set(k, (self.get(k) || 0) + (dt[i] || 0) / 1000);
	});
	/* And the renderer's own work (style, layout, paint...) by kind. */
	await page.goto('about:blank');
	await page.tracing.start({categories: ['devtools.timeline']});
	await page.goto(url);
	await page.waitForFunction((n) =>
	    document.querySelectorAll('svg.timeline g.lane[data-node]').length >= n,
	    {timeout: 60000}, Number(nodes));
	const trace = JSON.parse(Buffer.from(await page.tracing.stop()).toString());
	const kinds = new Map();
	for (const e of trace.traceEvents || [])
		if (e.ph === 'X' && e.dur && ['Layout', 'UpdateLayoutTree', 'Paint', 'ParseHTML',
		    'EvaluateScript', 'v8.compile', 'FunctionCall', 'RunTask', 'Layerize',
		    'PrePaint', 'Commit', 'HitTest', 'ScheduleStyleRecalculation',
		    'UpdateLayerTree', 'ParseAuthorStyleSheet', 'v8.evaluateModule'].includes(e.name))
			kinds.set(e.name, (kinds.get(e.name) || 0) + e.dur / 1000);
	console.log('trace: renderer time by kind (ms; RunTask contains the rest)');
	for (const [k, ms] of [...kinds].sort((a, b) => b[1] - a[1]))
		console.log(`  ${ms.toFixed(1).padStart(8)}  ${k}`);
	console.log('profile: self time per function (ms)');
	for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
		console.log(`  ${ms.toFixed(1).padStart(8)}  ${k}`);
}
await browser.close();
rmSync(profile, {recursive: true, force: true});
const f = (x) => x.toFixed(1);
console.log(`API /v1/incidents/<id>, ${runs} runs: p50 ${f(pct(api, 0.5))} ms, ` +
    `p99 ${f(pct(api, 0.99))} ms`);
const line = (what, list) => console.log(`${what}, ${runs} runs: ` +
    `p50 ${f(pct(list, 0.5))} ms, p99 ${f(pct(list, 0.99))} ms`);
line(`page: API request + render (${nodes} lanes, the requests table, painted)`, apiRender);
line('  of which the render (answer parsed -> painted)', render);
line('page: the whole navigation (HTML, modules, API, render, painted)', whole);
