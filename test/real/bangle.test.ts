// The Bangle.js 2 tier: pstore on the real Bangle.js 2 firmware (Espruino's emulator build, $BANGLE_EMU), installed
// the way the App Loader does it (reset(), its clean-up, chunked Storage.write, pstore.info, load(); the "boot" app
// rebuilds .boot0 from the *.boot.js files) and with `pstore install`; records of each type, pull, list, cat, rm,
// status; 200 app switches; an update and a removal the App Loader's way; `pstore uninstall`. After every step every
// backend is ok and nothing the watch sent back is an interpreter complaint. One watch for the whole file, started
// factory-fresh once (20–40 s).

import test from "ava";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard } from "../../tools/build/build";
import { APP_FOLDER, APP_INFO_FILE, BANGLE_BOOT_FILE, appInfo, dataFiles } from "../../tools/build/installed-files";
import { getBoard } from "../../boards/index";
import { pstore } from "../helpers/cli-run";
import { BangleWatch, COMPLAINTS, bangleEmulatorDir, type WatchConsole } from "./bangle-emulator";

const EMU = bangleEmulatorDir();
const BOARD = "BANGLEJS2";
/** The App Loader's Const.UPLOAD_CHUNKSIZE. */
const APP_LOADER_CHUNK = 1024;
const APP_LOADER_CLEAN_UP =
  "\x10clearInterval();clearWatch();global.Bangle&&Bangle.removeAllListeners();E.removeAllListeners();global.NRF&&NRF.removeAllListeners();\n";

if (!EMU) {
  test("Bangle.js 2 tier", (t) => t.pass());
  console.log("Bangle.js 2 tier skipped: BANGLE_EMU does not name a folder with the emulator's serve.js");
} else {
  const work = mkdtempSync(join(tmpdir(), "pstore-bangle-"));
  const flash = join(work, "watch.bin");
  const dist = join(work, "dist");
  let watch: BangleWatch;

  test.before(async () => {
    await buildBoard(BOARD, { outDir: dist });
    watch = await BangleWatch.start(EMU, flash);
  });
  test.after.always(async () => {
    if (watch) await watch.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The files the App Loader uploads for pstore: metadata's storage list, then the .info it writes. */
  async function appLoaderFiles(): Promise<Array<[string, string]>> {
    const app = join(dist, BOARD, APP_FOLDER);
    const meta = JSON.parse(readFileSync(join(app, "metadata.json"), "utf8")) as { version: string; storage: Array<{ name: string; url: string }> };
    const files: Array<[string, string]> = meta.storage.map((f) => [f.name, readFileSync(join(app, f.url), "latin1")]);
    files.push([APP_INFO_FILE, JSON.stringify(appInfo(BOARD, meta.version))]);
    return files;
  }

  /** EspruinoAppLoaderCore's Comms.reset(): Ctrl-C and reset(), then its clean-up of what boot code started. */
  async function appLoaderReset(c: WatchConsole): Promise<void> {
    await c.run("\x03\x10reset();\n");
    await c.run(APP_LOADER_CLEAN_UP);
  }

  /** Comms.uploadApp: reset, every file in 1 KB Storage.write chunks (AppInfo.getFileUploadCommands), load(). */
  async function appLoaderUpload(c: WatchConsole): Promise<void> {
    await appLoaderReset(c);
    for (const [name, data] of await appLoaderFiles()) {
      for (let at = 0; at < data.length; at += APP_LOADER_CHUNK) {
        const chunk = `atob(${JSON.stringify(Buffer.from(data.slice(at, at + APP_LOADER_CHUNK), "latin1").toString("base64"))})`;
        await c.run(`\x10require('Storage').write(${JSON.stringify(name)},${chunk},${at}${at === 0 ? "," + data.length : ""});\n`);
      }
    }
    await c.run("\x10load()\n");
  }

  /** Comms.removeApp: reset, erase the .info's files and data, load(). */
  async function appLoaderRemove(c: WatchConsole): Promise<void> {
    await appLoaderReset(c);
    const info = await c.value(`require("Storage").readJSON(${JSON.stringify(APP_INFO_FILE)},1)`);
    for (const name of [...info.files.split(","), ...info.data.split(",")]) await c.run(`\x10require("Storage").erase(${JSON.stringify(name)});\n`);
    await c.run("\x10load()\n");
  }

  /** Every backend ok, and nothing the watch sent since the last check is a complaint (except `expected`). */
  async function healthy(t: any, expected?: RegExp): Promise<any> {
    const status = await pstore(["status", "--json", "--port", watch.url]);
    t.is(status.code, 0, status.err);
    const report = JSON.parse(status.out).status;
    for (const backend of report.backends) t.is(backend.state, "ok", JSON.stringify(backend));
    const received = watch.mark().replace(expected ?? /^$/, "");
    t.false(COMPLAINTS.test(received), received.match(new RegExp(`.{0,200}(${COMPLAINTS.source}).{0,200}`))?.[0]);
    return report;
  }

  test.serial("the App Loader's install: .boot0 rebuilt with pstore first among the boot files, pstore running", async (t) => {
    await watch.session(async (c) => {
      await appLoaderUpload(c);
      const bootFiles: string[] = await c.value('require("Storage").list(/\\.boot\\.js$/)');
      t.true(bootFiles.includes(BANGLE_BOOT_FILE));
      const boot0: string = await c.value('require("Storage").read(".boot0")');
      const pstoreAt = boot0.indexOf(readFileSync(join(dist, BOARD, "pstore.boot.js"), "latin1"));
      t.true(pstoreAt > 0, "pstore's boot code is in .boot0");
      for (const other of bootFiles.filter((f) => !/\.\d+\.boot\.js$/.test(f))) {
        const code: string = await c.value(`require("Storage").read(${JSON.stringify(other)})`);
        t.true(boot0.indexOf(code) > pstoreAt, `${other} runs after pstore`);
      }
      t.is(await c.value("E.getConsole()"), "LoopbackA");
    });
    await healthy(t);
  });

  test.serial("records of every type, pulled, listed, shown and erased", async (t) => {
    await watch.session(async (c) => {
      await c.run('\x10require("pstore").pmsg("hello from the Bangle tier");\n');
      await c.run('\x10var inc=require("pstore").trace(function(x){return x+1},"inc");inc(1);inc(2);\n');
      await c.run('\x10setTimeout(function(){throw new Error("tier boom")},10);\n');
      await new Promise((done) => setTimeout(done, 500));
      await c.run('\x10require("pstore").panic("tier panic");\n');
      await c.run('\x10print("B".repeat(4000));\n');
      await c.run('\x10require("pstore").flush();\n');
      t.deepEqual(await c.value("E.getErrorFlags()"), []);
    });
    await healthy(t, /Uncaught Error: tier boom[^\n]*\n(\s+at[^\n]*\n)*/g);
    const out = join(work, "archive");
    const pull = await pstore(["pull", "--port", watch.url, "--out", out]);
    t.is(pull.code, 0, pull.err + pull.out);
    const [device] = readdirSync(out);
    const texts = readdirSync(join(out, device)).flatMap((boot) =>
      readdirSync(join(out, device, boot)).map((f) => [f, readFileSync(join(out, device, boot, f), "latin1")] as const),
    );
    const find = (prefix: string, content: string | RegExp) =>
      texts.some(([f, text]) => f.startsWith(prefix) && (typeof content === "string" ? text.includes(content) : content.test(text)));
    t.true(find("pmsg-", "hello from the Bangle tier"));
    t.true(find("dmesg-", "tier boom"));
    t.true(find("dmesg-", "tier panic"));
    t.true(find("ftrace-", "inc"));
    t.true(find("console-", "B".repeat(4000)), "the 4 KB burst arrived whole");
    await watch.session((c) => c.run('\x10require("pstore").pmsg("one to erase");\n'));
    const list = await pstore(["list", "--json", "--port", watch.url]);
    t.is(list.code, 0, list.err);
    const [record] = JSON.parse(list.out).records.filter((r: any) => r.type === "pmsg");
    const cat = await pstore(["cat", record.name, "--port", watch.url]);
    t.true(cat.out.includes("one to erase"), cat.out);
    const rm = await pstore(["rm", record.name, "--port", watch.url]);
    t.is(rm.code, 0, rm.err);
    await healthy(t);
  });

  // 200 app switches in a row, in rounds of 10 so that each test ends well inside the runner's timeout (each
  // switch boots pstore again); no round writes a record. RAM is flat: every switch leaves the figure of the first
  // within a band of a few variables (the firmware's own figure alternates between two values 6 apart); a leak of one
  // variable per switch would leave the band within ten switches.
  const switches = { usage: -1, records: -1 };
  const BAND = 8;
  for (let round = 0; round < 20; round++) {
    test.serial(`app switches (load()) ${round * 10 + 1}–${round * 10 + 10} of 200: no records, RAM flat, the REPL answering`, async (t) => {
      await watch.session(async (c) => {
        const records = async () => (await c.value('require("pstore").list().length')) as number;
        if (switches.records < 0) switches.records = await records();
        for (let i = 0; i < 10; i++) {
          await c.run("\x10load()\n");
          const usage: number = await c.value("process.memory().usage");
          if (switches.usage < 0) switches.usage = usage;
          t.true(Math.abs(usage - switches.usage) <= BAND, `after switch ${round * 10 + i + 1}: ${usage} variables, ${switches.usage} after the first`);
        }
        t.is(await records(), switches.records);
      });
      if (round === 19) await healthy(t);
      else t.false(COMPLAINTS.test(watch.received));
    });
  }

  test.serial("pstore install over a running pstore keeps the records", async (t) => {
    await watch.session((c) => c.run('\x10require("pstore").pmsg("kept across install");\n'));
    const install = await pstore(["install", "--board", BOARD, "--port", watch.url, "--dist", dist]);
    t.is(install.code, 0, install.err + install.out);
    const cat = await pstore(["pull", "--no-erase", "--json", "--port", watch.url, "--out", join(work, "after-install")]);
    t.true(cat.out.includes("pmsg"), cat.out);
    await healthy(t);
  });

  test.serial("an update and a removal the App Loader's way, while pstore runs", async (t) => {
    await watch.session(async (c) => {
      await appLoaderUpload(c);
      for (const [name, data] of await appLoaderFiles()) {
        t.is(await c.value(`E.CRC32(require("Storage").read(${JSON.stringify(name)}))`), await c.value(`E.CRC32(${JSON.stringify(data)})`), name);
      }
    });
    await healthy(t);
    await watch.session(async (c) => {
      await appLoaderRemove(c);
      const left: string[] = await c.value('require("Storage").list(/^pstore/)');
      t.deepEqual(left, []);
      t.is((await c.value('require("Storage").read(".boot0")') as string).indexOf('load("pstore")'), -1);
      t.not(await c.value("E.getConsole()"), "LoopbackA");
    });
    t.false(COMPLAINTS.test(watch.mark()));
    t.deepEqual(dataFiles(getBoard(BOARD)).slice(0, 2), ["pstore.json", "pstore.p0"]);
  });

  test.serial("pstore install, then pstore uninstall: records archived, a bare interpreter", async (t) => {
    const install = await pstore(["install", "--board", BOARD, "--port", watch.url, "--dist", dist]);
    t.is(install.code, 0, install.err + install.out);
    await watch.session((c) => c.run('\x10require("pstore").pmsg("archived by uninstall");\n'));
    const out = join(work, "uninstall");
    const uninstall = await pstore(["uninstall", "--board", BOARD, "--port", watch.url, "--out", out, "--purge"]);
    t.is(uninstall.code, 0, uninstall.err + uninstall.out);
    await watch.session(async (c) => {
      t.deepEqual(await c.value('require("Storage").list(/^pstore/)'), []);
      t.is(await c.value("E.getConsole()"), "USB");
    });
    t.false(COMPLAINTS.test(watch.mark()));
  });
}
