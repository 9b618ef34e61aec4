// Brings back a deleted team (restore.html?team=<team id>) or product (?product=<product id>):
// it is read with include_deleted=true so the page can show that it is deleted, then restored
// with POST .../Restore.
import {
    api, apiPath, clearErrorSummary, clearFieldErrors, code, h, link, productHref, requireKey, setFieldError, setTitle, showErrorSummary,
    showProblem, statusTag, summaryList, teamHref, time,
} from '../cpm.js';

const found = document.getElementById('found');
const kinds = {
    team: {
        form: document.getElementById('by-team'), input: document.getElementById('team'), empty: 'Enter a product team id', noun: 'product team',
        read: id => apiPath`ProductTeam/${id}?include_deleted=true`,
        restore: team => apiPath`ProductTeam/${team.id}/Restore`,
        open: team => teamHref(team.id),
        rows: team => [['Name', team.name], ['Team id', code(team.id)], ['ODS code', team.ods_code]],
    },
    product: {
        form: document.getElementById('by-product'), input: document.getElementById('product'), empty: 'Enter a product id', noun: 'product',
        read: id => apiPath`Product/${id}?include_deleted=true`,
        restore: product => apiPath`ProductTeam/${product.cpm_product_team_id}/Product/${product.id}/Restore`,
        open: product => productHref(product.id),
        rows: product => [
            ['Name', product.name],
            ['Product id', code(product.id)],
            ['Product team', link(teamHref(product.cpm_product_team_id), code(product.cpm_product_team_id))],
        ],
    },
};

if (requireKey()) {
    for (const [name, kind] of Object.entries(kinds)) {
        kind.form.addEventListener('submit', async event => {
            event.preventDefault();
            const value = kind.input.value.trim();
            history.replaceState(null, '', value ? `restore.html?${name}=${encodeURIComponent(value)}` : 'restore.html');
            await find(kind, value, true);
        });
    }

    const query = new URLSearchParams(location.search);
    for (const [name, kind] of Object.entries(kinds)) {
        if (query.get(name)) {
            kind.input.value = query.get(name);
            await find(kind, query.get(name), false);
        }
    }
}

async function find(kind, id, moveFocus) {
    for (const other of Object.values(kinds)) {
        clearFieldErrors(other.form);
    }

    clearErrorSummary();
    found.replaceChildren();
    if (!id) {
        setFieldError(kind.input, [kind.empty]);
        showErrorSummary([{ text: kind.empty, href: `#${kind.input.id}` }]);
        return;
    }

    const result = await api('GET', kind.read(id));
    if (result.status === 404) {
        const message = result.errors[0]?.message ?? 'Not found';
        setFieldError(kind.input, [message]);
        showErrorSummary([{ text: message, href: `#${kind.input.id}` }]);
        return;
    }

    if (!result.ok) {
        showProblem(result);
        return;
    }

    show(kind, result.body, moveFocus);
}

function show(kind, entity, moveFocus) {
    const deleted = entity.status !== 'active';
    const heading = h('h2', { id: 'found-heading', tabindex: '-1' }, deleted ? `Deleted ${kind.noun}: ${entity.name}` : `${capitalise(kind.noun)} ${entity.name} is not deleted`);
    const details = summaryList([
        ...kind.rows(entity),
        ['Status', statusTag(entity)],
        deleted ? ['Deleted', time(entity.deleted_on)] : null,
    ], { id: 'found-summary' });
    setTitle(heading.textContent);
    if (!deleted) {
        found.replaceChildren(heading, details, h('p', {}, link(kind.open(entity), `Open the ${kind.noun}`)));
    } else {
        const button = h('button', { class: 'nhsuk-button', type: 'submit', id: 'restore' }, `Restore this ${kind.noun}`);
        const form = h('form', { id: 'restore-form', novalidate: true }, button);
        form.addEventListener('submit', async event => {
            event.preventDefault();
            button.disabled = true;
            try {
                await restore(kind, entity);
            } finally {
                button.disabled = false;
            }
        });
        found.replaceChildren(heading, details, form);
    }

    if (moveFocus) {
        heading.focus();
    }
}

async function restore(kind, entity) {
    clearErrorSummary();
    const result = await api('POST', kind.restore(entity));
    if (!result.ok) {
        showProblem(result);
        return;
    }

    const restored = result.body;
    const panel = h('div', { class: 'nhsuk-panel', id: 'restored-panel', role: 'region', tabindex: '-1', 'aria-labelledby': 'restored-heading' },
        h('h2', { class: 'nhsuk-panel__heading', id: 'restored-heading' }, `${capitalise(kind.noun)} restored`),
        h('div', { class: 'nhsuk-panel__body' },
            h('p', {}, `${restored.name} is active again.`),
            h('p', { class: 'nhsuk-u-margin-bottom-0' }, h('a', { class: 'nhsuk-link cpm-panel-link', href: kind.open(restored), id: 'open-restored' }, `Open the ${kind.noun}`))));
    found.replaceChildren(panel, summaryList([...kind.rows(restored), ['Status', statusTag(restored)]], { id: 'found-summary' }));
    setTitle(`${capitalise(kind.noun)} restored`);
    panel.focus();
}

function capitalise(text) {
    return text[0].toUpperCase() + text.slice(1);
}
