/*
 * api.js: the one way the pages talk to the relay's /v1 API.
 *
 * Same-origin fetches with the session cookie; a 401 sends the browser to
 * /login and back here afterwards; every other error becomes an ApiError
 * carrying the relay's {"error", "message"} so pages can show the message.
 * Integers too large for a JavaScript number (UTC nanoseconds) are kept
 * exact as digit strings (see fmt.ns).
 */

export class ApiError extends Error {
	constructor(status, code, message) {
		super(message || code || `HTTP ${status}`);
		this.status = status;
		this.code = code || `http_${status}`;
	}
}

/*
 * JSON.parse rounds 1796597272893418510 to ...8512, which would move a
 * request's begin by up to 128 ns and lose its first event. The regular
 * expression skips whole strings (so digits inside a URI are untouched)
 * and quotes integers that are not safe.
 */
const TOKENS = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g;

export function parseJson(text) {
	return JSON.parse(text.replace(TOKENS, (match) =>
	    match[0] === '"' || Number.isSafeInteger(Number(match)) ?
	    match : `"${match}"`));
}

export function loginUrl() {
	const here = location.pathname + location.search;
	return `/login?next=${encodeURIComponent(here)}`;
}

/* GET a JSON document; path is under /v1, query an object of parameters. */
export async function get(path, query = {}) {
	const params = new URLSearchParams();
	for (const [key, value] of Object.entries(query))
		if (value !== undefined && value !== null && value !== '')
			params.set(key, String(value));
	const url = `/v1${path}${params.size ? `?${params}` : ''}`;
	let response;
	try {
		response = await fetch(url, {credentials: 'same-origin',
		    headers: {Accept: 'application/json'}});
	} catch (e) {
		throw new ApiError(0, 'network',
		    `the relay did not answer (${e.message}); is it running?`);
	}
	if (response.status === 401) {
		location.replace(loginUrl());
		/* Nothing to render while the browser leaves. */
		return new Promise(() => {});
	}
	const text = await response.text();
	let body = null;
	try {
		body = parseJson(text);
	} catch {
		body = null;
	}
	if (!response.ok) {
		throw new ApiError(response.status, body && body.error,
		    body && typeof body.message === 'string' ? body.message :
		    `${response.status} ${response.statusText} from ${url}`);
	}
	if (body === null)
		throw new ApiError(response.status, 'bad_json',
		    `the relay sent something that is not JSON for ${url}`);
	return body;
}

export const paths = {
	incidents: () => '/incidents',
	incident: (id) => `/incidents/${encodeURIComponent(id)}`,
	summary: (id) => `/snapshots/${encodeURIComponent(id)}/summary`,
	events: (id) => `/snapshots/${encodeURIComponent(id)}/events`,
};

/* Links to pages and downloads, for <a href>. */
export const links = {
	incident: (id) => `/incidents/${encodeURIComponent(id)}`,
	snapshot: (id, request) => `/snapshots/${encodeURIComponent(id)}` +
	    (request ? `?request=${encodeURIComponent(request)}` : ''),
	archive: (id) => `/v1/snapshots/${encodeURIComponent(id)}/archive`,
	manifest: (id) => `/v1/snapshots/${encodeURIComponent(id)}/manifest`,
	summary: (id) => `/v1/snapshots/${encodeURIComponent(id)}/summary`,
};
