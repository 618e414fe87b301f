// Helpers for the browser journeys: the real release binary on a fresh database, a real SMTP
// listener, signed-in Chromium contexts, axe-core audits and screenshots.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
export const binary = process.env.ACCORD_BIN || join(root, 'target', 'release', 'accord');
export const shotDir = process.env.ACCORD_SCREENSHOTS || join(root, 'target', 'screenshots');
const axeSource = join(here, 'node_modules', 'axe-core', 'axe.min.js');

/** A real SMTP listener (RFC 5321 subset) that keeps every message it accepts. */
export async function smtpListener() {
  const messages = [];
  const server = createServer((socket) => {
    let buffer = '';
    let inData = false;
    let current = { to: [], data: '' };
    socket.write('220 localhost test SMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let index;
      while ((index = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push(current);
            // A message to a "silent." address is taken and never answered: delivery unknown.
            const silent = current.to.some((to) => to.startsWith('<silent.'));
            current = { to: [], data: '' };
            if (!silent) socket.write('250 OK queued\r\n');
          } else {
            current.data += (line.startsWith('.') ? line.slice(1) : line) + '\r\n';
          }
          continue;
        }
        const command = line.toUpperCase();
        if (command.startsWith('EHLO')) socket.write('250-localhost\r\n250 8BITMIME\r\n');
        else if (command.startsWith('RCPT TO:')) { current.to.push(line.slice(8).trim()); socket.write('250 OK\r\n'); }
        else if (command === 'DATA') { inData = true; socket.write('354 go ahead\r\n'); }
        else if (command === 'QUIT') { socket.end('221 bye\r\n'); }
        else socket.write('250 OK\r\n');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    messages,
    to: (address) => messages.filter((m) => m.to.includes(`<${address}>`)),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The shared secret of the HTTP mail door in these runs. */
export const INBOUND_SECRET = 'browser-inbound-secret-0123456789';

/** The OpenID Provider of `tests/oidc` (the npm oidc-provider), with Accord's callback. */
async function startProvider(redirectUri) {
  const provider = spawn('node', [join(root, 'tests', 'oidc', 'provider.mjs'), redirectUri], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const issuer = await new Promise((resolve, reject) => {
    provider.stdout.on('data', (chunk) => {
      const line = chunk.toString('utf8');
      if (line.startsWith('ready ')) resolve(line.slice('ready '.length).trim());
    });
    provider.on('exit', (code) => reject(new Error(`the OpenID Provider exited (${code}): run npm ci in tests/oidc`)));
  });
  return { issuer, stop: () => provider.kill('SIGTERM') };
}

/** Loads the demo people into a fresh database and serves it, with single sign-on through a
 *  real OpenID Provider besides passwords. */
export async function startAccord() {
  const dataDir = mkdtempSync(join(tmpdir(), 'accord-browser-'));
  const smtp = await smtpListener();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const provider = await startProvider(`${base}/sign-in/oidc/callback`);
  const env = {
    ...process.env,
    ACCORD_DATA_DIR: dataDir,
    ACCORD_BIND: `127.0.0.1:${port}`,
    ACCORD_BASE_URL: base,
    ACCORD_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    ACCORD_LOG: 'warn',
    // A silent mail server makes a delivery unknown after 2 s rather than 30.
    ACCORD_SMTP_TIMEOUT_SECS: '2',
    // Replies come back: rooms get reply addresses, and mail can be posted to the HTTP door.
    ACCORD_INBOUND_ADDRESS: 'escalations@accord.example',
    ACCORD_INBOUND_SECRET: INBOUND_SECRET,
    ACCORD_OIDC_ISSUER: provider.issuer,
    ACCORD_OIDC_CLIENT_ID: 'accord',
    ACCORD_OIDC_CLIENT_SECRET: 'accord-test-client-secret',
    ACCORD_OIDC_ALLOWED_DOMAINS: 'accord.example',
    ACCORD_OIDC_NAME: 'Example SSO',
  };
  delete env.ACCORD_DATABASE_URL;
  const demo = execFileSync(binary, ['demo'], { env, encoding: 'utf8' });
  const credentials = {};
  for (const line of demo.split('\n').filter((l) => l.includes('@accord.example'))) {
    const parts = line.trim().split(/\s+/);
    credentials[parts[0]] = parts[parts.length - 1];
  }
  const server = spawn(binary, ['serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(shotDir, { recursive: true });
  return {
    base,
    smtp,
    browser,
    credentials,
    async stop() {
      await browser.close();
      server.kill('SIGTERM');
      await new Promise((resolve) => server.on('exit', resolve));
      provider.stop();
      await smtp.close();
    },
  };
}

/** A new browser context signed in as `email` (`javaScriptEnabled: false` for the no-JS runs). */
export async function signIn(app, email, { javaScriptEnabled = true, width = 1280 } = {}) {
  // bypassCSP only lets the test inject axe-core; the pages themselves run under the real CSP.
  const context = await app.browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${app.base}/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(app.credentials[email]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${app.base}/`);
  return page;
}

/** Serious or critical accessibility problems on the page, as readable lines. */
export async function audit(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ content: readFileSync(axeSource, 'utf8') });
  }
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${page.url()}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

/** Fails when the page scrolls sideways or has serious accessibility problems at phone width. */
export async function checkPhone(page) {
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 800 });
  // Nothing scrolls sideways on a phone: wide tables scroll inside their own region or fold.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 360) {
    // Name the elements that stick out, to find the culprit from the CI log alone.
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > 361)
      .slice(0, 8)
      .map((e) => `${e.tagName}.${e.className}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`));
    throw new Error(`${page.url()} is ${width} px wide at 360 px: ${wide.join(', ')}`);
  }
  const problems = await audit(page);
  if (problems.length > 0) {
    throw new Error(`at 360 px: ${problems.join('\n')}`);
  }
  await page.setViewportSize(viewport);
}

/** Headings that skip a level (axe's heading-order, a moderate rule the audit leaves out). */
export async function skippedHeadings(page) {
  const result = await page.evaluate(async () => window.axe.run(document, { runOnly: ['heading-order'] }));
  return result.violations.flatMap((v) => v.nodes.map((n) => `${page.url()}: ${n.target.join(' ')}`));
}

/** Screenshots the page at laptop and phone width, checking it at phone width too. */
export async function shoot(page, name) {
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(shotDir, `${name}-laptop.png`), fullPage: true });
  await page.setViewportSize({ width: 360, height: 800 });
  await page.screenshot({ path: join(shotDir, `${name}-phone.png`), fullPage: true });
  await checkPhone(page);
  await page.setViewportSize(viewport);
}
