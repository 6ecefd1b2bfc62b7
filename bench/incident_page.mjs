// The incident page's cost, as an investigator meets it: the API's
// answer for the incident (every node's summary) and the page in
// Debian's chromium until its timeline has one lane per node and its
// requests table is filled. Prints figures only.
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
const render = [];
for (let i = 0; i < runs; i++) {
	await page.goto('about:blank');
	const t0 = performance.now();
	await page.goto(url);
	await page.waitForFunction((n) =>
	    document.querySelectorAll('svg.timeline g.lane[data-node]').length >= n &&
	    document.querySelectorAll('#requests table.requests tbody tr').length > 0,
	    {timeout: 60000}, Number(nodes));
	render.push(performance.now() - t0);
}
await browser.close();
rmSync(profile, {recursive: true, force: true});
const f = (x) => x.toFixed(1);
console.log(`API /v1/incidents/<id>, ${runs} runs: p50 ${f(pct(api, 0.5))} ms, ` +
    `p99 ${f(pct(api, 0.99))} ms`);
console.log(`page (navigation to ${nodes} lanes and the requests table), ` +
    `${runs} runs: p50 ${f(pct(render, 0.5))} ms, p99 ${f(pct(render, 0.99))} ms`);
