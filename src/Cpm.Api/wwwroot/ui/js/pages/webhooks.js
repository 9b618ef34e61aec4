// Webhook subscriptions (admin scope): the list, each with its details and a delete, and the form
// to add one. The secret goes to the API once and is never shown again.
import {
    api, clearErrorSummary, clearFieldErrors, code, h, link, requireKey, showAdminProblem, showFieldErrors, showFlash, showSuccess,
    tag, table, time, webhookDeleteHref, webhookHref,
} from '../cpm.js';

const refused = 'Only administrators can see and change webhook subscriptions: you need the admin scope.';
const form = document.getElementById('webhook-form');
const fields = {
    url: { input: document.getElementById('url'), label: 'Address (URL)' },
    secret: { input: document.getElementById('secret'), label: 'Secret' },
    description: { input: document.getElementById('description'), label: 'Description' },
};

if (requireKey()) {
    showFlash();
    if (await list()) {
        document.getElementById('subscriptions').hidden = false;
        form.addEventListener('submit', async event => {
            event.preventDefault();
            const button = document.getElementById('add-webhook');
            button.disabled = true;
            try {
                await add();
            } finally {
                button.disabled = false;
            }
        });
    }
}

/** Shows the subscriptions; false when the caller may not see them (the reason is shown). */
async function list() {
    const result = await api('GET', 'Webhooks');
    document.getElementById('loading')?.remove();
    if (!result.ok) {
        showAdminProblem(result, refused);
        return false;
    }

    const webhooks = result.body.results;
    const content = webhooks.length === 0
        ? h('p', { id: 'no-webhooks' }, 'There are no subscriptions yet: nothing is sent anywhere.')
        : table(`${webhooks.length} ${webhooks.length === 1 ? 'subscription' : 'subscriptions'}`, ['Address', 'Description', 'Status', 'Created', 'Actions'],
            webhooks.map(webhook => [
                code(webhook.url),
                webhook.description ?? 'None',
                webhook.status === 'active' ? tag('Active', 'green') : tag(webhook.status, 'grey'),
                time(webhook.created_on),
                h('ul', { class: 'nhsuk-list nhsuk-u-margin-bottom-0' },
                    h('li', {}, link(webhookHref(webhook.id), 'Details', h('span', { class: 'nhsuk-u-visually-hidden' }, ` of the subscription to ${webhook.url}`))),
                    h('li', {}, link(webhookDeleteHref(webhook.id), 'Delete', h('span', { class: 'nhsuk-u-visually-hidden' }, ` the subscription to ${webhook.url}`)))),
            ]), { id: 'webhooks-table' });
    document.getElementById('webhooks-list').replaceChildren(content);
    return true;
}

async function add() {
    // Values go to the API exactly as typed: the contract's validation decides, and says why.
    const body = { url: fields.url.input.value, secret: fields.secret.input.value };
    const description = fields.description.input.value;
    if (description !== '') {
        body.description = description;
    }

    const result = await api('POST', 'Webhooks', body);
    if (result.status === 201) {
        clearErrorSummary();
        clearFieldErrors(form);
        form.reset();
        await list();
        showSuccess(`Subscription to ${result.body.url} added. Its secret is not shown again: the receiver needs the copy you kept.`);
        document.getElementById('success-banner').focus();
    } else if (result.status === 400) {
        // A secret typed wrongly is typed again: it is never put back in the field.
        fields.secret.input.value = '';
        showFieldErrors(form, 'CreateWebhookIncomingParams', result.errors, fields);
    } else {
        clearFieldErrors(form);
        showAdminProblem(result, refused);
    }
}
