// What every frontend shares: the store, the payload codec and the debug voice. One call turns a frontend's
// bytes into a stored record, with the codec rule of codec.ts applied.

import type { Pstore } from "./core";
import type { PayloadCodec } from "./codec";
import { encodePayload } from "./codec";
import { Reason, RecordType, typeName } from "./format";

export interface FrontendContext {
  core_: Pstore;
  /** The bundle's compressor, undefined for raw. */
  codec_: PayloadCodec | undefined;
  /** Crash-path compression budget in ms (codec.ts). */
  crashBudgetMs_: number;
  /** Set when the `debug` option is on: pstore explains what it does on the console. */
  debug_: ((line: string) => void) | undefined;
}

/** Stores `data` as a record; returns its name, or undefined when the store did not keep it (see Pstore.write). */
export function saveRecord(
  ctx: FrontendContext,
  type: RecordType,
  reason: Reason,
  data: Uint8Array,
  crash: boolean,
  flags: number,
): string | undefined {
  const enc = encodePayload(ctx.codec_, data, crash, ctx.crashBudgetMs_);
  const name = ctx.core_.write(type, reason, enc.bytes, { codec: enc.codec, flags: flags, crash: crash, originalLength: data.length });
  if (ctx.debug_) {
    ctx.debug_(
      // The reason by number: its name table is not worth its bytes in the resident module (see Reason in format.ts).
      "pstore: " + typeName(type) + " (reason " + reason + ", " + data.length + " bytes, " + enc.bytes.length + " stored) " +
        (name ? "-> " + name : "not kept"),
    );
  }
  return name;
}
