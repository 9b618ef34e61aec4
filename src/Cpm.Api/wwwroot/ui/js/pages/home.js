import { apiKey, session, showErrorSummary, showFlash } from '../cpm.js';

showFlash();
if (new URLSearchParams(location.search).get('signin') === 'failed') {
    showErrorSummary([{ content: 'Signing in did not complete, so you are not signed in. Try again.' }]);
}

const ready = session ? session.signed_in : apiKey.get();
document.getElementById(ready ? 'actions' : session ? 'sign-in-needed' : 'key-needed').hidden = false;
