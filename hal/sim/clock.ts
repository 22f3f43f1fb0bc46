// A clock the test sets by hand: uptime in ms, wall clock in seconds (0 until set, as on a board without RTC time).

import type { ClockHal } from "../types";

export class SimClock implements ClockHal {
  private uptime = 0;
  private wall = 0;

  uptimeMs(): number {
    return this.uptime;
  }

  wallSeconds(): number {
    return this.wall === 0 ? 0 : Math.floor(this.wall + this.uptime / 1000);
  }

  /** Moves time forward; the wall clock (once set) moves with it. */
  advance(ms: number): void {
    this.uptime += ms;
  }

  setUptime(ms: number): void {
    this.uptime = ms;
  }

  /** Sets the wall clock to `seconds` now; 0 unsets it. */
  setWall(seconds: number): void {
    this.wall = seconds === 0 ? 0 : seconds - this.uptime / 1000;
  }

  /** A new boot: uptime restarts; the wall clock keeps running only if `keepWall` (nRF52 keeps it over soft resets). */
  reboot(keepWall: boolean): void {
    const now = this.wallSeconds();
    this.uptime = 0;
    this.wall = keepWall ? now : 0;
  }
}
