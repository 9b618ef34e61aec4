// The OpenID provider the UI's sign-in tests talk to: oidc-provider (pinned in package.json) on
// 127.0.0.1 at a free port, with one confidential client that must use PKCE S256, and a minimal
// login form built on its interaction API (any password is accepted; the login is the account
// id). The form is our own rather than the development one, which loads a web font from the
// internet and has no labels.
//
// Protocol with the test fixture (UiService): the script listens, prints "issuer <url>", then
// reads the client's redirect URI (the service's /signin-oidc, known only once the service has
// its own port) as one line on stdin, and prints "ready", then one line per authorization request. It exits when stdin closes or after
// MAX_LIFETIME_MS, so it never outlives the tests.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import Provider from 'oidc-provider';

const MAX_LIFETIME_MS = 15 * 60 * 1000;
const clientId = process.env.CPM_TEST_OIDC_CLIENT_ID ?? 'cpm-ui';
const clientSecret = process.env.CPM_TEST_OIDC_CLIENT_SECRET ?? 'cpm-ui-test-secret';

// The people the tests sign in as; any other login gets read only.
const people = {
  'alice.admin': { name: 'Alice Admin', cpm_scopes: ['read', 'write', 'admin'] },
  'rita.reader': { name: 'Rita Reader', cpm_scopes: ['read'] },
  'olive.organisation': { name: 'Olive Organisation', cpm_scopes: ['read', 'write'], cpm_ods_codes: ['ZZ991'] },
};

let handler = (_request, response) => {
  response.statusCode = 503;
  response.end('not ready');
};
const server = createServer((request, response) => handler(request, response));
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  console.log(`issuer ${issuer}`);
  const lines = createInterface({ input: process.stdin });
  lines.once('line', redirectUri => {
    const provider = start(issuer, redirectUri.trim());
    const callback = provider.callback();
    handler = (request, response) => (request.url.startsWith('/interaction/')
      ? interaction(provider, request, response).catch(error => fail(response, error))
      : callback(request, response));
    console.log('ready');
  });
  lines.on('close', () => process.exit(0));
});
setTimeout(() => process.exit(0), MAX_LIFETIME_MS).unref();

function start(issuer, redirectUri) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      // ASP.NET Core's handler sends the secret in the token request's body.
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
    }],
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'cpm'],
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      cpm: ['cpm_scopes', 'cpm_ods_codes'],
    },
    async findAccount(_ctx, accountId) {
      const person = people[accountId] ?? { name: accountId, cpm_scopes: ['read'] };
      return {
        accountId,
        claims: async () => ({
          sub: accountId,
          preferred_username: accountId,
          name: person.name,
          cpm_scopes: person.cpm_scopes,
          ...(person.cpm_ods_codes ? { cpm_ods_codes: person.cpm_ods_codes } : {}),
        }),
      };
    },
    // A first-party client: the person is never asked to consent, every requested scope is granted.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile cpm');
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx, details) => `/interaction/${details.uid}` },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['cpm-test-provider-cookie-key'] },
  });
  provider.on('server_error', (_ctx, error) => console.error(error));
  // What the tests check about each authorization request, pushed (PAR) or not.
  provider.on('authorization.accepted', ctx => {
    const { response_type: responseType, code_challenge_method: method, code_challenge: challenge } = ctx.oidc.params;
    console.log(`authorization response_type=${responseType} code_challenge_method=${method} code_challenge=${challenge ? 'present' : 'absent'}`);
  });
  return provider;
}

// GET /interaction/<uid> shows the login form; POST there signs the person in.
async function interaction(provider, request, response) {
  const details = await provider.interactionDetails(request, response);
  if (request.method === 'POST') {
    const form = new URLSearchParams(await body(request));
    const login = form.get('login')?.trim();
    if (!login) {
      return page(response, details.uid, 'Enter your login');
    }

    return provider.interactionFinished(request, response, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }

  return page(response, details.uid, null);
}

function page(response, uid, error) {
  response.setHeader('Content-Type', 'text/html; charset=utf-8');
  response.setHeader('Cache-Control', 'no-store');
  response.end(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Test OpenID provider</title></head>
<body><main>
<h1>Sign in to the test OpenID provider</h1>
${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${encodeURIComponent(uid)}">
<p><label for="login">Login</label> <input id="login" name="login" autocomplete="username" autofocus></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit">Sign-in</button></p>
</form>
</main></body></html>`);
}

function body(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', chunk => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function fail(response, error) {
  console.error(error);
  response.statusCode = 500;
  response.end('interaction failed');
}
