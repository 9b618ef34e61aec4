// Shared by every page: who is calling (a person's session, or the API key held in this tab),
// calls to the CPM API, and NHS.UK frontend markup (error summary, error messages, tables,
// summary lists, pagination) built from API data.
// Text from the API is only ever inserted as text nodes, never as HTML.
import { ErrorSummary, initAll } from '../vendor/nhsuk-frontend.min.js';

initAll();

const keyItem = 'cpm.apiKey';
const flashItem = 'cpm.flash';

// The pages live in <root>/ui/, the API at <root>/, so the service can sit behind a path prefix.
const apiRoot = new URL('../', document.baseURI);

/** The API key for this tab: session storage only, never a cookie or local storage. */
export const apiKey = {
    get: () => sessionStorage.getItem(keyItem),
    set: value => sessionStorage.setItem(keyItem, value),
    clear: () => sessionStorage.removeItem(keyItem),
};

/**
 * The person's session when the service lets people sign in ({ signed_in, name, scopes,
 * ods_codes, antiforgery_token }); null when it does not (GET /session is 404), and the pages
 * then ask for an API key as before.
 */
export const session = await loadSession();

async function loadSession() {
    try {
        const response = await fetch(new URL('session', apiRoot), { cache: 'no-store', credentials: 'same-origin' });
        return response.ok ? await response.json() : null;
    } catch {
        return null;
    }
}

/** Goes to the provider's sign-in, coming back to this page. */
export function signIn() {
    location.assign(new URL(`signin?next=${encodeURIComponent(currentPage())}`, apiRoot));
}

function currentPage() {
    return location.pathname.split('/').pop() + location.search;
}

/**
 * Sends the page to sign-in (people) or to the key form (API keys), coming back here
 * afterwards, when the tab has neither a session nor a key yet.
 */
export function requireKey() {
    if (session ? session.signed_in : apiKey.get()) {
        return true;
    }

    if (session) {
        signIn();
    } else {
        location.replace(`key.html?next=${encodeURIComponent(currentPage())}`);
    }

    return false;
}

/** Only a page of this UI may be the target after the key form, never another site. */
export function safeNext(value) {
    return /^[a-z-]+\.html(\?[^#]*)?$/.test(value ?? '') ? value : './';
}

/** Builds an API path from a template, encoding every substituted value. */
export function apiPath(strings, ...values) {
    return strings.reduce((path, part, index) => path + part + (index < values.length ? encodeURIComponent(values[index]) : ''), '');
}

/**
 * Calls the API with version 1 and either the session (its cookie and the anti-forgery header)
 * or the tab's key. Never throws: the result carries the status (0 when the service could not
 * be reached), the parsed body, the ETag and the contract's error list. extraHeaders adds
 * headers such as If-Match.
 */
export async function api(method, path, body, key = apiKey.get(), extraHeaders = {}) {
    const response = await send(method, path, body, key, extraHeaders);
    if (!response.ok) {
        return response.failure;
    }

    const text = await response.value.text();
    return parse(response.value, text);
}

/** Calls the API for a file (the export): the result carries a Blob instead of parsed JSON. */
export async function download(path) {
    const response = await send('GET', path, undefined, apiKey.get(), {});
    if (!response.ok) {
        return response.failure;
    }

    if (!response.value.ok) {
        return parse(response.value, await response.value.text());
    }

    return { ok: true, status: response.value.status, blob: await response.value.blob(), errors: [] };
}

async function send(method, path, body, key, extraHeaders) {
    const headers = session
        ? { version: '1', 'X-CSRF-Token': session.antiforgery_token ?? '', ...extraHeaders }
        : { apikey: key ?? '', version: '1', ...extraHeaders };
    const init = { method, headers, cache: 'no-store', credentials: session ? 'same-origin' : 'omit' };
    if (body !== undefined) {
        headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
    }

    try {
        return { ok: true, value: await fetch(new URL(path, apiRoot), init) };
    } catch {
        const failure = { ok: false, status: 0, body: null, errors: [{ code: 'NETWORK_ERROR', message: 'The service could not be reached. Check your connection and try again.' }] };
        return { ok: false, failure };
    }
}

function parse(response, text) {
    let json = null;
    try {
        json = text ? JSON.parse(text) : null;
    } catch {
        json = null;
    }

    const errors = Array.isArray(json?.errors)
        ? json.errors
        : response.ok ? [] : [{ code: `HTTP_${response.status}`, message: text || response.statusText }];
    return { ok: response.ok, status: response.status, body: json, etag: response.headers.get('etag'), errors };
}

/** A DOM element; string children become text nodes. */
export function h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
        if (value === false || value === null || value === undefined) {
            continue;
        }

        if (name === 'class') {
            element.className = value;
        } else {
            element.setAttribute(name, value === true ? '' : value);
        }
    }

    element.append(...children.flat(Infinity).filter(child => child !== null && child !== undefined && child !== false));
    return element;
}

export const code = text => h('span', { class: 'cpm-code' }, text);

const dateFormat = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** A contract timestamp as a readable UTC time, keeping the exact value in datetime. */
export function time(value) {
    if (!value) {
        return 'Not set';
    }

    const date = new Date(value.replace(' ', 'T'));
    return Number.isNaN(date.getTime()) ? value : h('time', { datetime: value }, `${dateFormat.format(date)} UTC`);
}

export function summaryList(rows, attributes = {}) {
    return h('dl', { ...attributes, class: ['nhsuk-summary-list', attributes.class].filter(Boolean).join(' ') },
        rows.filter(Boolean).map(([key, value]) => h('div', { class: 'nhsuk-summary-list__row' },
            h('dt', { class: 'nhsuk-summary-list__key' }, key),
            h('dd', { class: 'nhsuk-summary-list__value' }, value))));
}

export function table(caption, headers, rows, attributes = {}) {
    return h('table', { ...attributes, class: 'nhsuk-table' },
        h('caption', { class: 'nhsuk-table__caption nhsuk-table__caption--m' }, caption),
        h('thead', { class: 'nhsuk-table__head' },
            h('tr', { class: 'nhsuk-table__row' }, headers.map(header => h('th', { class: 'nhsuk-table__header', scope: 'col' }, header)))),
        h('tbody', { class: 'nhsuk-table__body' },
            rows.map(cells => h('tr', { class: 'nhsuk-table__row' }, cells.map(cell => h('td', { class: 'nhsuk-table__cell' }, cell))))));
}

export const link = (href, ...children) => h('a', { class: 'nhsuk-link', href }, ...children);

export const teamHref = id => `team.html?id=${encodeURIComponent(id)}`;
export const productHref = id => `product.html?id=${encodeURIComponent(id)}`;

/** The team's alias (the product_team_id key), or null. */
export const aliasOf = team => team.keys?.find(key => key.key_type === 'product_team_id')?.key_value ?? null;

// ----- Page title, notices and errors -----

let title = document.title;

/** Sets the page's own title; the service name stays, and errors add the NHS "Error: " prefix. */
export function setTitle(text) {
    title = `${text} - Connecting Party Manager - NHS`;
    document.title = document.querySelector('.nhsuk-error-summary') ? `Error: ${title}` : title;
}

/** A message shown once on the next page this tab opens (after a redirect). */
export const flash = message => sessionStorage.setItem(flashItem, message);

/** Shows a message left by the previous page, as an NHS success notification banner. */
export function showFlash() {
    const message = sessionStorage.getItem(flashItem);
    sessionStorage.removeItem(flashItem);
    if (message) {
        showSuccess(message);
    }
}

export function showSuccess(message) {
    const attributes = {
        class: 'nhsuk-notification-banner nhsuk-notification-banner--success', role: 'alert', 'aria-labelledby': 'success-title', id: 'success-banner', tabindex: '-1',
    };
    const banner = h('div', attributes,
        h('div', { class: 'nhsuk-notification-banner__header' },
            h('h2', { class: 'nhsuk-notification-banner__title', id: 'success-title' }, 'Success')),
        h('div', { class: 'nhsuk-notification-banner__content' },
            h('p', { class: 'nhsuk-notification-banner__heading' }, message)));
    document.getElementById('notices').replaceChildren(banner);
}

/**
 * Shows the NHS error summary above the page heading and moves focus to it. Items are
 * { text, href } (a link to a field) or { content } (text or nodes without a link).
 */
export function showErrorSummary(items, description) {
    clearErrorSummary();
    const summary = h('div', { class: 'nhsuk-error-summary', 'data-module': 'nhsuk-error-summary', id: 'error-summary' },
        h('div', { role: 'alert' },
            h('h2', { class: 'nhsuk-error-summary__heading' }, 'There is a problem'),
            h('div', { class: 'nhsuk-error-summary__body' },
                description ? h('p', {}, description) : null,
                h('ul', { class: 'nhsuk-list nhsuk-error-summary__list' },
                    items.map(item => h('li', {}, item.href ? h('a', { href: item.href }, item.text) : item.content))))));
    document.getElementById('notices').after(summary);
    document.title = `Error: ${title}`;
    new ErrorSummary(summary);
}

export function clearErrorSummary() {
    document.getElementById('error-summary')?.remove();
    document.getElementById('notices').replaceChildren();
    document.title = title;
}

/**
 * Shows a failed call that no form field explains (a bad key, an unavailable service, a
 * missing entity, anything else) in the error summary, always with the API's own message.
 */
export function showProblem(result) {
    const items = result.errors.map(error => ({ content: error.message }));
    switch (result.status) {
        case 403:
            if (session) {
                showErrorSummary([...items, { content: link(`../signin?next=${encodeURIComponent(currentPage())}`, 'Sign in again') }], 'You are not allowed to do this.');
            } else {
                showErrorSummary([...items, { content: link('key.html', 'Enter the API key again') }], 'The API key was not accepted.');
            }

            break;
        case 503:
            showErrorSummary(items, 'The service is unavailable at the moment, so nothing was changed. Try again in a few seconds.');
            break;
        default:
            showErrorSummary(items);
    }
}

/** Marks a form field as wrong with the NHS error message markup, next to its label. */
export function setFieldError(input, messages) {
    const group = input.closest('.nhsuk-form-group');
    const id = `${input.id}-error`;
    group.classList.add('nhsuk-form-group--error');
    input.classList.add('nhsuk-input--error');
    const error = h('span', { class: 'nhsuk-error-message', id },
        h('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '),
        messages.flatMap((message, index) => (index === 0 ? [message] : [h('br'), message])));
    (group.querySelector('.nhsuk-hint') ?? group.querySelector('label')).after(error);
    const describedBy = (input.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
    input.setAttribute('aria-describedby', [...describedBy, id].join(' '));
}

export function clearFieldErrors(form) {
    for (const error of form.querySelectorAll('.nhsuk-error-message')) {
        const input = form.querySelector(`[aria-describedby~="${error.id}"]`);
        if (input) {
            const describedBy = input.getAttribute('aria-describedby').split(' ').filter(id => id !== error.id);
            input.setAttribute('aria-describedby', describedBy.join(' '));
            input.classList.remove('nhsuk-input--error');
        }

        error.remove();
    }

    for (const group of form.querySelectorAll('.nhsuk-form-group--error')) {
        group.classList.remove('nhsuk-form-group--error');
    }
}

/**
 * Shows a request's validation errors next to the fields they name and the rest in the
 * summary. fields maps the contract's field names (the first part after "<model>.") to
 * { input, label }; "CreateProductTeamIncomingParams.keys.0.key_value: ..." goes to "keys".
 * extra maps other messages to a field (for example the 422 for an ODS code).
 */
export function showFieldErrors(form, model, errors, fields, extra = () => null) {
    clearFieldErrors(form);
    const byField = new Map();
    const other = [];
    for (const { message } of errors) {
        const match = /^(\w+)\.([\w.]+): ([\s\S]*)$/.exec(message);
        const named = match && match[1] === model ? match[2].split('.')[0] : extra(message);
        const text = match && match[1] === model ? match[3] : message;
        if (named && fields[named]) {
            byField.set(named, [...(byField.get(named) ?? []), text]);
        } else {
            other.push(message);
        }
    }

    const items = [];
    for (const [name, field] of Object.entries(fields)) {
        const messages = byField.get(name);
        if (messages) {
            setFieldError(field.input, messages);
            items.push(...messages.map(text => ({ text: `${field.label}: ${text}`, href: `#${field.input.id}` })));
        }
    }

    showErrorSummary([...items, ...other.map(message => ({ content: message }))]);
}

// ----- Paging and status -----

/** The page size in the address (limit=), 20 when absent or out of the API's 1 to 1000. */
export function pageSize(query) {
    const size = Number(query.get('limit'));
    return Number.isInteger(size) && size >= 1 && size <= 1000 ? size : 20;
}

/**
 * Shows the page's NHS pagination (#pager, from _pager.njk): "Next" goes to nextHref, "First
 * page" to firstHref; a null hides that link. The API's cursors only go forwards.
 */
export function showPager(firstHref, nextHref) {
    const pager = document.getElementById('pager');
    for (const [selector, href] of [['.nhsuk-pagination-item--previous', firstHref], ['.nhsuk-pagination-item--next', nextHref]]) {
        const item = pager.querySelector(selector);
        item.hidden = !href;
        if (href) {
            item.querySelector('a').setAttribute('href', href);
        }
    }

    pager.hidden = !firstHref && !nextHref;
}

/** An NHS tag, for a status such as "Deleted". */
export const tag = (text, colour) => h('strong', { class: `nhsuk-tag nhsuk-tag--${colour}` }, text);

/** A team's or product's status as a tag: deleted ones stand out. */
export const statusTag = entity => (entity.status === 'active' ? tag('Active', 'green') : tag('Deleted', 'red'));

// ----- Who is signed in -----

/** With sign-in: who is signed in and a "Sign out" button above the page; the API key pages are not offered. */
function showAccount() {
    if (!session) {
        return;
    }

    for (const keyLink of document.querySelectorAll('a[href="key.html"]')) {
        (keyLink.closest('li') ?? keyLink).hidden = true;
    }

    if (!session.signed_in) {
        return;
    }

    const button = h('button', { class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0', type: 'button', id: 'sign-out' }, 'Sign out');
    button.addEventListener('click', signOut);
    document.getElementById('account').replaceChildren(
        h('p', { class: 'cpm-account__name' }, 'Signed in as ', h('strong', { id: 'signed-in-name' }, session.name)), button);
}

async function signOut() {
    let response = null;
    try {
        response = await fetch(new URL('signout', apiRoot), {
            method: 'POST', headers: { 'X-CSRF-Token': session.antiforgery_token }, credentials: 'same-origin', cache: 'no-store',
        });
    } catch {
        response = null;
    }

    if (response?.ok) {
        flash('You have signed out.');
        location.assign('./');
    } else {
        showErrorSummary([{ content: 'You could not be signed out. Try again.' }]);
    }
}

showAccount();

// ----- Administrators' pages -----

/**
 * Shows a failed call on a page for administrators: a refusal for want of the admin scope says
 * what the page needs (with the API's message); anything else is shown as showProblem does.
 */
export function showAdminProblem(result, description) {
    if (result.status === 403 && result.errors.some(error => /lacks the 'admin' scope/.test(error.message))) {
        showErrorSummary(result.errors.map(error => ({ content: error.message })), description);
    } else {
        showProblem(result);
    }
}

/**
 * The webhook subscription a page is about (its <code>?id=</code>), or null once the page's
 * loading line says why not: no id given, or the API refused (<code>refused</code> says why an
 * administrator is needed).
 */
export async function loadWebhook(refused) {
    const loading = document.getElementById('loading');
    const id = new URLSearchParams(location.search).get('id');
    if (!id) {
        loading.replaceChildren('No subscription was given. ', link('webhooks.html', 'See the webhook subscriptions'), '.');
        return null;
    }

    const result = await api('GET', apiPath`Webhooks/${id}`);
    if (!result.ok) {
        loading.replaceChildren(link('webhooks.html', 'See the webhook subscriptions'));
        showAdminProblem(result, refused);
        return null;
    }

    loading.remove();
    return result.body;
}

export const webhookHref = id => `webhook.html?id=${encodeURIComponent(id)}`;
export const webhookDeleteHref = id => `webhook-delete.html?id=${encodeURIComponent(id)}`;
