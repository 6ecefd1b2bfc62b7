/*
 * app.js: the entry point of app.html. The relay serves the same shell for
 * /, /incidents/<id> and /snapshots/<id>; this picks the page from the
 * path and shows any error the page throws as text.
 */
import {h, replace, errorBox} from './dom.js';
import * as incidents from './incidents.js';
import * as incident from './incident.js';
import * as snapshot from './snapshot.js';

const routes = [
	{pattern: /^\/$/, page: incidents},
	{pattern: /^\/incidents\/([^/]+)\/?$/, page: incident},
	{pattern: /^\/snapshots\/([^/]+)\/?$/, page: snapshot},
];

async function start() {
	const main = document.getElementById('main');
	for (const route of routes) {
		const match = location.pathname.match(route.pattern);
		if (!match)
			continue;
		let id = null;
		try {
			id = match[1] !== undefined ? decodeURIComponent(match[1]) : null;
			await route.page.render(main, id);
		} catch (error) {
			replace(main, errorBox(error));
		}
		return;
	}
	replace(main, h('div', {class: 'notice error'},
	    'No such page. ', h('a', {href: '/'}, 'See the incidents.')));
}

start();
