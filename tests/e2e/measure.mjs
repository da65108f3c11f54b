// Measures the release build in headless Chromium against the relay, for docs/BENCHMARKS.md:
// the time from navigation to an interactive register served from the service worker cache,
// from a field edit to its IndexedDB commit (the app's `edit-to-indexeddb` User Timing
// measure), and from a colleague's edit in another browser to this page showing it, with
// the sample register and with a generated register of many records.
//   cargo xtask measure [records]     (runs this with RELAY_BIN, LOAD_BIN and DIST set)
import { spawn, execFileSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium } from "playwright-core"

const { RELAY_BIN, LOAD_BIN, DIST } = process.env
const RECORDS = Number(process.argv[2] ?? 10000)
const data = mkdtempSync(join(tmpdir(), "continuity-measure-"))

const relay = spawn(RELAY_BIN, ["--data", data, "--dist", DIST, "--listen", "127.0.0.1:0", "--with-sample"], {
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, RUST_LOG: "warn" },
})
const { address, sample } = await new Promise((resolve) => {
  let out = ""
  relay.stdout.on("data", (chunk) => {
    out += chunk
    const at = out.match(/is at (http:\/\/[^/\s]+)\//)
    const link = out.match(/editor: (\S+)/)
    if (at && link) resolve({ address: at[1], sample: link[1] })
  })
})

/** A member's invite link for a register, from the relay's own subcommand. */
function invite(name, register) {
  const out = execFileSync(RELAY_BIN, ["--data", data, "member", "add", "--name", name, "--role", "editor",
    "--register", register, "--public-url", address]).toString()
  return out.match(/Invite link: (\S+)/)[1]
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.round((sorted.length - 1) * p)]
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
})

const interactive = (page) =>
  page.waitForSelector("[data-testid='save-status']:has-text('All edits saved')", { timeout: 600000 })
    .then(() => page.waitForSelector("[data-testid^='risk-R-']", { timeout: 600000 }))

async function measure(label, link, edits) {
  const context = await browser.newContext()
  const page = await context.newPage()
  // First visit: the register arrives from the relay and the service worker installs. The
  // app opens on Today; the risks have their own address, which is what is timed below.
  await page.goto(link)
  await page.waitForSelector("[data-testid='save-status']:has-text('All edits saved')", { timeout: 600000 })
  await page.goto(`${address}/risks`)
  await interactive(page)
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null)
  const opens = []
  const shown = []
  for (let i = 0; i < 5; i++) {
    const started = Date.now()
    await page.goto(`${address}/risks`)
    // The register on screen (from the stored view, while the document still loads), then
    // the document loaded and everything saved.
    await page.waitForSelector("[data-testid^='risk-R-']", { timeout: 600000 })
    shown.push(Date.now() - started)
    await interactive(page)
    opens.push(Date.now() - started)
  }
  await page.locator("[data-testid^='open-R-']").first().click()
  await page.waitForSelector("[data-testid='risk-editor']")
  for (let i = 0; i < edits; i++) {
    const field = page.locator("[data-testid='risk-description']")
    await field.fill(`Measured edit ${i}`)
    await field.dispatchEvent("change")
    await page.waitForFunction((n) => performance.getEntriesByName("edit-to-indexeddb").length >= n, i + 1, { timeout: 600000 })
  }
  const writes = await page.evaluate(() => performance.getEntriesByName("edit-to-indexeddb").map((e) => e.duration))

  // A colleague edits the same risk in another browser: the time from their edit to this
  // page showing it (their save, the relay, taking the change in and rendering it).
  const other = await browser.newContext()
  const colleague = await other.newPage()
  await colleague.goto(link)
  await colleague.waitForSelector("[data-testid='save-status']:has-text('All edits saved')", { timeout: 600000 })
  await colleague.goto(`${address}/risks`)
  await interactive(colleague)
  const reference = await page.locator("#risk-editor-heading").textContent()
  await colleague.locator(`[data-testid='open-${reference.split(" ")[0]}']`).click()
  await colleague.waitForSelector("[data-testid='risk-editor']")
  for (const p of [page, colleague]) await p.waitForSelector("[data-testid='sync-status'][data-state='connected']", { timeout: 600000 })
  const arrivals = []
  for (let i = 0; i < edits; i++) {
    const value = `Colleague's edit ${i}`
    const field = colleague.locator("[data-testid='risk-description']")
    await field.fill(value)
    const started = Date.now()
    await field.dispatchEvent("change")
    await page.waitForFunction((v) => document.querySelector("[data-testid='risk-description']")?.value === v, value, { timeout: 600000 })
    arrivals.push(Date.now() - started)
  }
  await other.close()
  await context.close()
  const ms = (v) => v.toFixed(0)
  console.log(`| ${label} | ${ms(percentile(shown, 0.5))} | ${ms(Math.max(...shown))} | ${ms(percentile(opens, 0.5))} | ${ms(Math.max(...opens))} | ${ms(percentile(writes, 0.5))} | ${ms(percentile(writes, 0.95))} | ${writes.length} | ${ms(percentile(arrivals, 0.5))} | ${ms(percentile(arrivals, 0.95))} |`)
}

try {
  console.log("| register | navigation to register on screen p50 (ms) | max (ms) | to loaded and saved p50 (ms) | max (ms) | edit to IndexedDB p50 (ms) | p95 (ms) | edits | colleague's edit on screen p50 (ms) | p95 (ms) |")
  console.log("|---|---|---|---|---|---|---|---|---|---|")
  await measure("sample register", sample, 40)
  const register = execFileSync(LOAD_BIN, ["ids", "--registers", "1", "--seed", "7"]).toString().trim()
  const link = invite("Measurer", register)
  const token = new URL(link).hash.match(/token=([^&]+)/)[1]
  execFileSync(LOAD_BIN, ["seed", "--url", `${address.replace("http", "ws")}/sync?token=${token}`, "--register", register,
    "--records", String(RECORDS)], { stdio: "inherit" })
  await measure(`generated, ${RECORDS} records`, link, 10)
} finally {
  await browser.close()
  relay.kill("SIGKILL")
}
