// tests/browser/drive.js - what the browser tests' drivers share: Debian's
// Chromium (or $CHROMIUM) started headless by puppeteer-core, one page whose
// requests and script errors are noted, and the end: what was seen written
// to OUT as JSON, whether the steps finished or not (then with the error,
// on stderr too, and exit status 1).
'use strict';
const puppeteer = require('puppeteer-core');
const fs = require('fs');

// drive(NAME, OUT, seen, steps): run steps(page) on a new page; seen gets
// requests (every URL the page asked for), pageerror, error
async function session(seen, steps) {
	const browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		// root in a container has no user namespace for the sandbox
		args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
	});
	const requests = [];
	try {
		const page = await browser.newPage();
		page.on('request', r => requests.push(r.url()));
		page.on('pageerror', e => { seen.pageerror = String(e); });
		await steps(page);
	} finally {
		seen.requests = requests;
		await browser.close();
	}
}

function drive(name, out, seen, steps) {
	session(seen, steps).then(() => {
		fs.writeFileSync(out, JSON.stringify(seen, null, 1));
	}, e => {
		seen.error = String(e && e.stack || e);
		fs.writeFileSync(out, JSON.stringify(seen, null, 1));
		console.error(name + ': ' + seen.error);
		process.exit(1);
	});
}

module.exports = { drive };
