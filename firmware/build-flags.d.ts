// Constants and the board module that tools/build/build.ts injects into each bundle (esbuild `define` and a
// resolver plugin). Every value is a literal at build time, so `if (PSTORE_FTRACE) …` and codec switches are
// folded and whatever a board does not use is dropped from its bundle, like Kconfig options. Code that host tests
// also run (pstore/) guards a flag with `typeof PSTORE_X === "undefined" || …`: the host has every part.

/** The board the bundle is built for, e.g. "PUCKJS". */
declare const PSTORE_BOARD: string;
/** Whether retained-RAM support is built in (default: the board's `features.retained`). */
declare const PSTORE_RETAINED: boolean;
/** Whether the function-trace frontend is built in (default: the board's `features.ftrace`). */
declare const PSTORE_FTRACE: boolean;
/** The one compressor the bundle carries (default: the board's `codec`). */
declare const PSTORE_CODEC: import("../boards/types").CodecName;
/** The one backend the bundle carries (default: the board's `backend`). */
declare const PSTORE_BACKEND: import("../boards/types").BackendName;

/**
 * Built only into the bench's copy of the bundles (BuildOptions.stages): start() notes process.memory().usage after
 * each of its steps in the global `pstoreStages`, which tells where the variables after boot go.
 */
declare const PSTORE_STAGES: boolean;

/** The part of `boards/<PSTORE_BOARD>.ts` the device reads (boards/device.ts). */
declare module "pstore-board" {
  export const board: import("../boards/device").DeviceBoard;
}

/** The part of it the resident module reads after boot (boards/device.ts residentBoard). */
declare module "pstore-resident-board" {
  export const board: import("../boards/device").ResidentBoard;
}
