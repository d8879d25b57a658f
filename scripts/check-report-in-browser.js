// Opens report files in headless Chromium and fails on any console error or
// warning, page error, failed or outside request, or XML parse error; writes a
// screenshot of each beside this script's working directory.
//
//   npm install playwright-core     # once; uses the system browser, downloads none
//   node scripts/check-report-in-browser.js reports/raft-bug-no-fsync/0/index.html ...
//
// CHROMIUM overrides the browser (default /usr/bin/chromium, Debian's package).
const { chromium } = require('playwright-core');
(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  let bad = 0;
  for (const file of process.argv.slice(2)) {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const problems = [];
    page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', e => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', r => problems.push(`request failed: ${r.url()}`));
    const requests = [];
    page.on('request', r => requests.push(r.url()));
    await page.goto('file://' + require('path').resolve(file), { waitUntil: 'load' });
    const xmlError = await page.evaluate(() => !!document.querySelector('parsererror'));
    if (xmlError) problems.push('XML parse error');
    const svgs = await page.evaluate(() => Array.from(document.querySelectorAll('svg')).map(s => { const b = s.getBoundingClientRect(); return [Math.round(b.width), Math.round(b.height)]; }));
    const shot = 'screenshot-' + file.replace(/[^a-z0-9]+/gi, '_').replace(/^_+/, '') + '.png';
    await page.screenshot({ path: shot, fullPage: file.endsWith('.html'), timeout: 60000 });
    const external = requests.filter(u => !u.startsWith('file://'));
    if (external.length) problems.push('external requests: ' + external.join(' '));
    console.log(`${file}: ${problems.length ? 'PROBLEMS' : 'ok'}; ${requests.length} request(s); svgs ${JSON.stringify(svgs)}; screenshot ${shot}`);
    for (const p of problems) console.log('  ' + p);
    bad += problems.length;
    await page.close();
  }
  await browser.close();
  process.exit(bad ? 1 : 0);
})();
