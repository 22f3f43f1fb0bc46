// The file-system calls the archive makes (ArchiveFs), in memory and confined to one folder: the fuzzer and the
// soak archive thousands of records per second without touching the disk, and any attempt to create, rename or
// remove something outside the folder is recorded as an escape (and refused) instead of happening.

import { constants } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { ArchiveFs } from "../archive/durable";

function fsError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

export class MemoryFs {
  /** Paths outside the root that the archive tried to write, rename or remove. */
  readonly escapes: string[] = [];
  private readonly dirs = new Set<string>();
  private readonly files = new Map<string, Uint8Array>();
  private readonly open = new Map<number, { path: string; chunks: Uint8Array[]; write: boolean }>();
  private nextFd = 100;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    // The folders above the root exist (the archive fsyncs the root's parent after creating it).
    for (let d = dirname(this.root); ; d = dirname(d)) {
      this.dirs.add(d);
      if (d === dirname(d)) break;
    }
  }

  /** Files under the root, path relative to it → bytes. */
  contents(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [path, data] of this.files) out.set(relative(this.root, path), data);
    return out;
  }

  private inside(path: string, what: string): string {
    const full = resolve(path);
    const rel = relative(this.root, full);
    if (rel.startsWith("..") || isAbsolute(rel)) {
      this.escapes.push(`${what} ${full}`);
      throw fsError("EACCES", full);
    }
    return full;
  }

  readonly fs: ArchiveFs = {
    openSync: ((path: string, flags: number) => {
      const full = resolve(String(path));
      if (flags & constants.O_DIRECTORY) {
        if (!this.dirs.has(full)) throw fsError("ENOENT", full);
        const fd = this.nextFd++;
        this.open.set(fd, { path: full, chunks: [], write: false });
        return fd;
      }
      if ((flags & (constants.O_WRONLY | constants.O_RDWR)) === 0) {
        if (!this.files.has(full)) throw fsError("ENOENT", full);
        const fd = this.nextFd++;
        this.open.set(fd, { path: full, chunks: [this.files.get(full)!], write: false });
        return fd;
      }
      this.inside(full, "create");
      if (!this.dirs.has(dirname(full))) throw fsError("ENOENT", full);
      if (this.files.has(full) && flags & constants.O_EXCL) throw fsError("EEXIST", full);
      const fd = this.nextFd++;
      const kept = flags & constants.O_APPEND && this.files.has(full) ? [this.files.get(full)!] : [];
      this.open.set(fd, { path: full, chunks: kept, write: true });
      return fd;
    }) as ArchiveFs["openSync"],
    writeSync: ((fd: number, buffer: Uint8Array, offset?: number, length?: number) => {
      const f = this.open.get(fd);
      if (!f || !f.write) throw fsError("EBADF", String(fd));
      const from = offset ?? 0;
      const n = length ?? buffer.length - from;
      f.chunks.push(buffer.slice(from, from + n));
      return n;
    }) as unknown as ArchiveFs["writeSync"],
    fsyncSync: () => {},
    fsync: ((_fd: number, done: (error: Error | null) => void) => done(null)) as ArchiveFs["fsync"],
    closeSync: (fd: number) => {
      const f = this.open.get(fd);
      if (!f) throw fsError("EBADF", String(fd));
      this.open.delete(fd);
      if (f.write) {
        const total = f.chunks.reduce((n, c) => n + c.length, 0);
        const data = new Uint8Array(total);
        let at = 0;
        for (const c of f.chunks) {
          data.set(c, at);
          at += c.length;
        }
        this.files.set(f.path, data);
      }
    },
    renameSync: (from, to) => {
      const src = resolve(String(from));
      const dst = this.inside(String(to), "rename to");
      const data = this.files.get(src);
      if (!data) throw fsError("ENOENT", src);
      this.files.delete(src);
      this.files.set(dst, data);
    },
    unlinkSync: (path) => {
      const full = this.inside(String(path), "remove");
      if (!this.files.delete(full)) throw fsError("ENOENT", full);
    },
    mkdirSync: ((path: string, options?: { recursive?: boolean }) => {
      const full = this.inside(String(path), "mkdir");
      if (this.dirs.has(full) || this.files.has(full)) {
        if (options?.recursive && this.dirs.has(full)) return undefined;
        throw fsError("EEXIST", full);
      }
      if (!this.dirs.has(dirname(full))) {
        if (!options?.recursive) throw fsError("ENOENT", full);
        this.fs.mkdirSync(dirname(full), { recursive: true });
      }
      this.dirs.add(full);
      return undefined;
    }) as ArchiveFs["mkdirSync"],
    readdirSync: ((path: string) => {
      const full = resolve(String(path));
      if (!this.dirs.has(full)) throw fsError("ENOENT", full);
      const names = new Set<string>();
      for (const p of [...this.dirs, ...this.files.keys()]) if (dirname(p) === full && p !== full) names.add(p.slice(full.length + 1));
      return [...names];
    }) as unknown as ArchiveFs["readdirSync"],
    lstatSync: ((path: string) => {
      const full = resolve(String(path));
      const dir = this.dirs.has(full);
      if (!dir && !this.files.has(full)) throw fsError("ENOENT", full);
      return { isDirectory: () => dir, isSymbolicLink: () => false, isFile: () => !dir };
    }) as unknown as ArchiveFs["lstatSync"],
    readFileSync: ((path: string | number, encoding?: string) => {
      const data = typeof path === "number" ? this.open.get(path)?.chunks[0] : this.files.get(resolve(String(path)));
      if (!data) throw fsError("ENOENT", String(path));
      return encoding ? Buffer.from(data).toString(encoding as BufferEncoding) : Buffer.from(data);
    }) as ArchiveFs["readFileSync"],
  };
}
