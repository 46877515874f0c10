// Drives the gateway's /docs page in headless Chromium (puppeteer-core, Debian's
// /usr/bin/chromium) as a developer would: the page loads with no console error, lists
// one section per tag of /openapi.json, and "Authorize" (a bearer token) then "Try it
// out" on GET /v1/items/{item} calls the catalog through the gateway and shows the answer.
//
// Environment: GW (http://127.0.0.1:PORT), TOKEN (a JWT), ITEM_ID and ITEM_TITLE (an item
// that exists), TAGS (JSON array of the document's tag names), PUPPETEER_MODULE (the
// puppeteer-core package dir), CHROMIUM, WORK (scratch dir: profile, screenshot).
// Prints `ok - ...` / `not ok - ...` lines; exits 1 when a check fails.
"use strict";
const path = require("path");
const puppeteer = require(process.env.PUPPETEER_MODULE);

let failed = 0;
function check(desc, ok, diag) {
  if (ok) {
    console.log(`ok - ${desc}`);
  } else {
    failed++;
    console.log(`not ok - ${desc}`);
    if (diag) for (const l of String(diag).split("\n")) console.log(`#   ${l}`);
  }
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    userDataDir: path.join(process.env.WORK, "chromium-profile"),
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage"],
  });
  const errors = [];
  const requests = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(60000);
    page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
    page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on("request", (r) => requests.push(r.url()));

    const resp = await page.goto(`${process.env.GW}/docs`, { waitUntil: "networkidle0" });
    check("/docs answers 200 text/html", resp.status() === 200 &&
          (resp.headers()["content-type"] || "").startsWith("text/html"),
          `${resp.status()} ${resp.headers()["content-type"]}`);
    const csp = resp.headers()["content-security-policy"] || "";
    check("/docs has its Content-Security-Policy (own scripts only, no framing)",
          csp.includes("script-src 'self'") && csp.includes("frame-ancestors 'none'"), csp);
    check("/docs keeps X-Frame-Options and nosniff",
          resp.headers()["x-frame-options"] === "DENY" &&
          resp.headers()["x-content-type-options"] === "nosniff");

    await page.waitForSelector(".opblock-tag");
    const shown = await page.$$eval(".opblock-tag", (els) => els.map((e) => e.getAttribute("data-tag")));
    const tags = JSON.parse(process.env.TAGS);
    const missing = tags.filter((t) => !shown.includes(t));
    check(`the page lists every tag of the document (${tags.length})`,
          missing.length === 0 && tags.length > 0, `missing: ${missing.join(", ")}\nshown: ${shown.join(", ")}`);
    const gw = new URL(process.env.GW).origin;
    const foreign = requests.filter((u) => !u.startsWith(gw) && !u.startsWith("data:"));
    check("the page loads nothing from another site", foreign.length === 0, foreign.join("\n"));

    // Authorize: the bearer token in the dialog Swagger UI opens.
    await page.click(".auth-wrapper .authorize");
    await page.waitForSelector(".modal-ux .auth-container input");
    const containers = await page.$$(".modal-ux .auth-container");
    let typed = false;
    for (const c of containers) {
      const text = await c.evaluate((e) => e.textContent);
      if (text.includes("bearerAuth")) {
        const input = await c.$("input");
        await input.type(process.env.TOKEN);
        const button = await c.$("button.authorize");
        await button.click();
        typed = true;
        break;
      }
    }
    check("Authorize takes the bearer token", typed);
    await page.click(".modal-ux .btn-done, .modal-ux .close-modal");

    // Try it out: GET /v1/items/{item}.
    const block = await page.waitForSelector(
        '.opblock-get:has(.opblock-summary-path[data-path="/v1/items/{item}"])');
    await (await block.$(".opblock-summary-control, .opblock-summary")).click();
    await block.waitForSelector(".try-out__btn");
    await (await block.$(".try-out__btn")).click();
    const input = await block.waitForSelector('tr[data-param-name="item"] input');
    await input.type(process.env.ITEM_ID);
    await (await block.waitForSelector(".execute")).click();
    await block.waitForSelector(".live-responses-table tr.response .response-col_status", { timeout: 30000 });
    const status = await block.$eval(".live-responses-table tr.response .response-col_status",
                                     (e) => e.textContent.trim());
    const body = await block.$eval(".live-responses-table tr.response .response-col_description",
                                   (e) => e.textContent);
    check("Try it out: GET /v1/items/{item} with the token answers 200", status.startsWith("200"),
          `status: ${status}\n${body.slice(0, 500)}`);
    check("... and the page shows the item from the catalog", body.includes(process.env.ITEM_TITLE),
          body.slice(0, 800));
    await page.screenshot({ path: path.join(process.env.WORK, "docs.png"), fullPage: false });
    check("no console error, page error or failed request", errors.length === 0, errors.join("\n"));
  } catch (e) {
    check("the page could be driven", false, `${e.stack}\n${errors.join("\n")}`);
  } finally {
    await browser.close();
  }
  process.exit(failed === 0 ? 0 : 1);
})();
