// Durable, atomic archive writes: every file goes to a temporary name, is flushed with fsync, renamed over its
// final name, and the folder is fsync'd so the rename itself survives a power cut. Files are 0600, folders 0700.
// A failure removes the temporary file and becomes an ArchiveError that says which path and why.

import * as nodeFs from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { ArchiveError } from "../cli/errors";
import { pathInside } from "./paths";

/** The file-system calls the archive makes; tests pass a wrapper that fails like a full or read-only disk. */
export type ArchiveFs = Pick<
  typeof nodeFs,
  "openSync" | "writeSync" | "fsyncSync" | "fsync" | "closeSync" | "renameSync" | "unlinkSync" | "mkdirSync" | "lstatSync" | "readFileSync" | "readdirSync"
>;

/** A file written to its temporary name, not yet flushed and renamed (a batch, see beginBatch). */
interface PendingFile {
  fd: number;
  temp: string;
  target: string;
  folder: string;
}

const TEMP_MARK = ".tmp-";
/** `.<name>.tmp-<pid>-<8 hex>`: the temporary names writeFile makes. */
const TEMP_NAME = /^\..+\.tmp-([0-9]+)-[0-9a-f]{8}$/;

const WHY: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is not a folder",
  EEXIST: "it already exists and is not what the archive expects",
  EIO: "input/output error",
  ELOOP: "it is a symbolic link, and the archive follows none",
};

export function archiveFailure(action: string, path: string, error: unknown): ArchiveError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = (code && WHY[code]) || (error as Error).message;
  return new ArchiveError(`cannot ${action} ${path}: ${why}${code ? ` (${code})` : ""}`);
}

/** True for names the writer uses while a file is not yet complete (never listed as archive content). */
export function isTemporaryName(name: string): boolean {
  return name.startsWith(".") && name.includes(TEMP_MARK);
}

/** Whether a process with this id runs (EPERM: it does, under another user). */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class DurableWriter {
  private batching = false;
  private pendingFiles: PendingFile[] = [];
  /** Text to append per file, in order, with the folder it is in. */
  private pendingAppends = new Map<string, { folder: string; text: string }>();
  private readonly knownFolders = new Set<string>();
  /** Temporary names count up from a random start: unique in this process without a random draw per file. */
  private tempCounter = randomBytes(4).readUInt32LE(0);

  constructor(private readonly fs: ArchiveFs = nodeFs) {}

  /**
   * From now on writeFile and appendFile only stage their data; commit() makes all of it durable at once: every
   * staged file flushed (concurrently, so the file system commits its journal once for many), renamed, each folder
   * flushed once, then the appends written and flushed. Nothing staged counts as archived before commit() returns.
   */
  beginBatch(): void {
    this.batching = true;
  }

  /** Makes everything staged since beginBatch (or the last commit) durable; the first failure is thrown. */
  async commit(): Promise<void> {
    const files = this.pendingFiles;
    const appends = this.pendingAppends;
    this.pendingFiles = [];
    this.pendingAppends = new Map();
    try {
      await Promise.all(files.map((f) => this.flushFd(f.fd, f.target)));
    } catch (error) {
      for (const f of files) {
        this.closeQuietly(f.fd);
        this.removeQuietly(f.temp);
      }
      throw error;
    }
    const folders = new Set<string>();
    for (const f of files) {
      this.closeQuietly(f.fd);
      try {
        this.fs.renameSync(f.temp, f.target);
      } catch (error) {
        this.removeQuietly(f.temp);
        throw archiveFailure("write", f.target, error);
      }
      folders.add(f.folder);
    }
    for (const folder of folders) this.syncFolder(folder);
    for (const [target, { folder, text }] of appends) this.appendNow(folder, target, text);
  }

  /**
   * Creates `root/parts…` folder by folder (0700), each one checked to be a real folder, never a symlink. A folder
   * this writer made or checked is not checked again: a pull stores thousands of records into one.
   */
  ensureFolder(root: string, ...parts: string[]): string {
    const wanted = parts.length ? pathInside(root, ...parts) : root;
    if (this.knownFolders.has(wanted)) return wanted;
    this.ensureRoot(root);
    let path = root;
    for (let i = 0; i < parts.length; i++) {
      const parent = path;
      path = pathInside(root, ...parts.slice(0, i + 1));
      if (this.isFolder(path)) continue;
      try {
        this.fs.mkdirSync(path, { mode: 0o700 });
      } catch (error) {
        throw archiveFailure("create folder", path, error);
      }
      this.syncFolder(parent);
    }
    this.knownFolders.add(wanted);
    return path;
  }

  /** Writes `data` as `folder/name` atomically and durably (in a batch: staged until commit). */
  writeFile(folder: string, name: string, data: Uint8Array | string): string {
    const target = pathInside(folder, name);
    const temp = join(folder, `.${name}${TEMP_MARK}${process.pid}-${this.nextTempSuffix()}`);
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    // The whole file replaces whatever was to be appended to it before.
    this.pendingAppends.delete(target);
    let fd: number | undefined;
    try {
      const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = nodeFs.constants;
      fd = this.fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      let written = 0;
      while (written < bytes.length) written += this.fs.writeSync(fd, bytes, written, bytes.length - written);
      if (this.batching) {
        this.pendingFiles.push({ fd, temp, target, folder });
        return target;
      }
      this.fs.fsyncSync(fd);
      this.fs.closeSync(fd);
      fd = undefined;
      this.fs.renameSync(temp, target);
    } catch (error) {
      if (fd !== undefined) this.closeQuietly(fd);
      this.removeQuietly(temp);
      throw archiveFailure("write", target, error);
    }
    this.syncFolder(folder);
    return target;
  }

  /** Appends `data` to `folder/name` (created 0600 when missing), flushed before returning (in a batch: at commit). */
  appendFile(folder: string, name: string, data: string): void {
    const target = pathInside(folder, name);
    if (!this.batching) return this.appendNow(folder, target, data);
    const pending = this.pendingAppends.get(target);
    if (pending) pending.text += data;
    else this.pendingAppends.set(target, { folder, text: data });
  }

  private nextTempSuffix(): string {
    this.tempCounter = (this.tempCounter + 1) >>> 0;
    return this.tempCounter.toString(16).padStart(8, "0");
  }

  private flushFd(fd: number, target: string): Promise<void> {
    return new Promise((done, fail) => this.fs.fsync(fd, (error) => (error ? fail(archiveFailure("write", target, error)) : done())));
  }

  private appendNow(folder: string, target: string, data: string): void {
    const { O_WRONLY, O_CREAT, O_APPEND, O_NOFOLLOW } = nodeFs.constants;
    const existed = this.exists(target);
    let fd: number | undefined;
    try {
      fd = this.fs.openSync(target, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o600);
      const bytes = Buffer.from(data, "utf8");
      let written = 0;
      while (written < bytes.length) written += this.fs.writeSync(fd, bytes, written, bytes.length - written);
      this.fs.fsyncSync(fd);
    } catch (error) {
      throw archiveFailure("write", target, error);
    } finally {
      if (fd !== undefined) this.closeQuietly(fd);
    }
    if (!existed) this.syncFolder(folder);
  }

  /** The file's text, never through a symbolic link; undefined when there is no such file. */
  readText(path: string): string | undefined {
    let fd: number | undefined;
    try {
      fd = this.fs.openSync(path, nodeFs.constants.O_RDONLY | nodeFs.constants.O_NOFOLLOW);
      return this.fs.readFileSync(fd, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw archiveFailure("read", path, error);
    } finally {
      if (fd !== undefined) this.closeQuietly(fd);
    }
  }

  /** `root/parts…` when every folder on the way exists and is a real folder; undefined when one is missing. */
  findFolder(root: string, ...parts: string[]): string | undefined {
    let path = root;
    for (let i = 0; i <= parts.length; i++) {
      if (i > 0) path = pathInside(root, ...parts.slice(0, i));
      if (!this.isFolder(path)) return undefined;
    }
    return path;
  }

  /**
   * Removes the temporary files a writer killed mid-write (kill -9, power cut) left in `folder`: only names this
   * writer makes, and only of processes no longer running.
   */
  removeStaleTemporaries(folder: string): void {
    let names: string[];
    try {
      names = this.fs.readdirSync(folder) as string[];
    } catch (error) {
      throw archiveFailure("list", folder, error);
    }
    for (const name of names) {
      const match = TEMP_NAME.exec(name);
      if (!match || isRunning(Number(match[1]))) continue;
      try {
        this.fs.unlinkSync(join(folder, name));
      } catch (error) {
        throw archiveFailure("remove stale temporary file", join(folder, name), error);
      }
    }
  }

  private exists(path: string): boolean {
    try {
      this.fs.lstatSync(path);
      return true;
    } catch {
      return false;
    }
  }

  private ensureRoot(root: string): void {
    if (this.isFolder(root)) return;
    // Missing parents first, one at a time: Node's recursive mkdir spins forever where a parent exists but refuses
    // new folders with ENOENT (as /proc does), and reports a read-only parent as ENOENT.
    const parent = dirname(root);
    if (parent !== root && !this.isFolder(parent)) this.ensureRoot(parent);
    try {
      this.fs.mkdirSync(root, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw archiveFailure("create archive folder", root, error);
      throw new ArchiveError(`cannot create archive folder ${root}: the file system of ${parent} takes no new folders (ENOENT)`);
    }
    this.syncFolder(parent);
  }

  private isFolder(path: string): boolean {
    let stats: nodeFs.Stats;
    try {
      stats = this.fs.lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw archiveFailure("inspect", path, error);
    }
    if (stats.isDirectory()) return true;
    throw new ArchiveError(`cannot use ${path}: it exists and is ${stats.isSymbolicLink() ? "a symbolic link" : "not a folder"}`);
  }

  private syncFolder(path: string): void {
    let fd: number | undefined;
    try {
      fd = this.fs.openSync(path, nodeFs.constants.O_RDONLY | nodeFs.constants.O_DIRECTORY);
      this.fs.fsyncSync(fd);
    } catch (error) {
      throw archiveFailure("flush folder", path, error);
    } finally {
      if (fd !== undefined) this.closeQuietly(fd);
    }
  }

  private closeQuietly(fd: number): void {
    try {
      this.fs.closeSync(fd);
    } catch {
      // Already failing: the first error is the one worth reporting.
    }
  }

  private removeQuietly(path: string): void {
    try {
      this.fs.unlinkSync(path);
    } catch {
      // The temporary file may never have been created.
    }
  }
}
