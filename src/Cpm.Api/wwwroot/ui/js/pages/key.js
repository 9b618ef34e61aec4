// The key is checked against /_status (which needs a valid key) before it is kept for this tab.
import {
    api, apiKey, clearFieldErrors, clearErrorSummary, safeNext, session, setFieldError, showErrorSummary, showProblem, showSuccess,
} from '../cpm.js';

const form = document.getElementById('key-form');
const input = document.getElementById('apikey');
const present = document.getElementById('key-present');
const next = safeNext(new URLSearchParams(location.search).get('next'));

present.hidden = !apiKey.get();

// People sign in where the service offers it: the browser then holds no API key at all.
if (session) {
    apiKey.clear();
    document.getElementById('key-entry').hidden = true;
    document.getElementById('people-sign-in').hidden = false;
}

document.getElementById('forget-key').addEventListener('click', () => {
    apiKey.clear();
    present.hidden = true;
    showSuccess('The API key has been forgotten for this tab.');
    input.focus();
});

form.addEventListener('submit', async event => {
    event.preventDefault();
    clearFieldErrors(form);
    clearErrorSummary();
    const key = input.value;
    if (!key.trim()) {
        setFieldError(input, ['Enter your API key']);
        showErrorSummary([{ text: 'Enter your API key', href: '#apikey' }]);
        return;
    }

    const result = await api('GET', '_status', undefined, key);
    if (result.status === 403) {
        const message = `The API key was not accepted: ${result.errors.map(error => error.message).join(' ')}`;
        setFieldError(input, [message]);
        showErrorSummary([{ text: message, href: '#apikey' }]);
        return;
    }

    // Any other answer came past the key check (a 503 only means storage is down right now).
    if (result.status === 0) {
        showProblem(result);
        return;
    }

    apiKey.set(key);
    location.assign(next);
});
