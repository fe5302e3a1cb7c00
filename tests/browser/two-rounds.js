// tests/browser/two-rounds.js URL ANSWERS.json SHOT.png OUT.json - one
// round's review on the page of `mlde-prompt review --serve`, in headless
// Chromium (puppeteer-core), as a person would do it: look at each item from
// the first unreviewed one on, give it the verdict ANSWERS holds for its id
// ({id: {verdict, reason}}: y, or n and the reason typed in the box, or s
// for an item it has none for), then q.  The page as it shows the first
// item is saved as SHOT.png; what it showed of every item goes to OUT.json
// (tests/browser/two-rounds.t checks it against the items and the records).
'use strict';
const { drive } = require('./drive.js');
const fs = require('fs');

const [url, answersFile, shot, out] = process.argv.slice(2);
const answers = JSON.parse(fs.readFileSync(answersFile, 'utf8'));
const seen = { items: [] };

drive('two-rounds.js', out, seen, async page => {
	await page.setViewport({ width: 1000, height: 760 });
	const state = () => page.evaluate(() => {
		const img = document.getElementById('image');
		return {
			index: +document.body.dataset.index,
			reviewed: +document.body.dataset.reviewed,
			id: document.getElementById('itemid').textContent,
			question: document.getElementById('question').textContent,
			marked: (document.querySelector('li.answer') || {}).textContent || null,
			options: [...document.querySelectorAll('#options li')].map(li => li.textContent),
			rationale: document.getElementById('rationale').textContent,
			type: document.getElementById('type').textContent,
			version: document.getElementById('version').textContent,
			image: { src: img.getAttribute('src'), width: img.naturalWidth, loaded: img.complete },
		};
	});
	// the item at `index` shown, its image loaded
	const shown = index => page.waitForFunction(i => {
		const img = document.getElementById('image');
		return +document.body.dataset.index === i && img.complete && img.naturalWidth > 0 &&
			img.getAttribute('src') === '/image/' + i;
	}, { timeout: 10000 }, index);

	await page.goto(url, { waitUntil: 'load' });
	await page.waitForFunction(() => document.body.dataset.ready === '1', { timeout: 10000 });
	const st = await page.evaluate(() => fetch('/state').then(r => r.json()));
	seen.state = st;
	// a rerun resumes at the first unreviewed item; none: nothing to do
	let index = st.first_unreviewed === null ? st.n : await page.evaluate(() => +document.body.dataset.index);
	for (; index < st.n; index++) {
		await shown(index);
		const s = await state();
		seen.items.push(s);
		if (seen.items.length === 1) await page.screenshot({ path: shot });
		const a = answers[s.id] || { verdict: 'skip' };
		const before = s.reviewed;
		if (a.verdict === 'correct') {
			await page.keyboard.press('y');
		} else if (a.verdict === 'wrong') {
			await page.keyboard.press('n');
			await page.waitForSelector('#reason', { visible: true });
			await page.keyboard.type(a.reason);
			await page.keyboard.press('Enter');
		} else {
			await page.keyboard.press('s');
		}
		// the verdict saved (the count moves), the next item shown
		await page.waitForFunction(r => +document.body.dataset.reviewed === r + 1,
			{ timeout: 10000 }, before);
	}
	await page.keyboard.press('q');
	await page.waitForFunction(() => document.body.dataset.quit === '1', { timeout: 10000 });
});
