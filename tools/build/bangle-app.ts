// The Bangle.js App Loader app, dist/<BOARD>/app/: copied into BangleApps as apps/pstore it is what the App Loader
// installs. Made from tools/appload/ (metadata.json without the parts below, ChangeLog, README.md, app.png, the page
// interface.html and its script interface.ts) and the board's gated bundles:
// - the version is the ChangeLog's last entry, as BangleApps' sanitycheck reads it;
// - the bundles go under URLs ending in .min.js: the App Loader uploads such files exactly as they are, instead of
//   running its own minifier and pretokeniser over them, so the watch gets the code the build's gate checked;
// - the boot file is numbered 0: the boot app puts numbered boot files first, lowest number first, so pstore
//   starts before any unnumbered one (and is among the first of those numbered 0);
// - `data` lists what pstore creates at run time (settings and the storage backend's pages), so uninstalling
//   through the App Loader removes them;
// - interface.html gets its script bundled in (the page has to be one file the App Loader serves as it is).

import * as esbuild from "esbuild";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PAGE_FILE_PREFIX } from "../../pstore/pages";
import { APP_FOLDER, BANGLE_BOOT_FILE, SETTINGS_FILE } from "./installed-files";

export const APP_SOURCES = "tools/appload";
/** Files copied from tools/appload as they are. */
const STATIC_FILES = ["ChangeLog", "README.md", "app.png"];
const PAGE_SCRIPT_MARK = "/* PAGE SCRIPT */";

export interface AppBundles {
  /** Storage name and text of each bundle: the module, the service module, the boot code. */
  module: { name: string; code: string };
  svc: { name: string; code: string };
  boot: { code: string };
}

/** The version of the ChangeLog's last entry (`0.02: …`), the one BangleApps' sanitycheck compares. */
export function changeLogVersion(changeLog: string): string {
  const versions = changeLog.match(/\d+\.\d+:/g);
  if (!versions) throw new Error(`${APP_SOURCES}/ChangeLog: no entry of the form "0.01: what changed"`);
  return versions[versions.length - 1].slice(0, -1);
}

/** The App Loader's URL of a bundle: ends in .min.js so the App Loader leaves it as built. */
function minUrl(storageName: string): string {
  return `${storageName.replace(/\.js$/, "")}.min.js`;
}

export async function bangleMetadata(root: string, bundles: AppBundles, boardName: string): Promise<Record<string, unknown>> {
  const base = JSON.parse(await readFile(join(root, APP_SOURCES, "metadata.json"), "utf8")) as Record<string, unknown>;
  const version = changeLogVersion(await readFile(join(root, APP_SOURCES, "ChangeLog"), "utf8"));
  return {
    ...base,
    version,
    supports: [boardName],
    storage: [
      { name: BANGLE_BOOT_FILE, url: minUrl(BANGLE_BOOT_FILE) },
      { name: bundles.module.name, url: minUrl(bundles.module.name) },
      { name: bundles.svc.name, url: minUrl(bundles.svc.name) },
    ],
    data: [{ name: SETTINGS_FILE }, { wildcard: `${PAGE_FILE_PREFIX}*` }],
  };
}

/** interface.html with tools/appload/interface.ts and what it imports bundled into its script element. */
export async function interfacePage(root: string): Promise<string> {
  const template = await readFile(join(root, APP_SOURCES, "interface.html"), "utf8");
  if (!template.includes(PAGE_SCRIPT_MARK)) throw new Error(`${APP_SOURCES}/interface.html: no ${PAGE_SCRIPT_MARK} to put the script in`);
  const result = await esbuild.build({
    entryPoints: [join(root, APP_SOURCES, "interface.ts")],
    absWorkingDir: root,
    bundle: true,
    write: false,
    platform: "browser",
    format: "iife",
    target: "es2020",
    minify: true,
    legalComments: "none",
    charset: "ascii",
    logLevel: "silent",
  });
  // Inside an inline script, "</script" would end the element.
  const script = result.outputFiles[0].text.replace(/<\/script/gi, "<\\/script");
  return template.replace(PAGE_SCRIPT_MARK, () => script.trimEnd());
}

/** Writes the app folder for `boardName` into `boardDir` (dist/<BOARD>); returns the paths written. */
export async function writeBangleApp(root: string, boardDir: string, boardName: string, bundles: AppBundles): Promise<string[]> {
  const dir = join(boardDir, APP_FOLDER);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    written.push(join(dir, name));
  };
  const metadata = await bangleMetadata(root, bundles, boardName);
  await put("metadata.json", JSON.stringify(metadata, null, 2) + "\n");
  await put(minUrl(BANGLE_BOOT_FILE), bundles.boot.code);
  await put(minUrl(bundles.module.name), bundles.module.code);
  await put(minUrl(bundles.svc.name), bundles.svc.code);
  await put("interface.html", await interfacePage(root));
  for (const name of STATIC_FILES) {
    await copyFile(join(root, APP_SOURCES, name), join(dir, name));
    written.push(join(dir, name));
  }
  return written;
}
