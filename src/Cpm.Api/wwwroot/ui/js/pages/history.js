// Who changed what, oldest first, a page at a time: history.html?team=<team id> or
// ?product=<product id>, with [&limit=<n>][&cursor=<c>]. Deleted entities have a history too.
import {
    api, apiPath, code, h, link, pageSize, productHref, requireKey, setTitle, showPager, showProblem, statusTag, summaryList, teamHref, time,
} from '../cpm.js';

const query = new URLSearchParams(location.search);
const limit = pageSize(query);
const cursor = query.get('cursor');
const target = query.get('product')
    ? { name: 'product', id: query.get('product'), noun: 'Product', read: id => apiPath`Product/${id}?include_deleted=true`, history: id => apiPath`Product/${id}/History`, open: productHref }
    : { name: 'team', id: query.get('team'), noun: 'Product team', read: id => apiPath`ProductTeam/${id}?include_deleted=true`, history: id => apiPath`ProductTeam/${id}/History`, open: teamHref };

const labels = {
    ProductTeamCreated: 'Created', ProductCreated: 'Created',
    ProductTeamUpdated: 'Changed', ProductUpdated: 'Changed',
    ProductTeamDeleted: 'Deleted', ProductDeleted: 'Deleted',
    ProductTeamRestored: 'Restored', ProductRestored: 'Restored',
};

if (requireKey()) {
    await load();
}

async function load() {
    const loading = document.getElementById('loading');
    if (!target.id) {
        loading.replaceChildren('No team or product was given. ', link('search.html', 'Find a team or product'), '.');
        return;
    }

    const [entity, events] = await Promise.all([api('GET', target.read(target.id)), api('GET', `${target.history(target.id)}?${pageParams(cursor)}`)]);
    for (const result of [entity, events]) {
        if (!result.ok) {
            loading.replaceChildren(link('search.html', 'Find a team or product'));
            showProblem(result);
            return;
        }
    }

    loading.remove();
    const subject = entity.body;
    document.getElementById('caption').textContent = `${target.noun} history`;
    document.getElementById('page-heading').textContent = subject.name;
    setTitle(`History of ${subject.name}`);
    document.getElementById('entity').replaceChildren(summaryList([
        [target.name === 'team' ? 'Team id' : 'Product id', code(subject.id)],
        ['Status', statusTag(subject)],
    ], { id: 'entity-summary' }), subject.status === 'active'
        ? h('p', {}, link(target.open(subject.id), `Open the ${target.noun.toLowerCase()}`))
        : h('p', {}, link(`restore.html?${target.name}=${encodeURIComponent(subject.id)}`, `Restore the ${target.noun.toLowerCase()}`)));
    showTimeline(events.body.events);
    showPager(cursor ? historyHref(null) : null, events.body.next_cursor ? historyHref(events.body.next_cursor) : null);
}

function pageParams(pageCursor) {
    const params = new URLSearchParams({ limit });
    if (pageCursor) {
        params.set('cursor', pageCursor);
    }

    return params;
}

function historyHref(pageCursor) {
    const params = new URLSearchParams({ [target.name]: target.id });
    if (query.has('limit')) {
        params.set('limit', limit);
    }

    if (pageCursor) {
        params.set('cursor', pageCursor);
    }

    return `history.html?${params}`;
}

function showTimeline(events) {
    const container = document.getElementById('timeline');
    if (events.length === 0) {
        container.replaceChildren(h('p', { id: 'no-events' }, 'There are no more changes.'));
        return;
    }

    container.replaceChildren(
        h('h2', { id: 'timeline-heading' }, cursor ? 'Changes, continued' : 'Changes, oldest first'),
        h('ol', { class: 'cpm-timeline', id: 'timeline-list', 'aria-labelledby': 'timeline-heading' }, events.map(event => h('li', { class: 'cpm-timeline__item' },
            h('h3', { class: 'cpm-timeline__title' }, labels[event.type] ?? event.type),
            h('p', { class: 'cpm-timeline__meta' }, time(event.occurred_on), ' by ', h('strong', { class: 'cpm-actor' }, event.actor), ` (version ${event.version})`),
            summaryList(event.changes.map(change => [change.field, changeText(change)]), { class: 'cpm-changes' })))));
}

function changeText(change) {
    return h('span', { class: 'cpm-change' },
        h('span', { class: 'cpm-change__old' }, shown(change.old)),
        h('span', { 'aria-hidden': 'true' }, ' \u2192 '),
        h('span', { class: 'nhsuk-u-visually-hidden' }, ' changed to '),
        h('span', { class: 'cpm-change__new' }, shown(change.new)));
}

function shown(value) {
    if (value === null || value === undefined) {
        return h('em', {}, 'none');
    }

    return typeof value === 'string' ? value : JSON.stringify(value);
}
