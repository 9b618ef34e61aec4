// An organisation's teams, a page at a time: teams.html?organisation=<ODS code>[&limit=<n>][&cursor=<c>].
import {
    aliasOf, api, clearErrorSummary, clearFieldErrors, code, h, link, pageSize, requireKey, setFieldError, setTitle, showErrorSummary,
    showPager, showProblem, table, teamHref, time,
} from '../cpm.js';

const form = document.getElementById('teams-form');
const input = document.getElementById('organisation');
const results = document.getElementById('results');
const query = new URLSearchParams(location.search);
const limit = pageSize(query);

if (requireKey()) {
    form.addEventListener('submit', event => {
        event.preventDefault();
        clearFieldErrors(form);
        clearErrorSummary();
        const value = input.value.trim();
        if (!value) {
            setFieldError(input, ['Enter an ODS code']);
            showErrorSummary([{ text: 'Enter an ODS code', href: '#organisation' }]);
            return;
        }

        location.assign(pageHref(value, null));
    });

    if (query.get('organisation')) {
        input.value = query.get('organisation');
        await show(query.get('organisation'), query.get('cursor'));
    }
}

function pageHref(organisation, cursor) {
    const params = new URLSearchParams({ organisation });
    if (query.has('limit')) {
        params.set('limit', limit);
    }

    if (cursor) {
        params.set('cursor', cursor);
    }

    return `teams.html?${params}`;
}

async function show(organisation, cursor) {
    const params = new URLSearchParams({ organisation_code: organisation, limit });
    if (cursor) {
        params.set('cursor', cursor);
    }

    const result = await api('GET', `ProductTeam?${params}`);
    if (!result.ok) {
        showProblem(result);
        return;
    }

    const teams = result.body.results;
    const heading = h('h2', { id: 'results-heading', tabindex: '-1' }, `Teams of organisation ${organisation}`);
    if (teams.length === 0) {
        results.replaceChildren(heading, h('p', { id: 'no-teams' }, cursor
            ? 'There are no more teams.'
            : 'This organisation has no product teams. Check the ODS code: it must match the code the teams were created with.'));
    } else {
        results.replaceChildren(heading, table(cursor ? `Teams, a further page of up to ${limit}` : `Teams, first page of up to ${limit}`,
            ['Team', 'Team id', 'Alias', 'Created'],
            teams.map(team => [link(teamHref(team.id), team.name), code(team.id), aliasOf(team) ? code(aliasOf(team)) : 'None', time(team.created_on)]),
            { id: 'teams-table' }));
    }

    setTitle(heading.textContent);
    showPager(cursor ? pageHref(organisation, null) : null, result.body.next_cursor ? pageHref(organisation, result.body.next_cursor) : null);
}
