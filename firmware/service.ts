// The calls the host tool types at the REPL (docs/PROTOCOL.md). Every answer is a run of framed lines that survive
// interleaved timer output, XON/XOFF and garbage; binary travels as base64 in paced chunks so a Puck.js never holds
// more than one chunk of output and the interpreter's idle loop (watchdog, flow control, other timers) runs between them.

import { view } from "../pstore/bytes";
import { getU32 } from "../pstore/format";

/** One letter after the frame's id; the host rejects any other. */
export enum FrameKind {
  /** One record's metadata (JSON); arg = its index in the listing. */
  Meta = "M",
  /** A slice of binary data; arg = its byte offset. */
  Data = "D",
  /** Last frame of a successful answer (JSON result); arg = how many M or D frames came before it. */
  End = "E",
  /** Last frame of a failed answer (JSON string message). */
  Error = "X",
}

export enum ServiceLimit {
  /** Largest chunk of binary data in one D frame, in bytes (4096 base64 characters). */
  MaxChunk = 3072,
  /** Most bytes one get/dump request streams before its E frame. */
  MaxWindow = 65536,
  ProtocolVersion = 1,
}

/**
 * The Storage module holding the service (dist/<BOARD>/pstore.svc.js, firmware/svc.ts): the host's requests are
 * `require("pstoresvc").<fn>(…)`, and the main module loads it for list/read/erase/status.
 */
export const SERVICE_MODULE = "pstoresvc";

/** Opens every frame header: `[PS1 <id> <kind> <arg> <length> <check>]`. */
export const FRAME_TAG = "[PS1 ";

export interface DumpSpan {
  addr: number;
  size: number;
}

export interface DumpInfo {
  spans: DumpSpan[];
  /** Size of the retained RAM area in bytes, 0 when the board has none. */
  retained: number;
}

/** What the service needs from the firmware: the core's calls plus five platform one-liners. */
export interface ServiceTarget {
  /** The core's record listing; each entry is sent as JSON as it is. */
  list(): object[];
  /** Raw bytes of one record part as on flash (header … commit word), or undefined when there is no such part. */
  readPart(name: string, part: number): Uint8Array | undefined;
  erase(name: string): boolean;
  status(): object;
  dumpInfo(): DumpInfo;
  /** Raw bytes of span `area` (index into dumpInfo().spans) or, for area -1, of the retained RAM area. */
  dumpRead(area: number, offset: number, length: number): Uint8Array;
  /** hal.crc32 (E.CRC32). */
  crc32(data: Uint8Array): number;
  /** On Espruino: `function (b) { return btoa(E.toString(b)); }`. */
  base64(data: Uint8Array): string;
  /**
   * The bytes of a string whose characters are all below 256 (JSON.stringify's on Espruino, whose strings are
   * bytes): `E.toUint8Array`, which does natively what a loop over the characters would do at some 50,000
   * instructions each.
   */
  bytes(text: string): Uint8Array;
  /** Prints one line on the console: hal.log (print). */
  print(line: string): void;
  /** Runs `fn` from the idle loop: `function (fn) { setTimeout(fn, 0); }`. */
  defer(fn: () => void): void;
  /**
   * Where the stream in progress is kept when the service itself is loaded for each request and dropped after
   * (on the device): an object that outlives it. Default: the service's own.
   */
  streams?: { job: object | null };
}

/** What a record listing entry must have for the bulk call `a`. */
interface ListedRecord {
  name: string;
  backend: string;
  parts: number;
}

/** The REPL surface. Short names because the host types them; `id` is echoed in every frame of the answer. */
export interface Service {
  /** Hello: E frame with the protocol version. */
  h(id: number): void;
  /** List: one M frame per record, then E with the count. */
  l(id: number): void;
  /** Get a record part from `offset`: D frames of `chunk` bytes until `window` bytes are sent or the part ends, then E [next offset, part size]. */
  g(id: number, name: string, part: number, offset: number, window: number, chunk: number): void;
  /**
   * All records: the raw images of every part of every listed record, concatenated in list order, streamed like g;
   * E [next, size, fingerprint, [[backend, records]…]] (the fingerprint changes when the set of records does).
   */
  a(id: number, offset: number, window: number, chunk: number): void;
  /** Erase by name: E with true/false. */
  e(id: number, name: string): void;
  /** Status: E with the core's status object. */
  s(id: number): void;
  /** Dump info: E with {spans, retained}. */
  i(id: number): void;
  /** Dump an area (span index, or -1 for retained RAM), streamed like g. */
  d(id: number, area: number, offset: number, window: number, chunk: number): void;
}

/**
 * The frame check: CRC-32 over five little-endian u32 (id, kind letter code, arg, payload length, CRC-32 of the
 * decoded payload), so a dropped digit in the header (an offset that shifts data) fails as surely as a bad payload.
 */
export function frameCheck(
  crc32: (data: Uint8Array) => number,
  id: number,
  kind: string,
  arg: number,
  length: number,
  payloadCrc: number,
): number {
  // The five words little-endian, as every Espruino target and the host store them: no loop over the bytes.
  return crc32(new Uint8Array(new Uint32Array([id, kind.charCodeAt(0), arg, length, payloadCrc]).buffer)) >>> 0;
}

function clamp(value: number, low: number, high: number): number {
  value = value | 0;
  return value < low ? low : value > high ? high : value;
}

export function createService(target: ServiceTarget): Service {
  // The stream in progress; a new request replaces it, so a host that gave up on a window is not kept waiting.
  var streams = target.streams || { job: null };

  function send(id: number, kind: FrameKind, arg: number, payload: Uint8Array) {
    var text = target.base64(payload);
    var check = frameCheck(target.crc32, id, kind, arg, text.length, target.crc32(payload) >>> 0);
    target.print(FRAME_TAG + id + " " + kind + " " + arg + " " + text.length + " " + check.toString(16) + "]");
    target.print(text);
  }

  function sendJson(id: number, kind: FrameKind, arg: number, value: unknown) {
    send(id, kind, arg, target.bytes(JSON.stringify(value)));
  }

  function fail(id: number, error: unknown) {
    streams.job = null;
    sendJson(id, FrameKind.Error, 0, String(error));
  }

  function answer(id: number, compute: () => unknown) {
    streams.job = null;
    try {
      sendJson(id, FrameKind.End, 0, compute());
    } catch (e) {
      fail(id, e);
    }
  }

  function pace(id: number, count: number, emit: (index: number) => void, finish: () => void) {
    var token = {};
    var index = 0;
    streams.job = token;
    function step() {
      if (streams.job !== token) return;
      try {
        if (index < count) {
          emit(index++);
          target.defer(step);
        } else {
          streams.job = null;
          finish();
        }
      } catch (e) {
        fail(id, e);
      }
    }
    target.defer(step);
  }

  function stream(
    id: number,
    size: number,
    read: (offset: number, length: number) => Uint8Array,
    offset: number,
    window: number,
    chunk: number,
    summary: unknown[],
  ) {
    if (offset !== (offset | 0) || offset < 0 || offset > size) throw new Error("offset " + offset + " outside 0.." + size);
    var step = clamp(chunk, 1, ServiceLimit.MaxChunk);
    var end = Math.min(size, offset + clamp(window, 1, ServiceLimit.MaxWindow));
    var count = Math.ceil((end - offset) / step);
    pace(
      id,
      count,
      function (index) {
        var at = offset + index * step;
        send(id, FrameKind.Data, at, read(at, Math.min(step, end - at)));
      },
      function () {
        sendJson(id, FrameKind.End, count, ([end, size] as unknown[]).concat(summary));
      },
    );
  }

  function begin(id: number, start: () => void) {
    streams.job = null;
    try {
      start();
    } catch (e) {
      fail(id, e);
    }
  }

  return {
    h: function (id) {
      answer(id, function () {
        return ServiceLimit.ProtocolVersion;
      });
    },
    l: function (id) {
      begin(id, function () {
        var records = target.list();
        pace(
          id,
          records.length,
          function (index) {
            sendJson(id, FrameKind.Meta, index, records[index]);
          },
          function () {
            sendJson(id, FrameKind.End, records.length, records.length);
          },
        );
      });
    },
    g: function (id, name, part, offset, window, chunk) {
      begin(id, function () {
        var bytes = target.readPart(name, part);
        if (!bytes) throw new Error("no part " + part + " of record " + name);
        stream(
          id,
          bytes.length,
          function (at, length) {
            return view(bytes!, at, at + length);
          },
          offset,
          window,
          chunk,
          [],
        );
      });
    },
    a: function (id, offset, window, chunk) {
      begin(id, function () {
        var records = target.list() as ListedRecord[];
        // Where each part's image starts in the stream; images are read again chunk by chunk, never all held.
        var names: string[] = [];
        var parts: number[] = [];
        var starts: number[] = [];
        var backends: [string, number][] = [];
        var size = 0;
        var fingerprint = 0;
        for (var r = 0; r < records.length; r++) {
          var record = records[r];
          var last = backends[backends.length - 1];
          if (last && last[0] === record.backend) last[1]++;
          else backends.push([record.backend, 1]);
          for (var p = 0; p < record.parts; p++) {
            var image = target.readPart(record.name, p);
            if (!image || image.length < 48) throw new Error("no part " + p + " of record " + record.name);
            names.push(record.name);
            parts.push(p);
            starts.push(size);
            size += image.length;
            // The header CRC word (bytes 36..39) stands for type, seq, boot and length.
            fingerprint = (((fingerprint << 5) | (fingerprint >>> 27)) ^ getU32(image, 36)) >>> 0;
          }
        }
        starts.push(size);
        var cached = -1;
        var cachedImage: Uint8Array | undefined;
        stream(
          id,
          size,
          function (at, length) {
            var out = new Uint8Array(length);
            var filled = 0;
            var k = 0;
            while (starts[k + 1] <= at) k++;
            while (filled < length) {
              if (k !== cached) {
                cachedImage = target.readPart(names[k], parts[k]);
                cached = k;
              }
              if (!cachedImage || cachedImage.length !== starts[k + 1] - starts[k]) throw new Error("record " + names[k] + " changed");
              var from = at + filled - starts[k];
              var piece = cachedImage.subarray(from, Math.min(cachedImage.length, from + length - filled));
              out.set(piece, filled);
              filled += piece.length;
              k++;
            }
            return out;
          },
          offset,
          window,
          chunk,
          [fingerprint, backends],
        );
      });
    },
    e: function (id, name) {
      answer(id, function () {
        return target.erase(name);
      });
    },
    s: function (id) {
      answer(id, function () {
        return target.status();
      });
    },
    i: function (id) {
      answer(id, function () {
        return target.dumpInfo();
      });
    },
    d: function (id, area, offset, window, chunk) {
      begin(id, function () {
        var info = target.dumpInfo();
        var span = info.spans[area];
        var size = area === -1 ? info.retained : span ? span.size : -1;
        if (size < 0) throw new Error("no dump area " + area);
        stream(
          id,
          size,
          function (at, length) {
            return target.dumpRead(area, at, length);
          },
          offset,
          window,
          chunk,
          [],
        );
      });
    },
  };
}
