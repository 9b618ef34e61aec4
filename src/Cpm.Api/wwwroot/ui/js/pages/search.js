// Finds products by team (id or alias) or by organisation, a page at a time. The query stays in
// the address (search.html?team=... or ?organisation=..., with [&limit=<n>][&cursor=<c>]) so a
// result can be reloaded or shared, and "Next" is a link to the following page.
import {
    aliasOf, api, apiPath, clearErrorSummary, clearFieldErrors, code, h, link, pageSize, productHref, requireKey, setFieldError, setTitle,
    showErrorSummary, showPager, showProblem, summaryList, table, teamHref, time,
} from '../cpm.js';

const results = document.getElementById('results');
const query = new URLSearchParams(location.search);
const limit = pageSize(query);
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

            history.replaceState(null, '', searchHref(name, value, null));
            await show(name, search, value, null, true);
        });
    }

    for (const [name, search] of Object.entries(searches)) {
        if (query.get(name)) {
            search.input.value = query.get(name);
            await show(name, search, query.get(name), query.get('cursor'), false);
        }
    }
}

function searchHref(name, value, cursor) {
    const params = new URLSearchParams({ [name]: value });
    if (query.has('limit')) {
        params.set('limit', limit);
    }

    if (cursor) {
        params.set('cursor', cursor);
    }

    return `search.html?${params}`;
}

async function show(name, search, value, cursor, moveFocus) {
    results.replaceChildren(h('p', {}, 'Searching…'));
    showPager(null, null);
    const page = { cursor, next: null };
    const content = await search.run(value, page);
    if (!content) {
        results.replaceChildren();
        return;
    }

    results.replaceChildren(...content);
    showPager(cursor ? searchHref(name, value, null) : null, page.next ? searchHref(name, value, page.next) : null);
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

/** One page of products; page.next gets the cursor of the next page, if any. */
async function productPage(parameter, value, page) {
    const params = new URLSearchParams({ [parameter]: value, limit });
    if (page.cursor) {
        params.set('cursor', page.cursor);
    }

    const result = await api('GET', `Product?${params}`);
    if (result.ok) {
        page.next = result.body.next_cursor;
    }

    return result;
}

function caption(n, page) {
    return page.cursor ? `${count(n, 'product')}, a further page` : count(n, 'product');
}

async function byTeam(value, page) {
    const team = await api('GET', apiPath`ProductTeam/${value}`);
    if (team.status === 404) {
        return [resultsHeading(`No product team found for ${value}`), h('p', {}, team.errors[0]?.message)];
    }

    if (!team.ok) {
        showProblem(team);
        return null;
    }

    const products = await productPage('product_team_id', value, page);
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
            ? h('p', { id: 'no-products' }, page.cursor ? 'There are no more products.' : 'This team has no products.')
            : table(caption(found.length, page), ['Product id', 'Name', 'Created'],
                found.map(product => [link(productHref(product.id), code(product.id)), product.name, time(product.created_on)]), { id: 'products-table' }),
    ];
}

async function byOrganisation(value, page) {
    const products = await productPage('organisation_code', value, page);
    if (!products.ok) {
        showProblem(products);
        return null;
    }

    const found = productsOf(products.body);
    const teamsLink = h('p', {}, link(`teams.html?organisation=${encodeURIComponent(value)}`, `List the teams of organisation ${value}`), ', including teams without products.');
    if (found.length === 0) {
        return [
            resultsHeading(page.cursor ? `No more products for organisation ${value}` : `No products found for organisation ${value}`),
            h('p', { id: 'no-products' }, 'Check the ODS code: it must match the code the teams were created with.'),
            teamsLink,
        ];
    }

    // A page names at most `limit` teams: their names are read one by one, in parallel.
    const teamIds = [...new Set(found.map(product => product.cpm_product_team_id))];
    const teams = await Promise.all(teamIds.map(id => api('GET', apiPath`ProductTeam/${id}`)));
    const teamNames = new Map(teams.filter(team => team.ok).map(team => [team.body.id, team.body.name]));
    return [
        resultsHeading(`Organisation ${value}`),
        teamsLink,
        table(caption(found.length, page), ['Product id', 'Name', 'Product team'],
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
