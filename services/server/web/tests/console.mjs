// The console in headless Chromium against a real reserve-server on the
// demo network with demo stock. Started by the e2e test
// `the_console_shows_the_network_stock_and_a_live_order_in_chromium`, which
// serves, mints tokens, and dispatches the order when this script asks:
// it prints `WAIT dispatch` and reads `GO` on standard input.
//
// Environment: CONSOLE_URL, CHROMIUM, ARTIFACTS, EXPECT_DEPOTS,
// EXPECT_QUILTS, ORDER_NUMBER, KEEPER_TOKEN, EXPECT_KEEPER_DEPOTS,
// FOREIGN_DEPOT, EXPECT_OUTSTANDING; `GO N` carries the keeper's quilts on hand after the dispatch.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const env = (k) => {
  const v = process.env[k];
  if (v === undefined || v === "") throw new Error(`${k} is not set`);
  return v;
};
const url = env("CONSOLE_URL");
const artifacts = env("ARTIFACTS");
mkdirSync(artifacts, { recursive: true });
const digits = (s) => (s ?? "").replace(/[^0-9-]/g, "");
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

const browser = await chromium.launch({
  executablePath: env("CHROMIUM"),
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let page;
try {
  const ctx = await browser.newContext({
    viewport: { width: 1366, height: 768 },
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
  });
  page = await ctx.newPage();
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));

  // Sign in with one click (the test server has the development key).
  await page.goto(url);
  await page.locator("#dev-login-button").waitFor({ timeout: 15000 });
  await page.selectOption("#dev-role", "dispatcher");
  await page.fill("#dev-scope", "HB");
  await page.click("#dev-login-button");
  await page.locator("#map-svg .depot").first().waitFor({ timeout: 15000 });
  // Readiness colours arrive with their own call; wait for the rings.
  await page.locator("#map-svg .ring").first().waitFor({ timeout: 15000 });
  const depots = await page.locator("#map-svg .depot").count();
  check(depots === Number(env("EXPECT_DEPOTS")), `the map shows ${depots} depots`);
  const treeNodes = await page.locator("#tree [data-tree]").count();
  check(treeNodes === depots, `the tree beside the map lists the same ${treeNodes} depots`);
  const missed = await page.locator('#map-svg .depot[data-readiness="county-missed"], #map-svg .depot[data-readiness="missed"]').count();
  check(missed > 0, `${missed} places are coloured as missing a readiness target`);
  await page.screenshot({ path: join(artifacts, "01-map.png") });

  // The roll-up of quilts over the whole province.
  await page.click("#tab-rollup");
  await page.locator("#rollup-table tr.total").waitFor({ timeout: 15000 });
  await page.selectOption("#rollup-item", "quilt-cotton");
  await page.locator("#rollup-table tr.total").waitFor({ timeout: 15000 });
  const quilts = digits(await page.locator('#rollup-table tr.total td[data-col="onHand"]').textContent());
  check(quilts === env("EXPECT_QUILTS"), `the quilt roll-up totals ${quilts} on hand`);
  const tiers = await page.locator("#rollup-table tr.tier-row").count();
  check(tiers >= 2, `the roll-up is split into ${tiers} tiers`);
  // The map marks where the quilts are: its figures add up to the roll-up.
  await page.waitForFunction((n) => document.querySelectorAll("#map-svg [data-qty]").length === n, depots, { timeout: 15000 });
  const available = digits(await page.locator('#rollup-table tr.total td[data-col="available"]').textContent());
  const figures = await page.locator("#map-svg [data-qty]").allTextContents();
  const mapped = figures.reduce((a, t) => a + Number(digits(t)), 0);
  check(String(mapped) === available, `the map's quilt figures add up to the ${available} available`);
  await page.screenshot({ path: join(artifacts, "02-rollup-quilts.png") });

  // The order, approved, then dispatched by another client while we watch.
  await page.click("#tab-orders");
  const order = page.locator(`article.order[data-order="${env("ORDER_NUMBER")}"]`);
  await order.locator('[data-testid="order-state"]', { hasText: "已批准" }).waitFor({ timeout: 15000 });
  await page.locator('body[data-live="on"]').waitFor({ timeout: 15000 });
  check(true, "the order shows as approved and the event stream is connected");
  await page.screenshot({ path: join(artifacts, "03-order-approved.png") });
  console.log("WAIT dispatch");
  const go = await lines.next();
  const [word, keeperQuilts] = go.done ? [] : go.value.trim().split(" ");
  check(word === "GO", "the other client dispatched the order");
  await order.locator('[data-testid="order-state"]', { hasText: "已发运" }).waitFor({ timeout: 20000 });
  const timeline = await order.locator("ol.timeline li").allTextContents();
  check(timeline.some((t) => t.includes("已批准 → 已发运")), "the timeline shows approved → dispatched");
  check(await page.locator("#alerts ol.events li").count() > 0, "the live feed shows the dispatch");
  await page.screenshot({ path: join(artifacts, "04-order-dispatched.png") });

  // Other panels answer for this user (finance is not served yet).
  await page.click("#tab-expiry");
  await page.locator("#expiring-table tbody tr").first().waitFor({ timeout: 15000 });
  await page.click("#tab-overdue");
  await page.locator('[data-testid="lease-overdue"]').waitFor({ timeout: 15000 });
  check(await page.locator('[data-testid="upkeep-overdue"] .error, [data-testid="lease-overdue"] .error').count() === 0,
    "the upkeep and lease overdue lists answer for a dispatcher");
  await page.screenshot({ path: join(artifacts, "07-overdue.png") });
  await page.click("#tab-finance");
  await page.locator('[data-testid="finance-outstanding"]').waitFor({ timeout: 15000 });
  const outstanding = await page.locator('[data-testid="finance-outstanding"]').textContent();
  check(outstanding === env("EXPECT_OUTSTANDING"), `near-expiry lots are listed and the finance panel shows ${outstanding} outstanding`);
  await page.screenshot({ path: join(artifacts, "08-finance.png") });
  // Where the tents are, for the README.
  await page.selectOption("#map-item", "tent-12m2");
  await page.waitForFunction((n) => document.querySelectorAll("#map-svg [data-qty]").length === n, depots, { timeout: 15000 });
  await page.click("#tab-readiness");
  await page.locator("#readiness-table tbody tr").first().waitFor({ timeout: 15000 });
  await page.screenshot({ path: join(artifacts, "06-map-tents-readiness.png") });
  await ctx.close();

  // A keeper of 竹山县 sees only their county.
  const kctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  page = await kctx.newPage();
  await page.goto(url);
  await page.fill("#token-input", env("KEEPER_TOKEN"));
  await page.click("#token-submit");
  await page.locator("#map-svg .depot").first().waitFor({ timeout: 15000 });
  const kd = await page.locator("#map-svg .depot").count();
  check(kd === Number(env("EXPECT_KEEPER_DEPOTS")), `the keeper's map shows ${kd} depots`);
  const foreign = env("FOREIGN_DEPOT");
  check(await page.locator(`[data-depot="${foreign}"], [data-tree="${foreign}"]`).count() === 0, `no ${foreign} on the keeper's map or tree`);
  await page.click("#tab-rollup");
  await page.locator("#rollup-table tr.total").waitFor({ timeout: 15000 });
  const kq = digits(await page.locator('#rollup-table tr.total td[data-col="onHand"]').textContent());
  check(kq === keeperQuilts, `the keeper's quilt roll-up totals ${kq}, their county only`);
  await page.screenshot({ path: join(artifacts, "05-keeper.png") });
  await kctx.close();
  console.log("PASS");
} catch (e) {
  if (page) await page.screenshot({ path: join(artifacts, "failure.png") }).catch(() => {});
  console.log(`FAIL: ${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
process.exit(process.exitCode ?? 0);
