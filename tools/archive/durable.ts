// Durable, atomic archive writes: every file goes to a temporary name, is flushed with fsync, renamed over its
// final name, and the folder is fsync'd so the rename itself survives a power cut. Files are 0600, folders 0700.
// A failure removes the temporary file and becomes an ArchiveError that says which path and why.

import * as nodeFs from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { ArchiveError } from "../cli/errors";
import { pathInside } from "./safe-names";

/** The file-system calls the archive makes; tests pass a wrapper that fails like a full or read-only disk. */
export type ArchiveFs = Pick<
  typeof nodeFs,
  "openSync" | "writeSync" | "fsyncSync" | "closeSync" | "renameSync" | "unlinkSync" | "mkdirSync" | "lstatSync" | "readFileSync"
>;

const TEMP_MARK = ".tmp-";

const WHY: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is not a folder",
  EEXIST: "it already exists and is not what the archive expects",
  EIO: "input/output error",
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

export class DurableWriter {
  constructor(private readonly fs: ArchiveFs = nodeFs) {}

  /** Creates `root/parts…` folder by folder (0700), each one checked to be a real folder, never a symlink. */
  ensureFolder(root: string, ...parts: string[]): string {
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
    return path;
  }

  /** Writes `data` as `folder/name` atomically and durably. */
  writeFile(folder: string, name: string, data: Uint8Array | string): string {
    const target = pathInside(folder, name);
    const temp = join(folder, `.${name}${TEMP_MARK}${process.pid}-${randomBytes(4).toString("hex")}`);
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let fd: number | undefined;
    try {
      const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = nodeFs.constants;
      fd = this.fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      let written = 0;
      while (written < bytes.length) written += this.fs.writeSync(fd, bytes, written, bytes.length - written);
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

  readText(path: string): string | undefined {
    try {
      return this.fs.readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw archiveFailure("read", path, error);
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
