// The running pstore's read side: records decoded for the application, status, and the raw spans `pstore dump`
// reads. Part of every Runtime on the host; on the device it lives in the service module (firmware/svc.ts).

import { Codec, RecordType, reasonName } from "../pstore/format";
import { bytesToText, decodePayload } from "../pstore/codec";
import type { Runtime } from "./runtime";

/** Gives `target` (Runtime.prototype, or the running Runtime) the read side. */
export function addRuntimeReads(target: Runtime): void {
  target.list = function (this: Runtime) {
    return this.core.list();
  };
  target.read = function (this: Runtime, name) {
    const r = this.core.read(name);
    if (!r) throw new Error("pstore.read: no record " + name);
    const bytes = decodePayload(this.ctx_.codec_, r.meta.codec, r.payload, r.meta.originalLength);
    return r.meta.type === RecordType.Ftrace ? bytes : bytesToText(bytes);
  };
  target.dumpInfo = function (this: Runtime) {
    // The flash backend's region, or the whole Storage area the storage backend's files pstore.p0, pstore.p1, … live in.
    const area = this.settings_.backend === "flash" ? this.board_.region : this.board_.storage;
    return {
      spans: area && this.hal.flash ? [{ addr: area.addr, size: area.size }] : [],
      retained: this.hal.retained ? this.hal.retained.size : 0,
    };
  };
  target.dumpRead = function (this: Runtime, area, offset, length) {
    const span = this.dumpInfo().spans[area];
    if (area === -1 && this.hal.retained) return this.hal.retained.read(offset, length);
    if (!span || !this.hal.flash || offset < 0 || offset + length > span.size) throw new Error("pstore: no dump area " + area + " at " + offset + "+" + length);
    return this.hal.flash.read(span.addr + offset, length);
  };
  target.status = function (this: Runtime) {
    const s: any = this.core.status();
    const b = this.bootInfo;
    if (b) s.reset = { cause: reasonName(b.reason), raw: b.raw, crashes: b.crashes };
    s.maxReason = reasonName(this.settings_.maxReason);
    s.codec = this.ctx_.codec_ ? (this.ctx_.codec_.codec === Codec.Lz4 ? "lz4" : "heatshrink") : "raw";
    s.console = {
      bytes: this.ring_.bytes.length,
      pending: this.ring_.pending(),
      flushSeconds: this.settings_.consoleFlushSeconds,
    };
    s.pmsgPerMinute = this.settings_.pmsgPerMinute;
    if (this.tracer) s.ftrace = { entries: this.tracer.ring.length / 8, calls: this.tracer.calls };
    return s;
  };
}
