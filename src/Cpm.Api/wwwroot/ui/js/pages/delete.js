// The confirmation step before a delete: what will go, then "Yes, delete it" or back.
// delete.html?team=<id> deletes a team; delete.html?team=<id>&product=<id> one of its products.
import {
    aliasOf, api, apiPath, code, flash, h, link, requireKey, setTitle, showErrorSummary, showProblem, summaryList, teamHref, time,
} from '../cpm.js';

const query = new URLSearchParams(location.search);
const teamKey = query.get('team');
const productId = query.get('product');
const heading = document.getElementById('page-heading');

if (requireKey()) {
    await load();
}

async function load() {
    const loading = document.getElementById('loading');
    if (!teamKey) {
        loading.replaceChildren('Nothing to delete was given. ', link('search.html', 'Find a team or product'), '.');
        return;
    }

    document.getElementById('cancel').setAttribute('href', teamHref(teamKey));
    const target = productId ? await productTarget() : await teamTarget();
    if (!target) {
        loading.replaceChildren(link(teamHref(teamKey), 'Go back to the team'));
        return;
    }

    loading.remove();
    setTitle(target.title);
    heading.replaceChildren(...target.question);
    document.getElementById('details').replaceChildren(target.details);
    document.getElementById('consequence').textContent = target.consequence;
    document.getElementById('confirm-delete').textContent = target.button;
    document.getElementById('confirm').hidden = false;
    document.getElementById('delete-form').addEventListener('submit', async event => {
        event.preventDefault();
        const button = document.getElementById('confirm-delete');
        button.disabled = true;
        try {
            await remove(target);
        } finally {
            button.disabled = false;
        }
    });
}

async function teamTarget() {
    const result = await api('GET', apiPath`ProductTeam/${teamKey}`);
    if (!result.ok) {
        showProblem(result);
        return null;
    }

    const team = result.body;
    return {
        title: `Delete ${team.name}`,
        question: ['Are you sure you want to delete the product team ', team.name, '?'],
        details: summaryList([
            ['Team id', code(team.id)],
            ['Alias', aliasOf(team) ? code(aliasOf(team)) : 'None'],
            ['ODS code', team.ods_code],
            ['Created', time(team.created_on)],
        ]),
        consequence: 'The team will no longer be found by its id or alias, and its alias can be given to a new team. A team with products cannot be deleted: delete its products first.',
        button: 'Yes, delete this team',
        path: apiPath`ProductTeam/${teamKey}`,
        done: `Product team ${team.name} (${team.id}) has been deleted.`,
        next: './',
        teamId: team.id,
    };
}

async function productTarget() {
    const result = await api('GET', apiPath`Product/${productId}`);
    if (!result.ok) {
        showProblem(result);
        return null;
    }

    const product = result.body;
    return {
        title: `Delete ${product.id}`,
        question: ['Are you sure you want to delete the product ', h('span', { class: 'cpm-nowrap' }, product.id), '?'],
        details: summaryList([
            ['Product id', code(product.id)],
            ['Name', product.name],
            ['Product team', link(teamHref(product.cpm_product_team_id), code(product.cpm_product_team_id))],
            ['Created', time(product.created_on)],
        ]),
        consequence: 'The product will no longer be found by its id or in searches. Its id is never given to another product.',
        button: 'Yes, delete this product',
        path: apiPath`ProductTeam/${teamKey}/Product/${productId}`,
        done: `Product ${product.id} (${product.name}) has been deleted.`,
        next: teamHref(teamKey),
        teamId: product.cpm_product_team_id,
    };
}

async function remove(target) {
    const result = await api('DELETE', target.path);
    if (result.ok) {
        flash(target.done);
        location.assign(target.next);
        return;
    }

    if (result.status === 409) {
        showErrorSummary([
            ...result.errors.map(error => ({ content: error.message })),
            { content: link(`${teamHref(target.teamId)}#products-heading`, 'Go to the team\u2019s products') },
        ], 'This team still has products, so it cannot be deleted. Delete its products first.');
        return;
    }

    showProblem(result);
}
