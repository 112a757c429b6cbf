// Layout check of migscope's HTML reports in a real browser, for
// tests/e2e/html.sh: a harness page holds each report in a 1280 px wide
// iframe (headless Chromium with --allow-file-access-from-files) and loads
// this script. In every timeline SVG, the labels of the event markers and of
// the blackout, as Chromium lays them out, must lie inside the SVG, must not
// overlap each other, and no marker's line may run through another label.
// Writes one line per report into <pre id="result">:
//   NAME height=PX labels=N overlaps=N crossings=N outside=N [first problem]
// (the report itself has no script; this runs only in the test harness).
'use strict';

function intersects(a, b) {
	return a.x < b.x + b.width && b.x < a.x + a.width &&
	       a.y < b.y + b.height && b.y < a.y + a.height;
}

function checkSvg(svg, tally) {
	const vb = svg.viewBox.baseVal;
	const texts = Array.from(svg.querySelectorAll('text.marklabel, text.bandlabel'));
	const boxes = texts.map((t) => t.getBBox());
	const name = (i) => svg.id + ' "' + texts[i].textContent + '"';

	tally.labels += texts.length;
	boxes.forEach((b, i) => {
		if (b.x < vb.x - 0.5 || b.x + b.width > vb.x + vb.width + 0.5) {
			tally.outside++;
			tally.why = tally.why || name(i) + ' leaves the SVG';
		}
		for (let j = i + 1; j < boxes.length; j++) {
			if (intersects(b, boxes[j])) {
				tally.overlaps++;
				tally.why = tally.why || name(i) + ' overlaps ' + name(j);
			}
		}
	});
	svg.querySelectorAll('g.mark').forEach((g) => {
		const line = g.querySelector('line'), own = g.querySelector('text');
		const x = line.x1.baseVal.value;
		const y1 = Math.min(line.y1.baseVal.value, line.y2.baseVal.value);
		const y2 = Math.max(line.y1.baseVal.value, line.y2.baseVal.value);

		texts.forEach((t, i) => {
			const b = boxes[i];

			if (t !== own && x > b.x + 0.5 && x < b.x + b.width - 0.5 &&
			    y1 < b.y + b.height && b.y < y2) {
				tally.crossings++;
				tally.why = tally.why || g.dataset.event + "'s line crosses " + name(i);
			}
		});
	});
}

window.addEventListener('load', () => {
	const lines = [];

	document.querySelectorAll('iframe').forEach((frame) => {
		const doc = frame.contentDocument;
		const tally = { labels: 0, overlaps: 0, crossings: 0, outside: 0, why: '' };

		if (!doc || !doc.body) {
			lines.push(frame.dataset.name + ' unreadable');
			return;
		}
		doc.querySelectorAll('svg.timeline').forEach((svg) => checkSvg(svg, tally));
		lines.push(frame.dataset.name + ' height=' + doc.documentElement.scrollHeight +
			   ' labels=' + tally.labels + ' overlaps=' + tally.overlaps +
			   ' crossings=' + tally.crossings + ' outside=' + tally.outside +
			   (tally.why ? ' ' + tally.why : ''));
	});
	document.getElementById('result').textContent = lines.join('\n');
});
