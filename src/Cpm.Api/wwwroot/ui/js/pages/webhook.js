// One webhook subscription (admin scope) and how its deliveries stand, in words.
import {
    code, loadWebhook, requireKey, setTitle, summaryList, tag, time, webhookDeleteHref,
} from '../cpm.js';

if (requireKey()) {
    await load();
}

async function load() {
    const webhook = await loadWebhook('Only administrators can see webhook subscriptions: you need the admin scope.');
    if (!webhook) {
        return;
    }

    setTitle(`Webhook subscription to ${webhook.url}`);
    document.getElementById('page-heading').replaceChildren('Webhook subscription to ', code(webhook.url));
    document.getElementById('details').replaceChildren(summaryList([
        ['Address', code(webhook.url)],
        ['Description', webhook.description ?? 'None'],
        ['Status', webhook.status === 'active' ? tag('Active', 'green') : tag(webhook.status, 'grey')],
        ['Created', time(webhook.created_on)],
        ['Subscription id', code(webhook.id)],
        ['Secret', 'Not shown: it was given when the subscription was added and is never shown again.'],
    ], { id: 'webhook-details' }));
    document.getElementById('delivery').replaceChildren(summaryList([
        ['Delivered', delivered(webhook.delivered_through)],
        ['Waiting to be sent', waiting(webhook.pending)],
        ['Last attempt', lastAttempt(webhook.last_attempt)],
    ], { id: 'delivery-state' }));
    document.getElementById('refresh').setAttribute('href', location.search);
    document.getElementById('delete-webhook').setAttribute('href', webhookDeleteHref(webhook.id));
    document.getElementById('subscription').hidden = false;
}

function delivered(through) {
    return through === null
        ? 'Nothing yet: no event has been delivered to this address.'
        : `Every event up to number ${through} of the change feed has been delivered, or came before this subscription.`;
}

function waiting(pending) {
    if (pending === 0) {
        return 'Nothing: the receiver is up to date.';
    }

    return `${pending} ${pending === 1 ? 'event' : 'events'} not yet delivered.`;
}

function lastAttempt(attempt) {
    if (!attempt) {
        return 'None yet: nothing has been sent to this address.';
    }

    const succeeded = attempt.status !== null && attempt.status >= 200 && attempt.status < 300 && attempt.error === null;
    const answer = attempt.status === null ? 'no answer came back' : `the receiver answered with HTTP status ${attempt.status}`;
    return [
        succeeded ? tag('Delivered', 'green') : tag('Failed', 'red'), ' ',
        time(attempt.at), `: ${answer}`, succeeded ? '.' : '. It will be tried again.',
        attempt.error ? ` What went wrong: ${attempt.error}` : '',
    ];
}
