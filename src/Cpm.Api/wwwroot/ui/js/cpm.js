// Shared by every page: the API key held in this tab, calls to the CPM API, and NHS.UK
// frontend markup (error summary, error messages, tables, summary lists) built from API data.
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

/** Sends the page to the key form (coming back here afterwards) when this tab has no key yet. */
export function requireKey() {
    if (apiKey.get()) {
        return true;
    }

    const here = location.pathname.split('/').pop() + location.search;
    location.replace(`key.html?next=${encodeURIComponent(here)}`);
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
 * Calls the API with the tab's key and version 1. Never throws: the result carries the status
 * (0 when the service could not be reached), the parsed body and the contract's error list.
 */
export async function api(method, path, body, key = apiKey.get()) {
    const headers = { apikey: key ?? '', version: '1' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
        headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
    }

    let response;
    try {
        response = await fetch(new URL(path, apiRoot), init);
    } catch {
        return { ok: false, status: 0, body: null, errors: [{ code: 'NETWORK_ERROR', message: 'The service could not be reached. Check your connection and try again.' }] };
    }

    const text = await response.text();
    let json = null;
    try {
        json = text ? JSON.parse(text) : null;
    } catch {
        json = null;
    }

    const errors = Array.isArray(json?.errors)
        ? json.errors
        : response.ok ? [] : [{ code: `HTTP_${response.status}`, message: text || response.statusText }];
    return { ok: response.ok, status: response.status, body: json, errors };
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
    return h('dl', { ...attributes, class: 'nhsuk-summary-list' },
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
            showErrorSummary([...items, { content: link('key.html', 'Enter the API key again') }], 'The API key was not accepted.');
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
