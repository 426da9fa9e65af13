// The reference page in a real headless Chromium (Debian's), driven by
// playwright-core: /docs loads without console errors or failed requests and
// shows every route of /openapi.json. Needs a running portal-local
// (PORTAL_API, default http://127.0.0.1:3000) and CHROMIUM (default
// /usr/bin/chromium).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

const api = process.env.PORTAL_API ?? "http://127.0.0.1:3000";
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // This machine's network is closed: no background traffic to Google.
    // (playwright gives the browser a fresh, empty profile of its own.)
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
});

test("the /docs page loads without errors and shows every route", async () => {
  const document = await (await fetch(`${api}/openapi.json`)).json();
  const expected = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
  assert.ok(expected.length >= 12, "the document has the API's routes");

  const page = await browser.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });

  const response = await page.goto(`${api}/docs`, { waitUntil: "networkidle" });
  assert.equal(response?.status(), 200);
  await page.waitForSelector(".opblock", { timeout: 30_000 });
  const shown = await page.$$eval(".opblock", (blocks) =>
    blocks.map((block) => {
      const method = block.querySelector(".opblock-summary-method")?.textContent?.trim() ?? "";
      const path = block.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
      return `${method.toUpperCase()} ${path}`;
    }),
  );
  assert.deepEqual([...shown].sort(), [...expected].sort(), "every route is on the page");
  const title = await page.textContent(".info .title");
  assert.ok(title?.includes(document.info.title), `the page shows the API's title: ${title}`);
  assert.deepEqual(problems, [], "no console errors or failed requests");
  await page.close();
});
