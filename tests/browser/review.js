// tests/browser/review.js URL OUT.json - drive the review page of
// `mlde-prompt review --serve` in headless Chromium (puppeteer-core, Debian's
// /usr/bin/chromium or $CHROMIUM) as a person would: look at the first item,
// press y, n with a typed reason, s, go back, n with a reason picked by its
// number, click the "correct" button, and q.  What the page showed at each
// step goes to OUT.json; tests/browser/review.t checks it and the review
// records the server wrote.
'use strict';
const { drive } = require('./drive.js');

const [url, out] = process.argv.slice(2);
const seen = {};

drive('review.js', out, seen, async page => {
	const state = () => page.evaluate(() => ({
		index: +document.body.dataset.index,
		reviewed: +document.body.dataset.reviewed,
		question: document.getElementById('question').textContent,
		marked: (document.querySelector('li.answer') || {}).textContent || null,
		options: [...document.querySelectorAll('#options li')].map(li => li.textContent),
		type: document.getElementById('type').textContent,
		version: document.getElementById('version').textContent,
		current: document.getElementById('current').textContent,
		status: document.getElementById('status').textContent,
		progress: document.getElementById('progress').textContent,
	}));
	// wait until the page shows item `index` with `reviewed` verdicts
	const at = (index, reviewed) => page.waitForFunction((i, r) =>
		+document.body.dataset.index === i && +document.body.dataset.reviewed === r,
		{ timeout: 10000 }, index, reviewed);

	await page.goto(url, { waitUntil: 'load' });
	await page.waitForFunction(() => document.body.dataset.ready === '1', { timeout: 10000 });
	await page.waitForFunction(() => {
		const img = document.getElementById('image');
		return img.complete && img.naturalWidth > 0;
	}, { timeout: 10000 });
	seen.first = await state();
	seen.image = await page.evaluate(() => {
		const img = document.getElementById('image');
		return { width: img.naturalWidth, height: img.naturalHeight, src: img.getAttribute('src') };
	});
	await page.keyboard.press('y');
	await at(1, 1);
	await page.keyboard.press('n');
	await page.waitForSelector('#reason', { visible: true });
	await page.keyboard.type('two options are the same');
	await page.keyboard.press('Enter');
	await at(2, 2);
	seen.reasonsAfterWrong = await page.evaluate(() =>
		[...document.querySelectorAll('#reasons option')].map(o => o.value));
	await page.keyboard.press('s');
	await at(3, 3);
	await page.keyboard.press('ArrowLeft');
	await at(2, 3);
	seen.back = await state();
	await page.keyboard.press('n');
	await page.waitForSelector('#reason', { visible: true });
	await page.keyboard.type('1');
	await page.keyboard.press('Enter');
	await at(3, 3);
	await page.keyboard.press('k');
	await at(2, 3);
	seen.changed = await state();
	await page.click('#bcorrect');
	await at(3, 3);
	await page.keyboard.press('j');
	await at(4, 3);
	await page.keyboard.press('q');
	await page.waitForFunction(() => document.body.dataset.quit === '1', { timeout: 10000 });
	seen.end = await state();
});
