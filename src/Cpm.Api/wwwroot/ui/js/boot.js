// Runs first in <body>, before anything renders, as the NHS.UK frontend template's inline
// snippet does; it is a file here because the pages' Content-Security-Policy allows no inline script.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
