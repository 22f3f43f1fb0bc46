// The Bangle.js 2 App Loader app the build writes (dist/BANGLEJS2/app), checked against the rules BangleApps'
// bin/sanitycheck.js enforces (restated here: the checker itself belongs to BangleApps), and installed on the
// simulated watch under the names its metadata gives, to see that its data entries cover every file pstore makes.

import test from "ava";
import * as acorn from "acorn";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBoard } from "../boards/index";
import { buildBoard } from "../tools/build/build";
import { changeLogVersion } from "../tools/build/bangle-app";
import { APP_FOLDER } from "../tools/build/installed-files";
import { SimDevice } from "../tools/sim/espruino/device";

interface StorageEntry {
  name: string;
  url: string;
}
interface DataEntry {
  name?: string;
  wildcard?: string;
}
interface Metadata {
  [key: string]: unknown;
  id: string;
  version: string;
  type: string;
  tags: string;
  supports: string[];
  icon: string;
  readme: string;
  interface: string;
  provides_modules: string[];
  storage: StorageEntry[];
  data: DataEntry[];
}

// sanitycheck.js's lists of what it accepts.
const APP_KEYS = [
  "id", "name", "shortName", "version", "icon", "screenshots", "description", "tags", "type", "sortorder", "readme", "custom",
  "customConnect", "interface", "storage", "data", "supports", "allow_emulator", "dependencies", "provides_modules",
  "provides_widgets", "provides_features", "default", "author", "requires_firmware",
];
const STORAGE_KEYS = ["name", "url", "content", "evaluate", "noOverwite", "supports", "noOverwrite"];
const DATA_KEYS = ["name", "wildcard", "storageFile", "url", "content", "evaluate"];
const SUPPORTS_DEVICES = ["BANGLEJS", "BANGLEJS2", "BANGLEJS3", "BANGLEJS3_COMPAT"];
const METADATA_TYPES = ["app", "clock", "widget", "bootloader", "RAM", "launch", "scheduler", "notify", "locale", "settings", "textinput", "module", "clkinfo", "defaultconfig"];
const MAX_FILE_NAME_LENGTH = 28;
const isGlob = (name: string) => /[?*]/.test(name);
const globToRegex = (pattern: string) =>
  new RegExp("^" + pattern.replace(/./g, (c) => (c === "?" ? "." : c === "*" ? ".*" : ".*+-?^${}()|[]\\".includes(c) ? "\\" + c : c)) + "$");

const outDir = mkdtempSync(join(tmpdir(), "pstore-bangle-app-"));
const built = buildBoard("BANGLEJS2", { outDir });
const appDir = join(outDir, "BANGLEJS2", APP_FOLDER);

async function app(): Promise<{ metadata: Metadata; file: (name: string) => string }> {
  await built;
  return {
    metadata: JSON.parse(readFileSync(join(appDir, "metadata.json"), "utf8")) as Metadata,
    file: (name) => readFileSync(join(appDir, name), "latin1"),
  };
}

test("the metadata has what sanitycheck asks of every app", async (t) => {
  const { metadata, file } = await app();
  t.is(metadata.id, "pstore");
  for (const key of ["name", "description", "author", "icon", "version"]) t.truthy(metadata[key], key);
  for (const key of Object.keys(metadata)) t.true(APP_KEYS.includes(key), `unknown key ${key}`);
  t.true(METADATA_TYPES.includes(metadata.type));
  t.true(metadata.supports.every((device) => SUPPORTS_DEVICES.includes(device)));
  const tags = metadata.tags.split(",");
  t.true(tags.every((tag) => tag === tag.trim() && tag === tag.toLowerCase()), metadata.tags);
  for (const key of ["icon", "readme", "interface"] as const) t.true(existsSync(join(appDir, metadata[key])), `${key} ${metadata[key]} is in the folder`);
  t.deepEqual([...file(metadata.icon).slice(1, 4)].join(""), "PNG");
});

test("the version is the ChangeLog's last entry, in the form sanitycheck matches", async (t) => {
  const { metadata, file } = await app();
  t.regex(metadata.version, /^\d+\.\d+$/);
  const versions = file("ChangeLog").match(/\d+\.\d+:/g)!;
  t.is(versions[versions.length - 1].slice(0, -1), metadata.version);
  t.is(changeLogVersion("0.01: first\n0.02: second\n"), "0.02");
  t.throws(() => changeLogVersion("first release\n"), { message: /ChangeLog: no entry/ });
});

test("storage files are well-formed, exist, parse as JavaScript and are the gated bundles byte for byte", async (t) => {
  const { metadata, file } = await app();
  const board = join(outDir, "BANGLEJS2");
  const gated: Record<string, string> = {
    "pstore.0.boot.js": readFileSync(join(board, "pstore.boot.js"), "latin1"),
    pstore: readFileSync(join(board, "pstore.js"), "latin1"),
    pstoresvc: readFileSync(join(board, "pstore.svc.js"), "latin1"),
  };
  t.deepEqual(metadata.storage.map((s) => s.name).sort(), Object.keys(gated).sort());
  for (const entry of metadata.storage) {
    for (const key of Object.keys(entry)) t.true(STORAGE_KEYS.includes(key), `${entry.name}: unknown key ${key}`);
    t.false(isGlob(entry.name));
    t.true(entry.name.length <= MAX_FILE_NAME_LENGTH);
    t.notRegex(entry.name, /[,;]/);
    // The App Loader minifies and pretokenises every .js URL not ending in .min.js; these it uploads as they are.
    t.true(entry.url.endsWith(".min.js"), entry.url);
    t.is(file(entry.url), gated[entry.name], `${entry.url} is the gated ${entry.name}`);
    t.notThrows(() => acorn.parse(file(entry.url), { ecmaVersion: 2022 }));
  }
  t.is(new Set(metadata.storage.map((s) => s.name)).size, metadata.storage.length, "no duplicates");
  for (const module of metadata.provides_modules) t.truthy(metadata.storage.find((s) => s.name === module), module);
});

test("the boot file sorts before every unnumbered boot file and ties only with other 0s", async (t) => {
  const { metadata } = await app();
  const boot = metadata.storage.map((s) => s.name).find((name) => name.endsWith(".boot.js"))!;
  // apps/boot/bootupdate.js: numbered files (name.N.boot.js) first, lowest N first, then the rest by name.
  const priority = /.*\.(\d+)\.boot\.js$/.exec(boot);
  t.truthy(priority, boot);
  t.is(Number(priority![1]), 0);
});

test("data entries are well-formed and name no file of the app itself", async (t) => {
  const { metadata } = await app();
  const names = metadata.data.map((d) => d.name ?? d.wildcard!);
  t.is(new Set(names).size, names.length);
  for (const entry of metadata.data) {
    for (const key of Object.keys(entry)) t.true(DATA_KEYS.includes(key), `unknown key ${key}`);
    t.true((entry.name === undefined) !== (entry.wildcard === undefined), "a name or a wildcard");
    if (entry.name !== undefined) {
      t.false(isGlob(entry.name));
      t.true(entry.name.length <= MAX_FILE_NAME_LENGTH);
    } else {
      const plain = entry.wildcard!.replace(/[?*]/g, "");
      t.true(isGlob(entry.wildcard!));
      t.true(plain.length >= 3 && plain.includes(metadata.id), `${entry.wildcard} is narrow and includes the app id`);
    }
    const glob = globToRegex(entry.name ?? entry.wildcard!);
    for (const storage of metadata.storage) t.false(glob.test(storage.name), `${storage.name} matches data entry ${entry.name ?? entry.wildcard}`);
  }
});

test("installed under the metadata's names, every Storage file pstore creates is the app's or in its data", async (t) => {
  const { metadata, file } = await app();
  const dev = new SimDevice({ board: getBoard("BANGLEJS2") });
  for (const entry of metadata.storage) dev.writeFile(entry.name, file(entry.url));
  // What the boot app does with the boot files: it runs them from .boot0.
  dev.writeFile(".boot0", file(metadata.storage.find((s) => s.name.endsWith(".boot.js"))!.url));
  dev.writeFile("pstore.json", JSON.stringify({ consoleFlushSeconds: 600 }));
  const before = new Set<string>(dev.evaluate("require('Storage').list()").value as string[]);
  dev.powerLoss();
  dev.advance(50);
  const run = (code: string) => {
    const result = dev.evaluate(code);
    if (result.error) t.fail(`${code} threw ${String(result.error.thrown)}`);
    return result.value;
  };
  run("require('pstore').pmsg('hello')");
  run("var traced = require('pstore').trace(function twice(x) { return 2 * x; }, 'twice'); traced(2)");
  run("require('pstore').panic('checking the files')");
  run("require('pstore').flush()");
  const records = JSON.parse(run("JSON.stringify(require('pstore').list())") as string) as { type: number }[];
  t.true(records.length >= 3, JSON.stringify(records));
  const globs = metadata.data.map((d) => globToRegex(d.name ?? d.wildcard!));
  const created = (dev.evaluate("require('Storage').list()").value as string[]).filter((name) => !before.has(name) || name === "pstore.json");
  t.true(created.some((name) => name.startsWith("pstore.p")), created.join(", "));
  for (const name of created) t.true(globs.some((glob) => glob.test(name)), `${name} is removed on uninstall`);
});

test("interface.html is one file: the App Loader's interface.js, then the page's own script", async (t) => {
  const { file } = await app();
  const page = file("interface.html");
  const scripts = [...page.matchAll(/<script( src="[^"]*")?>/g)].map((m) => m[1] ?? "inline");
  t.deepEqual(scripts, [' src="../../core/lib/interface.js"', "inline"]);
  t.false(page.includes("/* PAGE SCRIPT */"));
  const inline = page.slice(page.lastIndexOf("<script>") + 8, page.lastIndexOf("</script>"));
  t.notThrows(() => acorn.parse(inline, { ecmaVersion: 2020 }));
  t.true(inline.includes("onInit"));
});
