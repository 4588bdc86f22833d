// Shared by the browser suites (not a test file itself): Debian's Chromium, launched the one
// way every suite uses (headless, no sandbox, no GPU, no background traffic of its own).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** A headless Chromium; fails with the fix when the browser is not installed. */
export function launchChromium() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run \`bash scripts/chromium.sh\``);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The token a request carried: its bearer token, else Cloudflare Access's assertion. */
const sentToken = (headers) => (headers.authorization?.startsWith('Bearer ')
  ? headers.authorization.slice('Bearer '.length)
  : headers['cf-access-jwt-assertion']);

/**
 * Records every answer of the edge that `page` receives into `responses` (a suite's
 * `worker.responses`), for the secret sweep and the audit-trail check: each `/api/` answer
 * and, with `problemsToo`, any problem+json one (the 404 of a path outside the API).
 * `extra()` adds fields read when the answer lands (e.g. who the page is signed in as).
 *
 * Returns `settled({ pauseMs })`, which waits until no read is pending, reads that start
 * meanwhile included (a panel's refresh, the live board's ticket; `pauseMs` gives them time to
 * start); after it, a read that fails because the page closed is left out.
 */
export function recordApiAnswers(page, responses, { problemsToo = false, extra = () => ({}) } = {}) {
  const reads = [];
  let settling = false;
  page.on('requestfinished', (request) => {
    const url = new URL(request.url());
    if (!problemsToo && !url.pathname.startsWith('/api/')) return;
    reads.push((async () => {
      try {
        const response = await request.response();
        const own = url.pathname.startsWith('/api/') ||
          (await response.headerValue('content-type'))?.startsWith('application/problem+json');
        if (!own) return;
        responses.push({
          method: request.method(),
          path: `${url.pathname}${url.search}`,
          status: response.status(),
          headers: await response.allHeaders(),
          text: await response.text().catch(() => ''), // a download's body is not kept
          token: sentToken(await request.allHeaders()),
          fromPage: true,
          ...extra(),
        });
      } catch (error) {
        if (!settling) throw error;
      }
    })());
  });
  return async function settled({ pauseMs = 0 } = {}) {
    for (let seen = -1; seen !== reads.length;) {
      seen = reads.length;
      await Promise.all(reads);
      if (pauseMs) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    settling = true;
  };
}
