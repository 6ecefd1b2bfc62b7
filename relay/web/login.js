/*
 * login.js: small helps for login.html, which works without it. Carries
 * ?next= (where to go after logging in) into the form, and says so when
 * the relay refused the token (it answers the POST with 401 and this page).
 */

/*
 * Only a path on this relay: "/..." but not "//host" or "/\host", and no
 * control character, space or backslash anywhere (browsers drop tabs and
 * newlines from URLs: "/\t/host" would be "//host"). The relay checks
 * the same.
 */
function safeNext(value) {
	return typeof value === 'string' && value.length <= 1024 &&
	    /^\/(?![/\\])[\x21-\x7e]*$/.test(value) &&
	    !value.includes('\\') ? value : '';
}

const form = document.querySelector('form.login');
const next = safeNext(new URLSearchParams(location.search).get('next'));
if (next) {
	form.elements.next.value = next;
	/* Keep ?next= in the address, so a wrong token does not lose it. */
	form.action = `/login?next=${encodeURIComponent(next)}`;
}
const [navigation] = performance.getEntriesByType('navigation');
if (navigation && navigation.responseStatus === 401)
	document.getElementById('login-error').hidden = false;
