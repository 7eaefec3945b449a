// A local OpenID Connect provider for warden's OIDC tests: panva's certified
// `oidc-provider`, in memory, on 127.0.0.1:$PORT with issuer http://127.0.0.1:$PORT.
// Started by .ci/oidc-setup.sh; logs to stderr; stops on SIGTERM/SIGINT.
//
// Clients (confidential, secret `warden-test-secret`, authorization_code + refresh_token,
// response_type code, PKCE S256 required):
//   warden-test       client_secret_basic
//   warden-test-post  client_secret_post
//
// Accounts come from the login name typed at the interaction (no password):
//   alice@example.com           sub alice@example.com, email alice@example.com, verified
//   unverified-bob@example.com  sub unverified-bob@example.com, email bob@example.com, unverified
//   noemail-carol               sub noemail-carol, no email claims
//   deny                        the authorization ends with error=access_denied
//   mfa+LOGIN                   LOGIN, and the ID token's amr is ["pwd", "otp", "mfa"]
// Every account's `name` is the login name without its prefix.
//
// Headless flow (cookie jar, no redirects followed):
//   GET  /auth?response_type=code&client_id=...&redirect_uri=...&scope=openid email profile
//        &state=...&nonce=...&code_challenge=...&code_challenge_method=S256
//        -> 303 Location /interaction/{uid}   (sets _interaction, _interaction_resume)
//   GET  /interaction/{uid}                    -> 200 HTML login form (optional step)
//   POST /interaction/{uid}  login=alice@example.com  (form-urlencoded)
//        -> 303 Location http://127.0.0.1:PORT/auth/{uid}
//   GET  /auth/{uid}                            -> 303 Location {redirect_uri}?code=...&state=...&iss=...
// Consent is granted automatically; GET /interaction/{uid}/abort also ends in access_denied.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const PORT = Number.parseInt(process.env.PORT ?? '', 10);
if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) {
  console.error('oidc-provider: PORT must be set to a TCP port');
  process.exit(2);
}
const ISSUER = `http://127.0.0.1:${PORT}`;
const SECRET = 'warden-test-secret';

const redirectUris = ['http://127.0.0.1:9', 'http://localhost:8000'].flatMap((base) => [
  `${base}/auth/oidc/callback`,
  `${base}/auth/associate/oidc/callback`,
  `${base}/auth/oidc-link/callback`,
  `${base}/auth/oidc-verified/callback`,
]);

const client = (clientId, method) => ({
  client_id: clientId,
  client_secret: SECRET,
  token_endpoint_auth_method: method,
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: redirectUris,
  id_token_signed_response_alg: 'RS256',
});

// The account a login name stands for (see the header).
function account(login) {
  let name = login;
  let email = login;
  let verified = true;
  if (login.startsWith('unverified-')) {
    name = login.slice('unverified-'.length);
    email = name;
    verified = false;
  } else if (login.startsWith('noemail-')) {
    name = login.slice('noemail-'.length);
    email = undefined;
  }
  return {
    accountId: login,
    async claims() {
      const claims = { sub: login, name };
      if (email !== undefined) {
        claims.email = email;
        claims.email_verified = verified;
      }
      return claims;
    },
  };
}

// A fresh RS256 signing key per run; the JWKS endpoint serves its public half.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'warden-test-rs256' };

const configuration = {
  clients: [client('warden-test', 'client_secret_basic'), client('warden-test-post', 'client_secret_post')],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    // `amr` only for `mfa+` logins (the ID token of any other login has none).
    openid: ['sub', 'amr'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // email, email_verified and name go in the ID token as well as at userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    // Off: nothing here uses them, and they only widen the surface.
    rpInitiatedLogout: { enabled: false },
  },
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  findAccount: async (_ctx, sub) => account(sub),
  // Consent is automatic: the grant always covers what was asked for.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant) {
      grant = new oidc.provider.Grant({ accountId: oidc.account.accountId, clientId: oidc.client.clientId });
    }
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    const claims = [...oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  },
  // A refresh token whenever the client may use one (no offline_access needed).
  issueRefreshToken: async (_ctx, oidcClient) => oidcClient.grantTypeAllowed('refresh_token'),
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    Grant: 86400,
    Session: 86400,
    RefreshToken: 86400,
  },
  renderError(ctx, out) {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = Object.entries(out).map(([key, value]) => `${key}: ${value}`).join('\n');
  },
};

const provider = new Provider(ISSUER, configuration);
provider.on('server_error', (_ctx, error) => console.error('oidc-provider: server_error', error));
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'introspection.error']) {
  provider.on(event, (_ctx, error) => console.error(`oidc-provider: ${event}: ${error.message}${error.error_detail ? ` (${error.error_detail})` : ''}`));
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, type, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

// The interaction: a login form without password, consent granted on the spot.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    throw new errors.SessionNotFound('interaction uid does not match the interaction cookie');
  }
  const deny = () => provider.interactionFinished(req, res, {
    error: 'access_denied',
    error_description: 'End-User denied the authorization',
  }, { mergeWithLastSubmission: false });

  if (action === 'abort' && req.method === 'GET') return deny();

  if (details.prompt.name === 'consent') {
    // Reached only when the request itself asks for consent (prompt=consent).
    const { accountId } = details.session;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: details.params.client_id });
    const { missingOIDCScope, missingOIDCClaims } = details.prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (details.prompt.name !== 'login') {
    return send(res, 501, 'text/plain', `prompt ${details.prompt.name} is not implemented\n`);
  }

  if (action === undefined && req.method === 'GET') {
    return send(res, 200, 'text/html; charset=utf-8', `<!doctype html>
<title>Sign-in</title>
<form method="post" action="/interaction/${escape(uid)}">
<label>Login <input name="login" autofocus></label>
<button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${escape(uid)}/abort">Cancel</a></p>
`);
  }
  if (action === undefined && req.method === 'POST') {
    const login = ((await readForm(req)).get('login') ?? '').trim();
    if (!login) return send(res, 400, 'text/plain', 'the form field `login` is required\n');
    if (login === 'deny') return deny();
    console.error(`oidc-provider: login ${login}`);
    // `mfa+LOGIN` signs LOGIN in as having done multi-factor authentication: the ID
    // token's `amr` (RFC 8176) is then ["pwd", "otp", "mfa"]; otherwise it has none.
    const mfa = login.startsWith('mfa+');
    const accountId = mfa ? login.slice('mfa+'.length) : login;
    const amr = mfa ? { amr: ['pwd', 'otp', 'mfa'] } : {};
    return provider.interactionFinished(req, res, { login: { accountId, ...amr } }, { mergeWithLastSubmission: false });
  }
  return send(res, 405, 'text/plain', 'method not allowed\n');
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, ISSUER);
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(abort))?$/.exec(pathname);
  if (!match) return callback(req, res);
  return interaction(req, res, match[1], match[2]).catch((error) => {
    console.error(`oidc-provider: interaction ${req.method} ${pathname}: ${error.message}`);
    if (!res.headersSent) {
      send(res, error.statusCode ?? 500, 'text/plain', `${error.error ?? 'server_error'}: ${error.error_description ?? error.message}\n`);
    }
  });
});

server.listen(PORT, '127.0.0.1', () => {
  console.error(`oidc-provider: listening, issuer ${ISSUER}`);
});

const stop = (signal) => {
  console.error(`oidc-provider: ${signal}, stopping`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
