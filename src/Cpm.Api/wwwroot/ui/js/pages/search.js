// Finds products by team (id or alias) or by organisation. The query stays in the address
// (search.html?team=... or ?organisation=...) so a result can be reloaded or shared.
import {
    aliasOf, api, apiPath, clearErrorSummary, clearFieldErrors, code, h, link, productHref, requireKey, setFieldError, setTitle,
    showErrorSummary, showProblem, summaryList, table, teamHref, time,
} from '../cpm.js';

const results = document.getElementById('results');
const searches = {
    team: { form: document.getElementById('by-team'), input: document.getElementById('team'), empty: 'Enter a product team id or alias', run: byTeam },
    organisation: { form: document.getElementById('by-organisation'), input: document.getElementById('organisation'), empty: 'Enter an ODS code', run: byOrganisation },
};

if (requireKey()) {
    for (const [name, search] of Object.entries(searches)) {
        search.form.addEventListener('submit', async event => {
            event.preventDefault();
            for (const other of Object.values(searches)) {
                clearFieldErrors(other.form);
            }

            clearErrorSummary();
            const value = search.input.value.trim();
            if (!value) {
                setFieldError(search.input, [search.empty]);
                showErrorSummary([{ text: search.empty, href: `#${search.input.id}` }]);
                return;
            }

            history.replaceState(null, '', `search.html?${name}=${encodeURIComponent(value)}`);
            await show(search, value, true);
        });
    }

    const query = new URLSearchParams(location.search);
    for (const [name, search] of Object.entries(searches)) {
        if (query.get(name)) {
            search.input.value = query.get(name);
            await show(search, query.get(name), false);
        }
    }
}

async function show(search, value, moveFocus) {
    results.replaceChildren(h('p', {}, 'Searching…'));
    const content = await search.run(value);
    if (!content) {
        results.replaceChildren();
        return;
    }

    results.replaceChildren(...content);
    const heading = document.getElementById('results-heading');
    setTitle(heading.textContent);
    if (moveFocus) {
        heading.focus();
    }
}

// Function declarations, not consts: the search in the address runs at module start, before a
// const further down would be initialised.
function productsOf(body) {
    return body.results.flatMap(org => org.product_teams.flatMap(entry => entry.products));
}

async function byTeam(value) {
    const team = await api('GET', apiPath`ProductTeam/${value}`);
    if (team.status === 404) {
        return [resultsHeading(`No product team found for ${value}`), h('p', {}, team.errors[0]?.message)];
    }

    if (!team.ok) {
        showProblem(team);
        return null;
    }

    const products = await api('GET', `Product?product_team_id=${encodeURIComponent(value)}`);
    if (!products.ok) {
        showProblem(products);
        return null;
    }

    const found = productsOf(products.body);
    return [
        resultsHeading(`Products of ${team.body.name}`),
        summaryList([
            ['Product team', link(teamHref(team.body.id), team.body.name)],
            ['Team id', code(team.body.id)],
            ['Alias', aliasOf(team.body) ? code(aliasOf(team.body)) : 'None'],
            ['ODS code', team.body.ods_code],
        ]),
        found.length === 0
            ? h('p', { id: 'no-products' }, 'This team has no products.')
            : table(count(found.length, 'product'), ['Product id', 'Name', 'Created'],
                found.map(product => [link(productHref(product.id), code(product.id)), product.name, time(product.created_on)]), { id: 'products-table' }),
    ];
}

async function byOrganisation(value) {
    const [teams, products] = await Promise.all([
        api('GET', `ProductTeam?organisation_code=${encodeURIComponent(value)}`),
        api('GET', `Product?organisation_code=${encodeURIComponent(value)}`),
    ]);
    for (const result of [teams, products]) {
        if (!result.ok) {
            showProblem(result);
            return null;
        }
    }

    const teamList = teams.body.results;
    const found = productsOf(products.body);
    const teamNames = new Map(teamList.map(team => [team.id, team.name]));
    if (teamList.length === 0 && found.length === 0) {
        return [resultsHeading(`No product teams found for organisation ${value}`), h('p', {}, 'Check the ODS code: it must match the code the teams were created with.')];
    }

    return [
        resultsHeading(`Organisation ${value}`),
        table(count(teamList.length, 'product team'), ['Team', 'Team id', 'Alias'],
            teamList.map(team => [link(teamHref(team.id), team.name), code(team.id), aliasOf(team) ? code(aliasOf(team)) : 'None']), { id: 'teams-table' }),
        found.length === 0
            ? h('p', { id: 'no-products' }, 'These teams have no products.')
            : table(count(found.length, 'product'), ['Product id', 'Name', 'Product team'],
                found.map(product => [
                    link(productHref(product.id), code(product.id)),
                    product.name,
                    link(teamHref(product.cpm_product_team_id), teamNames.get(product.cpm_product_team_id) ?? product.cpm_product_team_id),
                ]), { id: 'products-table' }),
    ];
}

function resultsHeading(text) {
    return h('h2', { id: 'results-heading', tabindex: '-1' }, text);
}

function count(n, noun) {
    return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
