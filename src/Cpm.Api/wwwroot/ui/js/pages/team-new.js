import { api, clearErrorSummary, clearFieldErrors, flash, requireKey, showFieldErrors, showProblem, teamHref } from '../cpm.js';

const form = document.getElementById('team-form');
const fields = {
    ods_code: { input: document.getElementById('ods_code'), label: 'ODS code' },
    name: { input: document.getElementById('name'), label: 'Team name' },
    keys: { input: document.getElementById('alias'), label: 'Alias' },
};

// The 422 for an unknown organisation and "Item already exists" (an alias in use) belong to fields too.
const fieldForMessage = message => {
    if (message.startsWith('Invalid ODS Code')) {
        return 'ods_code';
    }

    return message === 'Item already exists' && fields.keys.input.value ? 'keys' : null;
};

if (requireKey()) {
    form.addEventListener('submit', async event => {
        event.preventDefault();
        const button = document.getElementById('create-team');
        button.disabled = true;
        try {
            await create();
        } finally {
            button.disabled = false;
        }
    });
}

async function create() {
    // Values go to the API exactly as typed: the contract's validation decides, and says why.
    const body = { ods_code: fields.ods_code.input.value, name: fields.name.input.value };
    const alias = fields.keys.input.value;
    if (alias !== '') {
        body.keys = [{ key_type: 'product_team_id', key_value: alias }];
    }

    const result = await api('POST', 'ProductTeam', body);
    if (result.status === 201) {
        clearErrorSummary();
        flash(`Product team "${result.body.name}" created.`);
        location.assign(teamHref(result.body.id));
    } else if (result.status === 400 || result.status === 422) {
        showFieldErrors(form, 'CreateProductTeamIncomingParams', result.errors, fields, fieldForMessage);
    } else {
        clearFieldErrors(form);
        showProblem(result);
    }
}
