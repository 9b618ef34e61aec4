// Opens a product by its id; product.html?id=<id> opens it straight away.
import {
    api, apiPath, clearErrorSummary, clearFieldErrors, code, h, link, requireKey, setFieldError, setTitle, showErrorSummary, showFlash,
    showProblem, summaryList, teamHref, time,
} from '../cpm.js';

const form = document.getElementById('product-form');
const input = document.getElementById('product_id');
const container = document.getElementById('product');

if (requireKey()) {
    form.addEventListener('submit', async event => {
        event.preventDefault();
        const id = input.value.trim();
        history.replaceState(null, '', id ? `product.html?id=${encodeURIComponent(id)}` : 'product.html');
        await open(id, true);
    });

    const id = new URLSearchParams(location.search).get('id');
    if (id) {
        input.value = id;
        await open(id, false);
    }

    // After opening: opening clears the notices, and the message is about what was opened.
    showFlash();
}

async function open(id, moveFocus) {
    clearFieldErrors(form);
    clearErrorSummary();
    container.replaceChildren();
    if (!id) {
        setFieldError(input, ['Enter a product id']);
        showErrorSummary([{ text: 'Enter a product id', href: '#product_id' }]);
        return;
    }

    const result = await api('GET', apiPath`Product/${id}`);
    if (result.status === 404) {
        const message = result.errors[0]?.message ?? 'Not found';
        setFieldError(input, [message]);
        showErrorSummary([{ text: message, href: '#product_id' }]);
        return;
    }

    if (!result.ok) {
        showProblem(result);
        return;
    }

    const product = result.body;
    setTitle(`${product.name} (${product.id})`);
    container.replaceChildren(
        h('h2', { id: 'product-heading', tabindex: '-1' }, product.name),
        summaryList([
            ['Product id', code(product.id)],
            ['Name', product.name],
            ['Product team', link(teamHref(product.cpm_product_team_id), code(product.cpm_product_team_id))],
            ['Team alias', product.product_team_id ? code(product.product_team_id) : 'None'],
            ['ODS code', product.ods_code],
            ['Status', product.status],
            ['Created', time(product.created_on)],
            product.updated_on ? ['Updated', time(product.updated_on)] : null,
        ], { id: 'product-summary' }),
        h('ul', { class: 'nhsuk-list', id: 'product-links' },
            h('li', {}, link(`rename.html?team=${encodeURIComponent(product.cpm_product_team_id)}&product=${encodeURIComponent(product.id)}`, 'Rename this product')),
            h('li', {}, link(`history.html?product=${encodeURIComponent(product.id)}`, 'See who changed what (history)'))),
        h('a', {
            class: 'nhsuk-button nhsuk-button--warning',
            href: `delete.html?team=${encodeURIComponent(product.cpm_product_team_id)}&product=${encodeURIComponent(product.id)}`,
        }, 'Delete this product'));
    if (moveFocus) {
        document.getElementById('product-heading').focus();
    }
}
