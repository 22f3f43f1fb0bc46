// The store's read side (list, read, readPart, erase, status): what the host service and the application's
// pstore.list()/read()/erase()/status() use, never the crash path. On the host it is part of every Pstore
// (core.ts adds it to the prototype); on the device the service module (firmware/svc.ts) adds it to the running
// store on first use, so the resident module does not carry it.

import type { Backend, BackendStatus, RecordMeta } from "./backend";
import type { Pstore } from "./core";
import { parseRecordName } from "./format";

/** The backend holding record `name` and its metadata, or undefined. */
function locate(core: Pstore, name: string): { b: Backend; meta: RecordMeta } | undefined {
  const p = parseRecordName(name);
  for (let i = 0; p && i < core.backends_.length; i++) {
    const b = core.backends_[i];
    const metas = b.name === p.backend ? b.list() : [];
    for (let k = 0; k < metas.length; k++) if (metas[k].seq === p.seq && metas[k].type === p.type) return { b: b, meta: metas[k] };
  }
  return undefined;
}

/** Gives `target` (Pstore.prototype, or one running Pstore) the read side. */
export function addStoreReads(target: Pstore): void {
  target.list = function (this: Pstore) {
    let all: RecordMeta[] = [];
    for (let i = 0; i < this.backends_.length; i++) all = all.concat(this.backends_[i].list());
    return all.sort(function (a, b) {
      return a.boot - b.boot || (a.seq - b.seq) | 0;
    });
  };
  target.read = function (this: Pstore, name) {
    const at = locate(this, name);
    const payload = at && at.b.readPayload(at.meta);
    return payload ? { meta: at!.meta, payload: payload } : undefined;
  };
  target.readPart = function (this: Pstore, name, part) {
    const at = locate(this, name);
    return at && at.b.read(at.meta.seq, part);
  };
  target.erase = function (this: Pstore, name) {
    const at = locate(this, name);
    const done = !!at && at.b.erase(at.meta.seq);
    if (done) this.say_("erased " + name);
    return done;
  };
  target.status = function (this: Pstore) {
    const s: BackendStatus[] = [];
    let next = 0;
    for (let i = 0; i < this.backends_.length; i++) {
      s.push(this.backends_[i].status());
      next = next || s[i].nextSeq || 0;
    }
    return { boot: this.boot, nextSeq: next, backends: s.concat(this.failed_), lastResetReason: this.lastResetReason };
  };
}
