// Downloads GET /Export (admin scope). The call needs the session's anti-forgery header or the
// tab's key, which a plain link cannot send, so the file is fetched and then saved from memory.
import { clearErrorSummary, download, h, requireKey, showErrorSummary, showProblem } from '../cpm.js';

const form = document.getElementById('export-form');

if (requireKey()) {
    form.addEventListener('submit', async event => {
        event.preventDefault();
        const button = document.getElementById('download-export');
        button.disabled = true;
        try {
            await exportRegister();
        } finally {
            button.disabled = false;
        }
    });
}

async function exportRegister() {
    clearErrorSummary();
    const result = await download('Export');
    if (result.status === 403) {
        showErrorSummary(result.errors.map(error => ({ content: error.message })), 'Only administrators can export the register: you need the admin scope.');
        return;
    }

    if (!result.ok) {
        showProblem(result);
        return;
    }

    const name = `cpm-export-${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}Z.ndjson`;
    const url = URL.createObjectURL(result.blob);
    const save = h('a', { href: url, download: name, hidden: true });
    document.body.append(save);
    save.click();
    save.remove();
    // The browser has taken the file by now; the memory can go.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    const lines = (await result.blob.text()).split('\n').filter(Boolean).length;
    const status = h('div', { class: 'nhsuk-inset-text', id: 'export-done', role: 'status' },
        h('p', {}, `Downloaded ${name}: ${lines} ${lines === 1 ? 'line' : 'lines'}.`));
    document.getElementById('downloaded').replaceChildren(status);
}
