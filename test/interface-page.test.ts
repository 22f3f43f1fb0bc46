// The Bangle.js app's page (dist/BANGLEJS2/app/interface.html, as the build writes it) in real headless Chromium,
// inside a stand-in for the App Loader (test/helpers/apploader-bridge.ts: the interface API of lib/interface.js,
// relayed to `pstore sim --board BANGLEJS2`): it lists, shows, downloads and erases the simulated watch's records.

import test from "ava";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Download, type Page } from "playwright-core";
import { buildBoard } from "../tools/build/build";
import { APP_FOLDER } from "../tools/build/installed-files";
import { startBridge } from "./helpers/apploader-bridge";
import { pstore, startSim, typeOn } from "./helpers/cli-run";

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

interface Listed {
  name: string;
}

/** The records `pstore list` finds on the simulator. */
async function listed(address: string): Promise<string[]> {
  const result = await pstore(["list", "--port", address, "--json"]);
  if (result.code !== 0) throw new Error(`pstore list: ${result.err}`);
  return (JSON.parse(result.out) as { records: Listed[] }).records.map((r) => r.name);
}

/** Runs `act` and returns the downloads the page starts until `count` have arrived, by file name. */
async function downloads(page: Page, count: number, act: () => Promise<void>): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const arrived: Promise<void>[] = [];
  const all = new Promise<void>((done) => {
    const onDownload = (download: Download) => {
      arrived.push(
        download.path().then((path) => {
          files.set(download.suggestedFilename(), readFileSync(path, "latin1"));
        }),
      );
      if (arrived.length === count) {
        page.off("download", onDownload);
        done();
      }
    };
    page.on("download", onDownload);
  });
  await act();
  await all;
  await Promise.all(arrived);
  return files;
}

const run = existsSync(CHROMIUM) ? test.serial : test.skip;
const title = existsSync(CHROMIUM)
  ? "interface.html lists, shows, downloads and erases the records of a simulated Bangle.js 2"
  : `interface.html in headless Chromium: skipped, no ${CHROMIUM} (CI installs the chromium package)`;

run(title, async (t) => {
  const dist = mkdtempSync(join(tmpdir(), "pstore-page-dist-"));
  await buildBoard("BANGLEJS2", { outDir: dist });
  const sim = await startSim(["--listen", "tcp://127.0.0.1:0", "--dist", dist], "BANGLEJS2");
  t.teardown(() => sim.stop());
  // A run that traces calls, writes a message and crashes; then the watchdog resets the watch.
  await typeOn(
    sim.address,
    '\x10var tw=require("pstore").trace(function twice(x){return 2*x},"twice");tw(1);tw(2);' +
      'require("pstore").pmsg("calibration done");setTimeout(function(){throw new Error("sensor not answering")},100)',
  );
  await typeOn(sim.address, "~watchdog", 2500);
  const before = await listed(sim.address);
  t.true(before.length >= 5, before.join(", "));

  const bridge = await startBridge(join(dist, "BANGLEJS2", APP_FOLDER), "pstore", sim.address);
  t.teardown(() => bridge.close());
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "pstore-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    acceptDownloads: true,
  });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(bridge.pageUrl);

  // Listed: one row per record on the watch, and the story of the last reboot.
  const rows = page.locator("#records tbody tr");
  await page.waitForFunction(`document.querySelectorAll("#records tbody tr").length === ${before.length}`, undefined, { timeout: 60000 });
  t.deepEqual((await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-name")))).sort(), [...before].sort());
  t.regex((await page.textContent("#summary"))!, /watchdog reset after 'Uncaught Error: sensor not answering'/);
  const boots = page.locator("#story details");
  t.true((await boots.count()) >= 2);
  t.regex((await boots.nth(0).textContent())!, /reason watchdog/);
  t.regex((await boots.nth(1).textContent())!, /calibration done[\s\S]*Uncaught Error: sensor not answering/);

  // Shown: a decoded trace and a message.
  const ftrace = before.find((name) => name.startsWith("ftrace-"))!;
  const pmsg = before.find((name) => name.startsWith("pmsg-"))!;
  await page.click(`tr[data-name="${ftrace}"] button[data-action=show]`);
  t.regex((await page.textContent("#shown"))!, /twice/);
  await page.click(`tr[data-name="${pmsg}"] button[data-action=show]`);
  t.regex((await page.textContent("#shown"))!, /calibration done/);

  // Erased only after it was downloaded.
  const erase = page.locator(`tr[data-name="${pmsg}"] button[data-action=erase]`);
  t.true(await erase.isDisabled());
  const one = await downloads(page, 1, () => page.click(`tr[data-name="${pmsg}"] button[data-action=download]`));
  const [[pmsgFile, pmsgText]] = [...one];
  t.regex(pmsgFile, new RegExp(`^BANGLEJS2_.*_\\d+_${pmsg}\\.txt$`));
  t.is(pmsgText, "calibration done");
  await erase.click();
  await page.waitForSelector(`tr[data-name="${pmsg}"][data-state=erased]`);
  const afterOne = await listed(sim.address);
  t.false(afterOne.includes(pmsg));
  t.deepEqual(afterOne.sort(), before.filter((name) => name !== pmsg).sort());

  // Download all and erase: every record's file plus each boot's dmesg.txt and records.jsonl, then nothing left.
  const bootCount = await boots.count();
  const recordFiles = await rows.evaluateAll((trs) =>
    trs.filter((tr) => tr.getAttribute("data-state") !== "erased").reduce((n, tr) => n + tr.getAttribute("data-files")!.split(" ").length, 0),
  );
  t.true(recordFiles >= afterOne.length);
  const all = await downloads(page, recordFiles + 2 * bootCount, () => page.click("#take-all"));
  for (const name of afterOne) t.true([...all.keys()].some((file) => file.includes(`_${name}`)), name);
  const indexes = [...all].filter(([file]) => file.endsWith("_records.jsonl"));
  t.is(indexes.length, bootCount);
  const indexed = indexes.flatMap(([, text]) => text.trim().split("\n").map((line) => (JSON.parse(line) as Listed).name));
  t.deepEqual(indexed.sort(), before.sort(), "records.jsonl of each boot, as pstore pull writes it");
  const traceFile = [...all].find(([file]) => file.includes(`_${ftrace}`))!;
  t.regex(traceFile[1], /twice/);
  await page.waitForFunction(`[...document.querySelectorAll("#records tbody tr")].every((tr) => tr.dataset.state === "erased")`);
  t.deepEqual(
    (await listed(sim.address)).filter((name) => before.includes(name)),
    [],
  );
  t.deepEqual(errors, []);
  t.regex(bridge.written(), /require\("pstoresvc"\)\.e\(/, "erased through the host protocol");
});
