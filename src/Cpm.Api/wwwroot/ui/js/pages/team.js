import {
    aliasOf, api, apiPath, clearErrorSummary, clearFieldErrors, code, h, link, productHref, requireKey, setTitle, showFieldErrors, showFlash,
    showProblem, summaryList, table, time,
} from '../cpm.js';

const teamKey = new URLSearchParams(location.search).get('id');
const form = document.getElementById('product-form');
const nameInput = document.getElementById('product_name');

if (requireKey()) {
    showFlash();
    await load();
}

async function load() {
    const loading = document.getElementById('loading');
    if (!teamKey) {
        loading.replaceChildren('No team was given. ', link('search.html', 'Find a team by its id, alias or organisation'), '.');
        return;
    }

    const result = await api('GET', apiPath`ProductTeam/${teamKey}`);
    if (!result.ok) {
        loading.replaceChildren(link('search.html', 'Find a team by its id, alias or organisation'));
        showProblem(result);
        return;
    }

    const team = result.body;
    loading.remove();
    showTeam(team);
    await showProducts(team);
    form.addEventListener('submit', async event => {
        event.preventDefault();
        const button = document.getElementById('create-product');
        button.disabled = true;
        try {
            await createProduct(team);
        } finally {
            button.disabled = false;
        }
    });
    document.getElementById('team').hidden = false;
}

function showTeam(team) {
    setTitle(team.name);
    document.getElementById('page-heading').textContent = team.name;
    document.getElementById('delete-team').setAttribute('href', `delete.html?team=${encodeURIComponent(team.id)}`);
    document.getElementById('rename-team').setAttribute('href', `rename.html?team=${encodeURIComponent(team.id)}`);
    document.getElementById('team-history').setAttribute('href', `history.html?team=${encodeURIComponent(team.id)}`);
    document.getElementById('organisation-teams').setAttribute('href', `teams.html?organisation=${encodeURIComponent(team.ods_code)}`);
    document.getElementById('team-details').replaceChildren(summaryList([
        ['Team id', code(team.id)],
        ['Alias', aliasOf(team) ? code(aliasOf(team)) : 'None'],
        ['Name', team.name],
        ['ODS code', team.ods_code],
        ['Status', team.status],
        ['Created', time(team.created_on)],
        team.updated_on ? ['Updated', time(team.updated_on)] : null,
    ], { id: 'team-summary' }));
}

async function showProducts(team) {
    const container = document.getElementById('products');
    const result = await api('GET', `Product?product_team_id=${encodeURIComponent(team.id)}`);
    if (!result.ok) {
        container.replaceChildren(h('p', {}, 'The products could not be loaded.'));
        showProblem(result);
        return;
    }

    const products = result.body.results.flatMap(org => org.product_teams.flatMap(entry => entry.products));
    if (products.length === 0) {
        container.replaceChildren(h('p', { id: 'no-products' }, 'This team has no products.'));
        return;
    }

    container.replaceChildren(table(`${products.length} ${products.length === 1 ? 'product' : 'products'}`, ['Product id', 'Name', 'Created', 'Action'],
        products.map(product => [
            link(productHref(product.id), code(product.id)),
            product.name,
            time(product.created_on),
            link(`delete.html?team=${encodeURIComponent(team.id)}&product=${encodeURIComponent(product.id)}`,
                'Delete', h('span', { class: 'nhsuk-u-visually-hidden' }, ` product ${product.id} (${product.name})`)),
        ]), { id: 'products-table' }));
}

async function createProduct(team) {
    const result = await api('POST', apiPath`ProductTeam/${team.id}/Product`, { name: nameInput.value });
    if (result.status === 400) {
        showFieldErrors(form, 'CreateCpmProductIncomingParams', result.errors, { name: { input: nameInput, label: 'Product name' } });
        return;
    }

    if (result.status !== 201) {
        clearFieldErrors(form);
        showProblem(result);
        return;
    }

    clearErrorSummary();
    clearFieldErrors(form);
    form.reset();

    showCreated(result.body);
    await showProducts(team);
}

/** The new id, large, with a copy button; focus moves here so it is read out at once. */
function showCreated(product) {
    const status = h('p', { class: 'cpm-copy-status', role: 'status', id: 'copy-status' });
    const copy = h('button', { class: 'nhsuk-button nhsuk-button--reverse nhsuk-u-margin-bottom-0', type: 'button', id: 'copy-product-id' }, 'Copy product id');
    const id = h('strong', { class: 'cpm-product-id', id: 'new-product-id' }, product.id);
    copy.addEventListener('click', async () => {
        try {
            await navigator.clipboard.writeText(product.id);
            status.textContent = `Copied ${product.id} to the clipboard.`;
        } catch {
            // Without clipboard access, select the id so the keyboard's copy command takes it.
            getSelection().selectAllChildren(id);
            status.textContent = 'The id is selected: press Ctrl+C (or Cmd+C) to copy it.';
        }
    });
    const panel = h('div', { class: 'nhsuk-panel', id: 'created-panel', role: 'region', tabindex: '-1', 'aria-labelledby': 'created-heading' },
        h('h3', { class: 'nhsuk-panel__heading', id: 'created-heading' }, 'Product created'),
        h('div', { class: 'nhsuk-panel__body' },
            h('p', { class: 'nhsuk-u-margin-bottom-0' }, `The product id of ${product.name} is`),
            id,
            copy,
            status));
    document.getElementById('created').replaceChildren(panel);
    panel.focus();
}
