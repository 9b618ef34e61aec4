// The confirmation step before deleting a webhook subscription: what will go, then
// "Yes, delete this subscription" or back. webhook-delete.html?id=<subscription id>.
import {
    api, apiPath, code, flash, loadWebhook, requireKey, setTitle, showAdminProblem, summaryList, time, webhookHref,
} from '../cpm.js';

const refused = 'Only administrators can delete webhook subscriptions: you need the admin scope.';

if (requireKey()) {
    await load();
}

async function load() {
    const webhook = await loadWebhook(refused);
    if (!webhook) {
        return;
    }

    setTitle(`Delete the subscription to ${webhook.url}`);
    document.getElementById('page-heading').replaceChildren('Are you sure you want to delete the subscription to ', code(webhook.url), '?');
    document.getElementById('details').replaceChildren(summaryList([
        ['Address', code(webhook.url)],
        ['Description', webhook.description ?? 'None'],
        ['Created', time(webhook.created_on)],
    ]));
    document.getElementById('cancel').setAttribute('href', webhookHref(webhook.id));
    document.getElementById('confirm').hidden = false;
    document.getElementById('delete-form').addEventListener('submit', async event => {
        event.preventDefault();
        const button = document.getElementById('confirm-delete');
        button.disabled = true;
        try {
            await remove(webhook);
        } finally {
            button.disabled = false;
        }
    });
}

async function remove(webhook) {
    const result = await api('DELETE', apiPath`Webhooks/${webhook.id}`);
    if (result.ok) {
        flash(`The subscription to ${webhook.url} has been deleted: no more events are sent there.`);
        location.assign('webhooks.html');
        return;
    }

    showAdminProblem(result, refused);
}
