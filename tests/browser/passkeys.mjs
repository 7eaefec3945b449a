// Passkeys in a real browser: opens examples/full's page /passkeys at
// http://localhost:PORT (RP ID `localhost`), gives Chromium a CDP virtual
// authenticator (ctap2, internal, resident keys, user verification), then signs in
// with the password, registers a passkey, signs out, signs in with the passkey,
// reads /users/me, renames the passkey and deletes it.
//
//   node tests/browser/passkeys.mjs http://localhost:8000 user@example.com 'password'
//
// Exit 0 on success; otherwise a message on stderr, exit 1, and a screenshot in
// /tmp/warden-passkeys-failure.png. Prints the registration's toJSON() output as
// `passkeys.mjs: credential <json>` for the server-side test of a real one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/warden-passkeys-failure.png';
const TIMEOUT_MS = 20_000;

const [base, email, password] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error('usage: node passkeys.mjs <base-url> <email> <password>');
  process.exit(2);
}

const log = (message) => console.log(`passkeys.mjs: ${message}`);
const problems = [];
const userDataDir = mkdtempSync(join(tmpdir(), 'warden-chromium-'));
let context;
let page;
let step = 'launching chromium';

async function done(what) {
  // Every action of the page ends by writing its status.
  const status = page.locator('#status');
  await page.waitForFunction(() => document.getElementById('status').textContent !== '');
  const text = (await status.innerText()).trim();
  if (text !== 'done') throw new Error(`${what}: ${text}`);
  await page.evaluate(() => { document.getElementById('status').textContent = ''; });
}

async function main() {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    // The browser asks for /favicon.ico by itself; the example serves none.
    if (message.location().url.endsWith('/favicon.ico')) return;
    if (message.type() === 'error') problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

  step = 'adding a virtual authenticator';
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  step = `opening ${base}/passkeys`;
  const response = await page.goto(`${base}/passkeys`, { waitUntil: 'load' });
  if (!response || response.status() !== 200) {
    throw new Error(`GET /passkeys answered ${response && response.status()}`);
  }
  // Record the registration's toJSON() as the page sends it.
  let credential = null;
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/users/me/passkeys') {
      credential = request.postDataJSON().credential;
    }
  });

  step = 'signing in with the password';
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.locator('#password-login').click();
  await done('password sign-in');
  if ((await page.locator('#me').innerText()) !== email) throw new Error('not signed in');

  step = 'registering a passkey';
  await page.locator('#name').fill('Chromium');
  await page.locator('#add').click();
  await done('registration');
  await page.locator('#passkeys li').first().waitFor();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  if (credentials.length !== 1) throw new Error(`${credentials.length} credentials on the authenticator`);
  log(`registered: ${await page.locator('#passkeys .passkey-name').first().innerText()}`);
  log(`credential ${JSON.stringify(credential)}`);

  step = 'signing out';
  await page.locator('#logout').click();
  await done('sign-out');
  if ((await page.locator('#me').innerText()) !== 'nobody') throw new Error('still signed in');

  step = 'signing in with the passkey';
  await page.locator('#password').fill('');
  await page.locator('#passkey-login').click();
  await done('passkey sign-in');
  const me = await page.locator('#me').innerText();
  if (me !== email) throw new Error(`/users/me is ${me}`);
  log(`signed in with the passkey as ${me}`);

  step = 'renaming the passkey';
  await page.locator('#name').fill('Renamed');
  await page.locator('#passkeys .rename').first().click();
  await done('rename');
  const name = await page.locator('#passkeys .passkey-name').first().innerText();
  if (name !== 'Renamed') throw new Error(`the passkey is named ${name}`);

  step = 'deleting the passkey';
  await page.locator('#passkeys .delete').first().click();
  await done('delete');
  if (await page.locator('#passkeys li').count()) throw new Error('the passkey is still listed');
  log('renamed and deleted');

  if (problems.length) throw new Error(problems.join('\n'));
}

let failed = false;
try {
  await main();
  log('ok');
} catch (error) {
  failed = true;
  console.error(`passkeys.mjs: FAILED while ${step}: ${error.message}`);
  for (const problem of problems) console.error(`passkeys.mjs:   ${problem}`);
  if (page) {
    try {
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.error(`passkeys.mjs: screenshot: ${SCREENSHOT}`);
    } catch (screenshotError) {
      console.error(`passkeys.mjs: no screenshot: ${screenshotError.message}`);
    }
  }
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
