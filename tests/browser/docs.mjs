// Clicks through warden's Swagger UI the way a person would: open /docs, authorize
// with the OAuth2 password flow (Swagger UI posts the form to the login route), then
// try `GET /users/me` and check the answer.
//
//   node tests/browser/docs.mjs http://127.0.0.1:8000 user@example.com 'password'
//
// The second argument is the login (an e-mail or a username); the answer of
// `GET /users/me` must contain it.
//
// Exit 0 on success; otherwise a message on stderr, exit 1, and a screenshot in
// /tmp/warden-docs-failure.png. Needs Debian's chromium at /usr/bin/chromium and
// `npm ci` here (playwright-core never downloads a browser).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/warden-docs-failure.png';
const TIMEOUT_MS = 20_000;

const [base, email, password] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error('usage: node docs.mjs <base-url> <email> <password>');
  process.exit(2);
}
const origin = new URL(base).origin;

const log = (message) => console.log(`docs.mjs: ${message}`);
const problems = [];
const userDataDir = mkdtempSync(join(tmpdir(), 'warden-chromium-'));
let context;
let page;
let step = 'launching chromium';

async function main() {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 1000 },
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  page = context.pages()[0] ?? (await context.newPage());

  // The page must not reach beyond the server it is served from, nor log errors
  // (a Content-Security-Policy violation shows up here too).
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('data:') && new URL(url).origin !== origin) {
      problems.push(`request to another origin: ${url}`);
    }
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  let login = null;
  page.on('response', (response) => {
    // FastAPI Users' /auth/{name}/login, or a login the application moved (/login).
    if (response.request().method() === 'POST' && new URL(response.url()).pathname.endsWith('/login')) {
      login = { status: response.status(), url: response.url() };
    }
  });

  step = `opening ${base}/docs`;
  const response = await page.goto(`${base}/docs`, { waitUntil: 'load' });
  if (!response || response.status() !== 200) {
    throw new Error(`GET /docs answered ${response && response.status()}`);
  }
  await page.locator('.swagger-ui .info .title').waitFor();
  log(`page loaded: "${(await page.title()).trim()}"`);

  step = 'opening the Authorize dialog';
  await page.locator('.scheme-container button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor();
  const oauth = dialog
    .locator('.auth-container')
    .filter({ hasText: /OAuth2PasswordBearer/ })
    .first();
  await oauth.waitFor();

  step = 'filling the OAuth2 password form';
  await oauth.locator('#oauth_username').fill(email);
  await oauth.locator('#oauth_password').fill(password);

  step = 'authorizing (Swagger UI posts the form to the login route)';
  await oauth.locator('button.authorize').click();
  // Authorized, the scheme's button turns into "Logout"; refused, an error shows.
  const logout = oauth.locator('button', { hasText: 'Logout' });
  const errors = oauth.locator('.errors');
  await logout.or(errors).first().waitFor();
  if (await errors.count()) {
    const text = (await errors.allInnerTexts()).join(' ').replace(/\s+/g, ' ').trim();
    throw new Error(
      `the login route answered ${login ? login.status : 'nothing'}; the dialog says: ${text}`,
    );
  }
  if (!login || login.status !== 200) {
    throw new Error(`the login request answered ${login ? login.status : 'nothing'}`);
  }
  log(`authorized: ${new URL(login.url).pathname} answered ${login.status}`);

  step = 'closing the dialog';
  await oauth.locator('button.btn-done').click();
  await dialog.waitFor({ state: 'detached' });

  step = 'expanding GET /users/me';
  const operation = page
    .locator('.opblock.opblock-get')
    .filter({ has: page.locator('.opblock-summary-path[data-path="/users/me"]') })
    .first();
  await operation.locator('.opblock-summary').first().click();

  step = 'clicking "Try it out"';
  await operation.locator('button.try-out__btn').click();

  step = 'clicking "Execute"';
  await operation.locator('button.execute').click();

  step = 'reading the response';
  const live = operation.locator('.live-responses-table');
  const row = live.locator('tbody .response').first();
  await row.waitFor();
  const code = (await row.locator('.response-col_status').innerText()).trim();
  const body = (await row.locator('.response-col_description').innerText()).trim();
  if (code !== '200') {
    throw new Error(`GET /users/me answered ${code}: ${body}`);
  }
  if (!body.includes(email)) {
    throw new Error(`the response body does not contain ${email}: ${body}`);
  }
  const curl = (await operation.locator('.curl-command').first().innerText()).trim();
  if (!/Authorization: Bearer /i.test(curl)) {
    throw new Error(`the request carried no bearer token: ${curl}`);
  }
  log(`GET /users/me answered ${code} with the user ${email}`);

  if (problems.length) {
    throw new Error(problems.join('\n'));
  }
}

let failed = false;
try {
  await main();
  log('ok');
} catch (error) {
  failed = true;
  console.error(`docs.mjs: FAILED while ${step}: ${error.message}`);
  for (const problem of problems) console.error(`docs.mjs:   ${problem}`);
  if (page) {
    try {
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.error(`docs.mjs: screenshot: ${SCREENSHOT}`);
    } catch (screenshotError) {
      console.error(`docs.mjs: no screenshot: ${screenshotError.message}`);
    }
  }
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
