/*
 * pages.test.mjs: drives Debian's chromium (through puppeteer-core, which
 * never downloads a browser) over the relay's investigation pages: login,
 * incidents, a 3-node cluster incident, a request's drill-down. Checks
 * that untrusted strings stay text, that nothing breaks the relay's
 * Content-Security-Policy, and that pages fit a phone; saves screenshots.
 *
 * Run from the repository root (see tests/browser/README.md):
 *   TT_BASE_URL=http://127.0.0.1:5480 TT_TOKEN=... TT_INCIDENT=... \
 *   TT_NODES=a,b,c TT_XSS_REASON=... TT_XSS_URI=... TT_SLOW_URI=... \
 *   node tests/browser/pages.test.mjs
 * Prints TAP; exits 1 when a check fails, 2 when it cannot start.
 */
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const env = process.env;
const BASE = (env.TT_BASE_URL || 'http://127.0.0.1:5480').replace(/\/+$/, '');
const SHOTS = env.TT_SCREENSHOTS || 'build/screenshots';
const CHROMIUM = env.TT_CHROMIUM || '/usr/bin/chromium';
const LAPTOP = {width: 1366, height: 800, deviceScaleFactor: 1};
const PHONE = {width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true};
const WAIT = 15000;

const missing = ['TT_TOKEN', 'TT_INCIDENT', 'TT_NODES', 'TT_XSS_REASON', 'TT_XSS_URI', 'TT_SLOW_URI']
    .filter((name) => !env[name]);
if (missing.length) {
	console.log(`Bail out! missing environment: ${missing.join(', ')} (see tests/browser/README.md)`);
	process.exit(2);
}
const TOKEN = env.TT_TOKEN;
const INCIDENT = env.TT_INCIDENT;
const NODES = env.TT_NODES.split(',').map((s) => s.trim()).filter(Boolean);
const XSS_REASON = env.TT_XSS_REASON;
const XSS_URI = env.TT_XSS_URI;
const SLOW_URI = env.TT_SLOW_URI;

const url = (p) => `${BASE}${p}`;
const dialogs = [];
const violations = [];
const pageErrors = [];
const missingCsp = [];
/* Shared between checks: where the drill-down is. */
const state = {drillUrl: null};

function assert(condition, message) {
	if (!condition)
		throw new Error(message);
}

/* The first few distinct entries of a list, for a readable TAP diagnostic. */
function few(list, max = 5) {
	const distinct = [...new Set(list)];
	const shown = distinct.slice(0, max).map((s) => s.length > 300 ? `${s.slice(0, 300)}…` : s);
	return distinct.length > max ? `${shown.join('\n')}\n(${distinct.length - max} more)` : shown.join('\n');
}

async function eventually(page, fn, arg, what) {
	try {
		await page.waitForFunction(fn, {timeout: WAIT}, arg);
	} catch {
		throw new Error(`timed out waiting for ${what} (at ${page.url()})`);
	}
}

/* Watches a page for dialogs, CSP violations, uncaught errors, missing CSP headers. */
async function watch(page) {
	page.on('dialog', async (dialog) => {
		dialogs.push(`${dialog.type()}: ${dialog.message()} at ${page.url()}`);
		await dialog.dismiss().catch(() => {});
	});
	page.on('pageerror', (error) => pageErrors.push(`${error.message} at ${page.url()}`));
	page.on('console', (msg) => {
		if (/Content Security Policy/i.test(msg.text()))
			violations.push(`console: ${msg.text()}`);
	});
	page.on('response', (response) => {
		const type = response.request().resourceType();
		if ((type === 'document' || type === 'script' || type === 'stylesheet') &&
		    response.url().startsWith(BASE) && response.status() < 300 &&
		    !response.headers()['content-security-policy'])
			missingCsp.push(`${response.status()} ${response.url()}`);
	});
	await page.exposeFunction('__ttCspViolation', (v) => violations.push(v));
	await page.evaluateOnNewDocument(() => {
		document.addEventListener('securitypolicyviolation', (e) => {
			window.__ttCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} ` +
			    `in ${e.sourceFile || e.documentURI}:${e.lineNumber} ${e.sample || ''}`);
		});
	});
}

/*
 * The whole page, as a reader scrolling to its end sees it: panels far
 * below the fold are only laid out once near the viewport
 * (content-visibility), which a full-page capture alone does not do.
 */
async function shot(page, name) {
	await page.evaluate(async () => {
		const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
		for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight) {
			scrollTo(0, y);
			await frame();
		}
		scrollTo(0, document.documentElement.scrollHeight);
		await frame();
		await frame();
	});
	await page.screenshot({path: path.join(SHOTS, `${name}.png`), fullPage: true});
	await page.evaluate(() => scrollTo(0, 0));
}

async function noHorizontalOverflow(page, where) {
	const m = await page.evaluate(() => ({scroll: document.documentElement.scrollWidth, inner: innerWidth}));
	assert(m.scroll <= m.inner + 1, `${where}: the page is ${m.scroll}px wide in a ${m.inner}px viewport`);
}

async function requestRows(page) {
	return page.$$eval('#requests table.requests tbody tr[data-request]', (rows) => rows.map((tr) => ({
		request: tr.dataset.request,
		snapshot: tr.dataset.snapshot,
		duration: Number(tr.dataset.durationUs),
		uri: tr.querySelector('td.uri') ? tr.querySelector('td.uri').textContent : null,
	})));
}

async function waitIncidentPage(page) {
	await eventually(page, (n) => document.querySelectorAll('svg.timeline g.lane[data-node]').length >= n &&
	    document.querySelectorAll('#requests tbody tr[data-request]').length > 0, NODES.length,
	    'the incident timeline and requests table');
}

function params(page) {
	return new URL(page.url()).searchParams;
}

let browser, page, profile;

const checks = [
	['without a cookie, /v1/incidents answers 401 and / ends on /login', async () => {
		const response = await fetch(url('/v1/incidents'), {redirect: 'manual'});
		assert(response.status === 401, `GET /v1/incidents gave ${response.status}, not 401`);
		const body = await response.json().catch(() => null);
		assert(body && body.error === 'unauthorized', `401 body is ${JSON.stringify(body)}`);
		await page.goto(url('/'), {waitUntil: 'load'});
		await eventually(page, () => location.pathname === '/login', null, 'the redirect to /login');
		await page.waitForSelector('form.login input[name=token]', {timeout: WAIT});
		const next = params(page).get('next');
		assert(next === '/', `login was opened with next=${next}, not /`);
	}],
	['a wrong token is refused: 401 and still the login page', async () => {
		await page.type('input[name=token]', `${TOKEN}-wrong`);
		const [response] = await Promise.all([
			page.waitForNavigation({waitUntil: 'load', timeout: WAIT}),
			page.click('form.login button[type=submit]'),
		]);
		assert(response && response.status() === 401, `the wrong token gave ${response && response.status()}, not 401`);
		assert(new URL(page.url()).pathname === '/login', `ended on ${page.url()}`);
		await page.waitForSelector('form.login input[name=token]', {timeout: WAIT});
		const said = await page.$eval('#login-error', (p) => !p.hidden && p.textContent).catch(() => false);
		assert(said, 'the login page does not say the token was wrong');
		const next = await page.$eval('form.login input[name=next]', (input) => input.value);
		assert(next === '/', `after a wrong token the form's next is ${JSON.stringify(next)}, not /`);
		const cookies = await page.cookies(BASE);
		assert(!cookies.length || !cookies.some((c) => c.httpOnly), 'a session cookie was set for a wrong token');
	}],
	['logging in with TT_TOKEN lands on / listing TT_INCIDENT', async () => {
		await page.$eval('input[name=token]', (input) => { input.value = ''; });
		await page.type('input[name=token]', TOKEN);
		await Promise.all([
			page.waitForNavigation({waitUntil: 'load', timeout: WAIT}),
			page.click('form.login button[type=submit]'),
		]);
		assert(new URL(page.url()).pathname === '/', `landed on ${page.url()}, not /`);
		await eventually(page, (id) => [...document.querySelectorAll('tr[data-incident]')].some((tr) => tr.dataset.incident === id),
		    INCIDENT, `the incidents list showing ${INCIDENT}`);
		const cookies = await page.cookies(BASE);
		assert(cookies.some((c) => c.httpOnly && c.sameSite === 'Strict'), 'no HttpOnly SameSite=Strict session cookie');
	}],
	['the incident page has one labelled lane per node', async () => {
		const link = await page.evaluateHandle((id) =>
		    [...document.querySelectorAll('tr[data-incident]')].find((tr) => tr.dataset.incident === id).querySelector('a'), INCIDENT);
		await Promise.all([page.waitForNavigation({waitUntil: 'load', timeout: WAIT}), link.click()]);
		const expected = `/incidents/${encodeURIComponent(INCIDENT)}`;
		assert(new URL(page.url()).pathname === expected, `went to ${page.url()}, not ${expected}`);
		await waitIncidentPage(page);
		const lanes = await page.$$eval('svg.timeline g.lane[data-node]', (gs) => gs.map((g) => ({
			node: g.dataset.node,
			label: g.querySelector('.lane-label') ? g.querySelector('.lane-label').textContent : null,
		})));
		assert(lanes.length === NODES.length, `${lanes.length} lanes for ${NODES.length} nodes`);
		for (const node of NODES) {
			const lane = lanes.find((l) => l.node === node);
			assert(lane, `no lane for node ${node} (lanes: ${lanes.map((l) => l.node).join(', ')})`);
			assert(lane.label === node, `the lane of ${node} is labelled ${JSON.stringify(lane.label)}`);
		}
	}],
	['the requests table lists TT_SLOW_URI first, its first 100 rows only', async () => {
		const rows = await requestRows(page);
		assert(rows.length === 100, `${rows.length} rows drawn, not the first 100`);
		const more = await page.$eval('#requests .table-more', (p) => p.textContent).catch(() => '');
		assert(/^100 of \d+ shown/.test(more) && Number(more.match(/of (\d+)/)[1]) > 100,
		    `under the table: ${JSON.stringify(more)}`);
		assert(rows[0].uri === SLOW_URI, `first request is ${JSON.stringify(rows[0].uri)}, not ${JSON.stringify(SLOW_URI)}`);
		for (let i = 1; i < rows.length; i++)
			assert(rows[i - 1].duration >= rows[i].duration, `row ${i + 1} is slower than row ${i}`);
	}],
	['clicking "duration" sorts ascending, the URL keeps it over a reload, a second click sorts back', async () => {
		await page.click('#requests th[data-sort="duration"] button');
		await eventually(page, () => new URLSearchParams(location.search).get('order') === 'asc', null, '?order=asc');
		let p = params(page);
		assert(p.get('sort') === 'duration', `sort=${p.get('sort')} in the URL`);
		let rows = await requestRows(page);
		for (let i = 1; i < rows.length; i++)
			assert(rows[i - 1].duration <= rows[i].duration, `ascending: row ${i + 1} is faster than row ${i}`);
		assert(rows.length === 100 && !rows.some((r) => r.uri === SLOW_URI),
		    'ascending: the first 100 rows hold the slowest request');
		await page.click('#requests .table-more button:last-child');
		await eventually(page, () => !document.querySelector('#requests .table-more') &&
		    document.querySelectorAll('#requests tbody tr[data-request]').length > 100, null, 'every row, after "Show all"');
		rows = await requestRows(page);
		for (let i = 1; i < rows.length; i++)
			assert(rows[i - 1].duration <= rows[i].duration, `all rows, ascending: row ${i + 1} is faster than row ${i}`);
		assert(rows[rows.length - 1].uri === SLOW_URI, 'ascending: the slowest request is not last');
		await page.reload({waitUntil: 'load'});
		await waitIncidentPage(page);
		p = params(page);
		assert(p.get('sort') === 'duration' && p.get('order') === 'asc', `after reload the URL is ${page.url()}`);
		const aria = await page.$eval('#requests th[data-sort="duration"]', (th) => th.getAttribute('aria-sort'));
		assert(aria === 'ascending', `after reload the duration header says aria-sort=${aria}`);
		rows = await requestRows(page);
		assert(rows[0].duration <= rows[rows.length - 1].duration, 'after reload the rows are not ascending');
		await page.click('#requests th[data-sort="duration"] button');
		await eventually(page, () => new URLSearchParams(location.search).get('order') === 'desc', null, '?order=desc');
		rows = await requestRows(page);
		assert(rows[0].uri === SLOW_URI, 'sorted back: the slowest request is not first');
	}],
	['the XSS reason renders as literal text and creates no <img>', async () => {
		const found = await page.evaluate((reason) => document.body.innerText.includes(reason), XSS_REASON);
		assert(found, `the reason ${JSON.stringify(XSS_REASON)} is not visible as text on the incident page`);
		const imgs = await page.$$eval('img', (list) => list.map((i) => i.getAttribute('src')));
		assert(!imgs.some((src) => src === 'x' || !String(src).startsWith('/static/')), `unexpected <img> elements: ${imgs.join(', ')}`);
	}],
	['the XSS URI renders as literal text in the requests table and creates no <script>', async () => {
		const cells = await page.$$eval('#requests td.uri', (tds) => tds.map((td) => td.textContent));
		assert(cells.includes(XSS_URI), `${JSON.stringify(XSS_URI)} is not a URI cell's text`);
		const scripts = await page.$$eval('script', (list) => list.map((s) => s.getAttribute('src') || `inline: ${s.textContent}`));
		assert(scripts.every((s) => s.startsWith('/static/')), `unexpected <script> elements: ${scripts.join(' | ')}`);
	}],
	['clicking a request row opens its drill-down: request_begin at +0 ... request_end', async () => {
		const [first] = await requestRows(page);
		await Promise.all([
			page.waitForNavigation({waitUntil: 'load', timeout: WAIT}),
			page.click(`#requests tbody tr[data-request] td.num`),
		]);
		const u = new URL(page.url());
		assert(u.pathname === `/snapshots/${encodeURIComponent(first.snapshot)}`, `went to ${u.pathname}`);
		assert(u.searchParams.get('request') === first.request, `?request=${u.searchParams.get('request')}, not ${first.request}`);
		await eventually(page, () => document.querySelectorAll('#drilldown table.waterfall tbody tr[data-event]').length > 0,
		    null, 'the waterfall rows');
		const rows = await page.$$eval('#drilldown table.waterfall tbody tr[data-event]', (trs) => trs.map((tr) => ({
			name: tr.dataset.event,
			offset: tr.querySelector('td.offset').textContent,
			offsetNs: Number(tr.dataset.offsetNs),
		})));
		assert(rows.some((r) => r.name.includes('request_begin')), `no request_begin among ${rows.map((r) => r.name).join(', ')}`);
		assert(rows.some((r) => r.name.includes('request_end')), `no request_end among ${rows.map((r) => r.name).join(', ')}`);
		assert(rows[0].name.includes('request_begin'), `the first event is ${rows[0].name}`);
		assert(rows[0].offset.trim().startsWith('+0') && rows[0].offsetNs === 0, `the first offset is ${rows[0].offset}`);
		for (let i = 1; i < rows.length; i++)
			assert(rows[i].offsetNs >= rows[i - 1].offsetNs, `offsets go back in time at row ${i + 1}`);
		state.drillUrl = page.url();
	}],
	['screenshots at 1366x800 and 390x844; no horizontal overflow on a phone', async () => {
		mkdirSync(SHOTS, {recursive: true});
		const pages = [
			['incidents', '/', (p) => eventually(p, () => document.querySelector('tr[data-incident]'), null, 'incident rows')],
			['incident', `/incidents/${encodeURIComponent(INCIDENT)}`, waitIncidentPage],
			['snapshot', state.drillUrl ? new URL(state.drillUrl).pathname + new URL(state.drillUrl).search : null,
			    (p) => eventually(p, () => document.querySelector('#drilldown table.waterfall tbody tr'), null, 'the waterfall')],
		];
		const problems = [];
		for (const [label, viewport] of [['laptop', LAPTOP], ['phone', PHONE]]) {
			await page.setViewport(viewport);
			for (const [name, where, ready] of pages) {
				if (!where) {
					problems.push(`${name}: no drill-down URL (an earlier check failed)`);
					continue;
				}
				await page.goto(url(where), {waitUntil: 'load'});
				await ready(page);
				/* Let the timeline redraw for the new width. */
				await new Promise((resolve) => setTimeout(resolve, 150));
				await shot(page, `${name}-${label}`);
				if (label === 'phone')
					await noHorizontalOverflow(page, name).catch((e) => problems.push(e.message));
			}
		}
		/* The login page, from a context without the cookie. */
		const context = await browser.createBrowserContext();
		const login = await context.newPage();
		await watch(login);
		for (const [label, viewport] of [['laptop', LAPTOP], ['phone', PHONE]]) {
			await login.setViewport(viewport);
			await login.goto(url('/login'), {waitUntil: 'load'});
			await shot(login, `login-${label}`);
			if (label === 'phone')
				await noHorizontalOverflow(login, 'login').catch((e) => problems.push(e.message));
		}
		await context.close();
		await page.setViewport(LAPTOP);
		assert(!problems.length, few(problems, 10));
	}],
	['no dialog opened during the test', async () => {
		assert(!dialogs.length, few(dialogs));
	}],
	['no Content-Security-Policy violation, every page and asset served with the policy', async () => {
		assert(!violations.length, few(violations));
		assert(!missingCsp.length, `no Content-Security-Policy header on:\n${few(missingCsp)}`);
	}],
	['no uncaught JavaScript error', async () => {
		assert(!pageErrors.length, few(pageErrors));
	}],
];

async function main() {
	profile = mkdtempSync(path.join(tmpdir(), 'tracetrap-chromium-'));
	try {
		browser = await puppeteer.launch({
			executablePath: CHROMIUM,
			headless: true,
			userDataDir: profile,
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			    '--disable-background-networking', '--disable-component-update', '--disable-sync',
			    '--disable-dev-shm-usage', '--disable-default-apps', '--disable-extensions'],
		});
	} catch (error) {
		console.log(`Bail out! cannot start ${CHROMIUM}: ${error.message}`);
		rmSync(profile, {recursive: true, force: true});
		process.exit(2);
	}
	let failed = 0;
	try {
		page = await browser.newPage();
		page.setDefaultTimeout(WAIT);
		await page.setViewport(LAPTOP);
		await watch(page);
		console.log(`1..${checks.length}`);
		for (const [i, [name, fn]] of checks.entries()) {
			try {
				await fn();
				console.log(`ok ${i + 1} - ${name}`);
			} catch (error) {
				failed++;
				console.log(`not ok ${i + 1} - ${name}`);
				for (const line of String(error && error.message || error).split('\n'))
					console.log(`  # ${line}`);
			}
		}
		console.log(`# screenshots in ${SHOTS}`);
	} finally {
		await browser.close().catch(() => {});
		rmSync(profile, {recursive: true, force: true});
	}
	process.exit(failed ? 1 : 0);
}

main().catch((error) => {
	console.log(`Bail out! ${error && error.stack || error}`);
	process.exit(2);
});
