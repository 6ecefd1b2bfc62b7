/*
 * dom.js: the only way these pages build markup.
 *
 * Everything a node sends us (node names, reasons, URIs, procnames, event
 * fields...) is untrusted, so nothing here parses HTML: h() and svg()
 * create elements, and every string child becomes a text node. Attributes
 * are set one by one; "style" and on* handlers are refused because the
 * relay's Content-Security-Policy forbids them anyway (use classes, or
 * element.style from code).
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

function setAttrs(el, attrs) {
	for (const [key, value] of Object.entries(attrs || {})) {
		if (value === undefined || value === null || value === false)
			continue;
		if (key === 'style' || key.startsWith('on'))
			throw new Error(`dom: refusing attribute ${key}`);
		if (key === 'dataset')
			Object.assign(el.dataset, value);
		else
			el.setAttribute(key, value === true ? '' : String(value));
	}
}

function append(el, children) {
	for (const child of children.flat(Infinity)) {
		if (child === undefined || child === null || child === false)
			continue;
		el.append(child instanceof Node ? child :
		    document.createTextNode(String(child)));
	}
	return el;
}

/* An HTML element: h('a', {href: '/x', class: 'link'}, 'text', child...). */
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	setAttrs(el, attrs);
	return append(el, children);
}

/* An SVG element; text children become text nodes too (e.g. in <title>). */
export function svg(tag, attrs, ...children) {
	const el = document.createElementNS(SVG_NS, tag);
	setAttrs(el, attrs);
	return append(el, children);
}

/* Replaces every child of el. */
export function replace(el, ...children) {
	el.replaceChildren();
	return append(el, children);
}

/* An API or page error, as text, for the place that could not be drawn. */
export function errorBox(error, what = 'This page') {
	return h('div', {class: 'notice error', role: 'alert'},
	    h('strong', null, `${what} could not be loaded. `),
	    error && error.message ? error.message : String(error));
}
