// The app's page in the Bangle.js App Loader (interface.html): pulls every record over the App Loader's connection
// with the same client, checks and decoder as `pstore pull`, lists them, shows each one (text, decoded traces) and
// the story of the last reboot, downloads them as files, and erases on the watch only what was downloaded and
// verified (a record whose check failed stays, as with `pstore pull`). Bundled into interface.html by the build.

import { collectRecords, type CollectedRecord, type CollectResult } from "../archive/collect";
import { latin1Text } from "../bytes";
import { printable, shortDeviceId, storyOf } from "../cli/story";
import { formatBytes, formatWhen } from "../cli/table";
import { DeviceClient } from "../protocol/client";
import { deviceIdentity, deviceSource, type DeviceIdentity } from "../protocol/source";
import { AppLoaderPort, type AppLoaderPuck } from "./apploader-port";
import { PageArchive, type PageFile } from "./page-archive";

/** What the page uses of lib/interface.js's `Util`. */
interface AppLoaderUtil {
  saveFile(filename: string, mimeType: string, dataAsString: string): void;
  showModal(title: string): void;
  hideModal(): void;
}

declare const Puck: AppLoaderPuck;
declare const Util: AppLoaderUtil;

/** A Bluetooth link is slow and the watch may be busy drawing: more patience than the command's 5 s. */
const RESPONSE_TIMEOUT_MS = 15000;
/** Between two downloads handed to the browser (see save). */
const DOWNLOAD_GAP_MS = 250;

interface Row {
  record: CollectedRecord;
  downloaded: boolean;
  erased: boolean;
  element: HTMLTableRowElement;
}

class Page {
  private readonly client = new DeviceClient(new AppLoaderPort(Puck), { responseTimeoutMs: RESPONSE_TIMEOUT_MS });
  private connected = false;
  private identity: DeviceIdentity = { deviceId: "" };
  private archive = new PageArchive();
  private rows: Row[] = [];

  constructor(private readonly doc: Document) {
    this.button("read").addEventListener("click", () => void this.guarded(() => this.read()));
    this.button("take-all").addEventListener("click", () => void this.guarded(() => this.takeAll()));
  }

  /** Reads the records, or says on the page why it could not. */
  start(): Promise<void> {
    return this.guarded(() => this.read());
  }

  private async read(): Promise<void> {
    Util.showModal("Connecting to pstore…");
    if (!this.connected) {
      await this.client.connect();
      this.connected = true;
    }
    this.identity = deviceIdentity(await this.client.status(), undefined);
    this.archive = new PageArchive();
    const result = await collectRecords(deviceSource(this.client, this.identity), this.archive, {
      erase: false,
      onProgress: (name, done, total) => Util.showModal(`Reading ${name}: ${formatBytes(done)} of ${formatBytes(total)}`),
    });
    this.render(result);
    Util.hideModal();
  }

  /** Downloads every verified record with its boot's dmesg.txt and records.jsonl, then erases those records. */
  private async takeAll(): Promise<void> {
    const rows = this.rows.filter((row) => !row.erased && erasable(row.record));
    for (const row of rows) await this.download(row);
    const folders = new Set(rows.map((row) => row.record.folder));
    for (const key of folders) await this.save(key, this.archive.bootFiles(key));
    for (const row of rows) await this.erase(row);
    this.say(`${rows.length} record${rows.length === 1 ? "" : "s"} downloaded and erased`);
  }

  private render(result: CollectResult): void {
    const count = result.records.length;
    this.text("summary", `${count} record${count === 1 ? "" : "s"} on ${shortDeviceId(this.identity.deviceId)}: ${storyOf(result)}`);
    const problems = [...result.refused.map((p) => `not read: ${printable(p, 200)}`), ...result.gone.map((name) => `${name} was overwritten before it could be read`)];
    this.text("problems", problems.join("\n"));
    const story = this.element("story");
    story.replaceChildren();
    this.archive.boots().forEach((folder, i) => {
      const details = this.doc.createElement("details");
      details.open = i === 0;
      details.className = "boot";
      details.dataset.boot = String(folder.boot);
      const summary = this.doc.createElement("summary");
      summary.textContent = `boot ${folder.boot}${i === 0 ? " (the latest)" : ""}: dmesg.txt`;
      const pre = this.doc.createElement("pre");
      pre.textContent = new TextDecoder().decode(this.archive.bootFiles(folder.key)[0].data);
      details.append(summary, pre);
      story.append(details);
    });
    const body = this.element("records").querySelector("tbody")!;
    body.replaceChildren();
    this.rows = result.records.map((record) => {
      const element = this.doc.createElement("tr");
      element.dataset.name = record.entry.name;
      element.dataset.files = record.entry.files.join(" ");
      const row: Row = { record, downloaded: false, erased: false, element };
      const e = record.entry;
      for (const cell of [e.name, e.type, e.reason, formatWhen(e.time, e.uptimeMs), formatBytes(e.originalBytes), e.outcome]) {
        const td = this.doc.createElement("td");
        td.textContent = cell;
        element.append(td);
      }
      const actions = this.doc.createElement("td");
      actions.append(
        this.action("show", "Show", () => this.show(row)),
        this.action("download", "Download", () => void this.guarded(() => this.download(row))),
        this.action("erase", "Erase", () => void this.guarded(() => this.erase(row))),
      );
      element.append(actions);
      body.append(element);
      this.update(row);
      return row;
    });
    this.say(count ? "Download a record before erasing it." : "Nothing stored.");
  }

  private show(row: Row): void {
    const e = row.record.entry;
    const heading = `${e.name}: ${e.type}, reason ${e.reason}, ${formatWhen(e.time, e.uptimeMs)}${e.flags.length ? ", " + e.flags.join(" ") : ""}`;
    const body =
      row.record.text ??
      (e.outcome === "dropped" ? "(not kept: the zone was full, only a drop marker was stored)" : `(${e.outcome}: ${e.problem ?? "no detail"}; ${e.files.join(", ")})`);
    this.text("shown", `${heading}\n\n${body}`);
  }

  private async download(row: Row): Promise<void> {
    await this.save(row.record.folder, this.archive.recordFiles(row.record.folder, row.record.entry.files));
    row.downloaded = true;
    this.update(row);
  }

  /** Erases a downloaded, verified record on the watch. */
  private async erase(row: Row): Promise<void> {
    if (!row.downloaded || !erasable(row.record)) return;
    if (this.identity.eraseRefusal) {
      this.say(`Not erased: ${this.identity.eraseRefusal}`);
      return;
    }
    Util.showModal(`Erasing ${row.record.entry.name}…`);
    await this.client.erase(row.record.entry.name);
    row.erased = true;
    this.update(row);
    Util.hideModal();
  }

  /**
   * Hands files to the browser one at a time: Chromium drops downloads started in a burst (past ten in one go,
   * silently), and a record must not be erased unless its files were really saved.
   */
  private async save(folderKey: string, files: PageFile[]): Promise<void> {
    for (const file of files) {
      const text = !/\.(corrupt|undecoded|enc\.\w+)$/.test(file.name);
      Util.saveFile(`${folderKey}_${file.name}${text && !file.name.includes(".") ? ".txt" : ""}`, text ? "text/plain" : "application/octet-stream", latin1Text(file.data));
      await new Promise((done) => setTimeout(done, DOWNLOAD_GAP_MS));
    }
  }


  private update(row: Row): void {
    const button = (name: string) => row.element.querySelector<HTMLButtonElement>(`button[data-action=${name}]`)!;
    button("erase").disabled = row.erased || !row.downloaded || !erasable(row.record);
    button("erase").title = erasable(row.record) ? "Erase on the watch (after downloading)" : "It did not verify: it stays on the watch for another try";
    row.element.dataset.state = row.erased ? "erased" : row.downloaded ? "downloaded" : "on-watch";
    row.element.classList.toggle("erased", row.erased);
  }

  private async guarded(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      Util.hideModal();
      this.say(`Error: ${(error as Error).message}`);
    }
  }

  private action(name: string, label: string, onClick: () => void): HTMLButtonElement {
    const button = this.doc.createElement("button");
    button.className = "btn btn-sm";
    button.dataset.action = name;
    button.textContent = label;
    button.addEventListener("click", onClick);
    return button;
  }

  private say(message: string): void {
    this.text("status", message);
  }

  private text(id: string, text: string): void {
    this.element(id).textContent = text;
  }

  private button(id: string): HTMLButtonElement {
    return this.element(id) as HTMLButtonElement;
  }

  private element(id: string): HTMLElement {
    const element = this.doc.getElementById(id);
    if (!element) throw new Error(`interface.html has no #${id}`);
    return element;
  }
}

/** As `pstore pull`: a record whose check failed is kept on the watch, since another transfer may bring it intact. */
function erasable(record: CollectedRecord): boolean {
  return record.entry.outcome !== "corrupt";
}

// lib/interface.js calls onInit once the App Loader has connected the page to the watch.
(globalThis as { onInit?: () => void }).onInit = () => void new Page(document).start();
