// pmsg frontend: messages the application stores on purpose. pmsg() returns only once the record is committed
// and throws when it cannot keep the message (too large, too frequent, zone full): never a silent drop.
// The rate limit (`perMinute` messages in any 60 s) protects the flash from a loop that logs too eagerly.

import { Reason, RecordType } from "./format";
import { textToBytes } from "./codec";
import { FrontendContext, saveRecord } from "./frontend";

export class Pmsg {
  /** Uptimes (ms) of the last `perMinute` messages, oldest at `next`. */
  private times_: number[] = [];
  private next_ = 0;

  constructor(
    private ctx_: FrontendContext,
    private perMinute_: number,
    private now_: () => number,
  ) {}

  write(message: string | Uint8Array): string {
    const data = typeof message === "string" ? textToBytes(message) : message;
    if (!(data instanceof Uint8Array)) throw new Error("pstore.pmsg: message must be a string or a Uint8Array");
    const t = this.now_();
    if (this.times_.length >= this.perMinute_) {
      const wait = this.times_[this.next_] + 60000 - t;
      if (wait > 0) {
        throw new Error("pstore.pmsg: rate limit of " + this.perMinute_ + " messages per minute reached, next in " + Math.ceil(wait / 1000) + " s");
      }
    }
    let name: string | undefined;
    try {
      name = saveRecord(this.ctx_, RecordType.Pmsg, Reason.User, data, false, 0);
    } catch (e: any) {
      throw new Error("pstore.pmsg: message of " + data.length + " bytes not stored: " + (e && e.message ? e.message : e));
    }
    if (!name) throw new Error("pstore.pmsg: message of " + data.length + " bytes not stored: no pmsg zone, or the zone is full");
    if (this.times_.length < this.perMinute_) this.times_.push(t);
    else {
      this.times_[this.next_] = t;
      this.next_ = (this.next_ + 1) % this.perMinute_;
    }
    return name;
  }
}
