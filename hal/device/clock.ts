// getTime() counts seconds from boot until the clock is set (by the IDE or setTime), then from 1970. Uptime is
// measured from when this hal was created, which the boot code does first thing.

import type { ClockHal } from "../types";

/** getTime() values above this (2001-09-09) mean the wall clock was set. */
const WALL_CLOCK_SET = 1e9;

export function createDeviceClock(): ClockHal {
  const start = getTime();
  return {
    uptimeMs: function () {
      return Math.floor((getTime() - start) * 1000);
    },
    wallSeconds: function () {
      const now = getTime();
      return now > WALL_CLOCK_SET ? Math.floor(now) : 0;
    },
  };
}
