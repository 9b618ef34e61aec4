// Renames a team (rename.html?team=<id>) or a product (rename.html?team=<id>&product=<id>) with
// the version it was read at (If-Match: its ETag). When someone else changed it meanwhile, the
// API answers 412: the page says so, shows the name it has now and takes the new version, so
// saving again is a deliberate choice over the other person's change.
import {
    api, apiPath, clearErrorSummary, clearFieldErrors, code, flash, h, link, productHref, requireKey, setFieldError, setTitle,
    showErrorSummary, showFieldErrors, showProblem, summaryList, teamHref,
} from '../cpm.js';

const query = new URLSearchParams(location.search);
const teamKey = query.get('team');
const productId = query.get('product');
const form = document.getElementById('rename-form');
const input = document.getElementById('name');

if (requireKey()) {
    await load();
}

async function load() {
    const loading = document.getElementById('loading');
    if (!teamKey) {
        loading.replaceChildren('Nothing to rename was given. ', link('search.html', 'Find a team or product'), '.');
        return;
    }

    const target = productId ? productTarget() : teamTarget();
    const current = await read(target);
    if (!current) {
        loading.replaceChildren(link(target.back, 'Go back'));
        return;
    }

    loading.remove();
    setTitle(`Rename ${current.body.name}`);
    document.getElementById('page-heading').textContent = target.heading;
    document.getElementById('name-rules').textContent = target.rules;
    document.getElementById('cancel').setAttribute('href', target.back);
    input.value = current.body.name;
    let version = current;
    showCurrent(target, version.body);
    document.getElementById('rename').hidden = false;

    form.addEventListener('submit', async event => {
        event.preventDefault();
        const button = document.getElementById('save-name');
        button.disabled = true;
        try {
            version = await save(target, version) ?? version;
        } finally {
            button.disabled = false;
        }
    });
}

function teamTarget() {
    return {
        heading: 'Rename the product team',
        rules: 'Words separated by single spaces.',
        model: 'UpdateProductTeamIncomingParams',
        read: apiPath`ProductTeam/${teamKey}`,
        write: apiPath`ProductTeam/${teamKey}`,
        back: teamHref(teamKey),
        noun: 'team',
        rows: team => [['Team id', code(team.id)], ['ODS code', team.ods_code]],
    };
}

function productTarget() {
    return {
        heading: 'Rename the product',
        rules: 'Letters, digits, spaces and punctuation from the ASCII range.',
        model: 'UpdateCpmProductIncomingParams',
        read: apiPath`Product/${productId}`,
        write: apiPath`ProductTeam/${teamKey}/Product/${productId}`,
        back: productHref(productId),
        noun: 'product',
        rows: product => [['Product id', code(product.id)], ['Product team', link(teamHref(product.cpm_product_team_id), code(product.cpm_product_team_id))]],
    };
}

async function read(target) {
    const result = await api('GET', target.read);
    if (!result.ok) {
        showProblem(result);
        return null;
    }

    return result;
}

function showCurrent(target, entity) {
    document.getElementById('details').replaceChildren(summaryList([
        ['Current name', h('span', { id: 'current-name' }, entity.name)],
        ...target.rows(entity),
    ], { id: 'rename-summary' }));
}

/** Saves the name with If-Match; returns the version the page now holds, or null when unchanged. */
async function save(target, version) {
    clearFieldErrors(form);
    clearErrorSummary();
    const result = await api('PATCH', target.write, { name: input.value }, undefined, { 'If-Match': version.etag });
    if (result.ok) {
        flash(`The ${target.noun} is now called ${result.body.name}.`);
        location.assign(target.back);
        return result;
    }

    if (result.status === 400) {
        showFieldErrors(form, target.model, result.errors, { name: { input, label: 'New name' } });
        return null;
    }

    if (result.status === 412) {
        // Someone else changed it since this page read it: show what it is now and keep their change unless saved over.
        const now = await read(target);
        if (!now) {
            return null;
        }

        showCurrent(target, now.body);
        const message = `Someone else changed this ${target.noun} while you were editing it. Its name is now \u201c${now.body.name}\u201d. Check the new name, then save again to replace theirs.`;
        setFieldError(input, [message]);
        showErrorSummary([{ text: message, href: '#name' }], 'Your change was not saved.');
        return now;
    }

    showProblem(result);
    return null;
}
