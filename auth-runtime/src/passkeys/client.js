// warden's passkeys, browser side: an ES module with no dependencies, served at
// GET /auth/passkeys/client.js.
//
//   import { register, signIn, signUp } from '/auth/passkeys/client.js';
//   await register({ token, name: 'Laptop' });          // a signed-in user adds one
//   const login = await signIn({ backend: 'jwt', username: 'ada@example.com' });
//   await signUp({ fields: { email: 'pia@example.com' } });
//
// The server's options are WebAuthn Level 3 JSON ({"publicKey": {...}}, base64url
// strings) and its finishing routes take PublicKeyCredential.toJSON(): where the
// browser has PublicKeyCredential.parseCreationOptionsFromJSON,
// parseRequestOptionsFromJSON and toJSON they are used as they are; elsewhere this
// module converts. Every failure throws an Error whose `detail` is the server's
// (`PASSKEY_CHALLENGE_INVALID`, `LOGIN_BAD_CREDENTIALS`, ...) and `status` its
// HTTP status.

const toBytes = (text) => {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
};

const toText = (buffer) => {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

const credentialList = (list) =>
  (list || []).map((entry) => ({ ...entry, id: toBytes(entry.id) }));

function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: toBytes(json.challenge),
    user: { ...json.user, id: toBytes(json.user.id) },
    excludeCredentials: credentialList(json.excludeCredentials),
  };
}

function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: toBytes(json.challenge),
    allowCredentials: credentialList(json.allowCredentials),
  };
}

function credentialJSON(credential) {
  if (typeof credential.toJSON === 'function') {
    return credential.toJSON();
  }
  const response = credential.response;
  const json = {
    id: credential.id,
    rawId: toText(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: toText(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    json.response.attestationObject = toText(response.attestationObject);
    json.response.transports = response.getTransports?.() ?? [];
  } else {
    json.response.authenticatorData = toText(response.authenticatorData);
    json.response.signature = toText(response.signature);
    if (response.userHandle) json.response.userHandle = toText(response.userHandle);
  }
  return json;
}

async function call(path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method: 'POST',
    headers,
    credentials: 'same-origin',
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error(`${path}: ${response.status} ${JSON.stringify(json?.detail ?? json)}`);
    error.status = response.status;
    error.detail = json?.detail;
    throw error;
  }
  return json;
}

async function create(options) {
  const credential = await navigator.credentials.create({
    publicKey: creationOptions(options.publicKey),
  });
  return credentialJSON(credential);
}

/** Whether this browser can use passkeys at all. */
export function supported() {
  return typeof window !== 'undefined' && typeof window.PublicKeyCredential === 'function';
}

/**
 * Adds a passkey for the signed-in user (a sign-in of the last five minutes):
 * `token` for a bearer backend, or nothing for a cookie one. Answers PasskeyRead.
 */
export async function register({ token, name = 'Passkey', base = '' } = {}) {
  const options = await call(`${base}/users/me/passkeys/options`, {}, token);
  const credential = await create(options);
  return call(`${base}/users/me/passkeys`, { name, credential }, token);
}

/**
 * Signs in with a passkey through `backend`: with `username`, its passkeys are
 * offered; without, the browser offers the site's discoverable ones (the server's
 * `.discoverable(true)`; pass `conditional: true` to show them in autofill).
 * Answers the backend's login response (null for a cookie backend's 204).
 */
export async function signIn({ backend, username, conditional = false, base = '', signal } = {}) {
  const body = username === undefined ? {} : { username };
  const options = await call(`${base}/auth/${backend}/passkey/options`, body);
  const request = { publicKey: requestOptions(options.publicKey), signal };
  if (conditional && options.mediation) request.mediation = options.mediation;
  const credential = await navigator.credentials.get(request);
  return call(`${base}/auth/${backend}/passkey`, { credential: credentialJSON(credential) });
}

/**
 * Creates an account from a passkey alone (the server's `.signup(true)`):
 * `fields` as for POST /auth/register without a password. Answers UserRead; sign
 * in with `signIn` next.
 */
export async function signUp({ fields, name = 'Passkey', base = '' } = {}) {
  const options = await call(`${base}/auth/register/passkey/options`, fields);
  const credential = await create(options);
  return call(`${base}/auth/register/passkey`, { credential, name });
}
