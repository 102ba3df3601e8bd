// Opens a generated release site in Debian's chromium (headless, through
// playwright-core; never a browser download of its own) and checks what a person
// would: every page loads with no failed request, no console error and no request
// leaving the machine; every internal link resolves; each page has a language,
// landmarks and one h1; hostile notes run no script; the dark scheme changes the
// colours; a phone-sized viewport needs no sideways scrolling; every release is
// listed. Screenshots of the index and one release page go to OUT_DIR.
//
// usage: node check.mjs SITE_DIR OUT_DIR [RELEASE_PAGE]
//        node check.mjs http://HOST:PORT/<path>/-/releases OUT_DIR [RELEASE_PAGE]
// The second form checks the pages `git release serve` answers: the crawl starts at
// that URL, links are checked over HTTP, and the list JSON is `<that URL>.json`.
// Prints a JSON report; exits 1 when any check fails.

import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [siteDir, outDir, shotPage] = process.argv.slice(2);
if (!siteDir || !outDir) {
  console.error('usage: node check.mjs SITE_DIR OUT_DIR [RELEASE_PAGE]');
  process.exit(2);
}
const served = /^https?:\/\//.test(siteDir);
const root = served ? null : path.resolve(siteDir);
fs.mkdirSync(outDir, { recursive: true });

const types = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.atom': 'application/atom+xml', '.json': 'application/json',
};

// A loopback static server over the site, as a static host would serve it (or the
// server under test, for served pages).
const server = served ? null : http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const file = path.join(root, decodeURIComponent(url.pathname));
  if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404); res.end('not found'); return;
  }
  res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
let origin, start;
if (served) {
  const url = new URL(siteDir);
  origin = url.origin;
  start = url.pathname;
} else {
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${server.address().port}`;
  start = '/index.html';
}
// Whether an internal link is a page to crawl, and whether it resolves.
const isPage = (pathname) => served
  ? pathname.startsWith(start) && !/\.(atom|json|css|svg)$/.test(pathname) && !pathname.includes('/downloads/')
  : pathname.endsWith('.html');
const resolves = async (target) => {
  if (!served) return fs.existsSync(path.join(root, decodeURIComponent(target.pathname)));
  const response = await fetch(target, { redirect: 'manual' });
  await response.arrayBuffer();
  return response.status === 200 || response.status === 302;
};

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'git-release-chromium-'));
const failures = [];
const fail = (what) => failures.push(what);
const report = { pages: 0, links: 0, releases: 0, screenshots: [] };

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 1100, height: 900 },
});
try {
  // Anything not from our server is an outside resource: record it and stop it.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/')) return route.continue();
    if (url.startsWith('data:')) return route.continue();
    fail(`outside request: ${url}`);
    return route.abort();
  });
  const page = await context.newPage();
  let current = '';
  page.on('console', (m) => { if (m.type() === 'error') fail(`console error on ${current}: ${m.text()}`); });
  page.on('pageerror', (e) => fail(`script error on ${current}: ${e.message}`));
  page.on('dialog', async (d) => { fail(`a script ran on ${current}: ${d.type()} ${d.message()}`); await d.dismiss(); });
  page.on('requestfailed', (r) => fail(`failed request on ${current}: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) fail(`HTTP ${r.status()} on ${current}: ${r.url()}`); });

  // Crawl every page reachable from the index; check every internal link resolves.
  const seen = new Set();
  const checked = new Map();
  const queue = [start];
  const listed = new Set();
  while (queue.length) {
    const p = queue.shift();
    if (seen.has(p)) continue;
    seen.add(p);
    current = p;
    const response = await page.goto(origin + p, { waitUntil: 'load' });
    if (!response || response.status() !== 200) { fail(`cannot open ${p}`); continue; }
    const type = response.headers()['content-type'] || '';
    if (!type.startsWith('text/html')) continue;
    report.pages++;
    const facts = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      h1: document.querySelectorAll('main h1:not(.notes h1)').length,
      main: document.querySelectorAll('main').length,
      header: document.querySelectorAll('body > header').length,
      footer: document.querySelectorAll('body > footer').length,
      nav: document.querySelectorAll('nav').length,
      title: document.title,
      links: [...document.querySelectorAll('a[href], link[href], img[src]')]
        .map((e) => e.href || e.src),
      tags: [...document.querySelectorAll('ol.releases .tag')].map((e) => e.textContent),
      scripts: document.querySelectorAll('script').length,
      handlers: [...document.querySelectorAll('*')].flatMap((e) =>
        [...e.attributes].filter((a) => a.name.startsWith('on')).map((a) => `${e.tagName} ${a.name}`)),
      jsUrls: [...document.querySelectorAll('[href], [src]')]
        .map((e) => e.getAttribute('href') || e.getAttribute('src'))
        .filter((u) => /^\s*javascript:/i.test(u)),
    }));
    if (!facts.lang) fail(`${p}: no lang on <html>`);
    if (facts.h1 !== 1) fail(`${p}: ${facts.h1} h1 elements outside the release notes`);
    if (facts.main !== 1 || facts.header !== 1 || facts.footer !== 1 || facts.nav < 1) {
      fail(`${p}: landmarks main=${facts.main} header=${facts.header} footer=${facts.footer} nav=${facts.nav}`);
    }
    if (!facts.title) fail(`${p}: no title`);
    if (facts.scripts) fail(`${p}: ${facts.scripts} script elements`);
    for (const h of facts.handlers) fail(`${p}: event handler attribute ${h}`);
    for (const u of facts.jsUrls) fail(`${p}: javascript: URL ${u}`);
    facts.tags.forEach((t) => listed.add(t));
    for (const link of facts.links) {
      if (!link.startsWith(origin + '/')) continue;
      const target = new URL(link);
      target.hash = '';
      report.links++;
      const key = target.pathname + target.search;
      if (!checked.has(key)) {
        checked.set(key, await resolves(target));
      }
      if (!checked.get(key)) { fail(`${p}: broken link ${key}`); continue; }
      if (isPage(target.pathname)) queue.push(key);
    }
  }
  // Every release of releases.json is listed on the index pages, and has its page.
  const releases = served
    ? await (await fetch(`${origin}${start}.json`)).json()
    : JSON.parse(fs.readFileSync(path.join(root, 'releases.json'), 'utf8'));
  report.releases = releases.length;
  for (const r of releases) {
    if (!listed.has(r.tag_name)) fail(`release ${JSON.stringify(r.tag_name)} is not listed on the index`);
  }
  if (report.pages < releases.length + 1) fail(`only ${report.pages} pages reached for ${releases.length} releases`);

  // Light and dark: the colour scheme changes the page's colours.
  current = start;
  await page.goto(origin + start);
  const colours = async () => page.evaluate(() => {
    const s = getComputedStyle(document.body);
    return `${s.backgroundColor} / ${s.color}`;
  });
  await page.emulateMedia({ colorScheme: 'light' });
  const light = await colours();
  await page.screenshot({ path: path.join(outDir, 'index.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await colours();
  await page.screenshot({ path: path.join(outDir, 'index-dark.png'), fullPage: true });
  if (light === dark) fail(`dark scheme keeps the light colours (${light})`);
  report.colours = { light, dark };
  report.screenshots.push('index.png', 'index-dark.png');

  // One release page, light, and on a phone.
  const release = shotPage || [...seen].find((p) => p.startsWith(served ? `${start}/` : '/releases/'));
  if (release) {
    current = release;
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(origin + release);
    await page.screenshot({ path: path.join(outDir, 'release.png'), fullPage: true });
    report.screenshots.push('release.png');
  }
  await page.setViewportSize({ width: 360, height: 740 });
  for (const p of [start, release].filter(Boolean)) {
    current = p;
    await page.goto(origin + p);
    const overflow = await page.evaluate(() =>
      document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 0) fail(`${p}: ${overflow}px of horizontal overflow at 360px wide`);
  }
  if (release) {
    await page.screenshot({ path: path.join(outDir, 'release-phone.png'), fullPage: true });
    report.screenshots.push('release-phone.png');
  }
} finally {
  await context.close();
  if (server) server.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
report.failures = failures;
console.log(JSON.stringify(report, null, 2));
process.exit(failures.length ? 1 : 0);
