// setTimeout/setInterval on a virtual clock: nothing runs until the owner moves time on, and timers fire in due
// order (ties in creation order), so a test replays identically every time.

export interface Timer {
  id: number;
  /** Virtual ms at which it fires next. */
  due: number;
  /** Repeat period for setInterval, undefined for setTimeout. */
  interval?: number;
  callback: () => void;
}

export class TimerQueue {
  private timers: Timer[] = [];
  private lastId = 0;

  add(now: number, delayMs: number, callback: () => void, repeat: boolean): number {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const timer: Timer = { id: ++this.lastId, due: now + delay, callback };
    if (repeat) timer.interval = Math.max(delay, 1);
    this.timers.push(timer);
    return timer.id;
  }

  /** False when no such timer exists (Espruino then throws "Unknown Timeout"). */
  remove(id: number): boolean {
    const index = this.timers.findIndex((t) => t.id === id);
    if (index < 0) return false;
    this.timers.splice(index, 1);
    return true;
  }

  clearAll(): void {
    this.timers = [];
  }

  /** changeInterval(): the new period applies from now. */
  change(id: number, now: number, periodMs: number): boolean {
    const timer = this.timers.find((t) => t.id === id);
    if (!timer) return false;
    const period = Math.max(periodMs, 1);
    if (timer.interval !== undefined) timer.interval = period;
    timer.due = now + period;
    return true;
  }

  /** Earliest due time, or undefined when there are no timers. */
  nextDue(): number | undefined {
    let best: number | undefined;
    for (const t of this.timers) if (best === undefined || t.due < best) best = t.due;
    return best;
  }

  /** Takes the earliest timer due at or before `now` (an interval is re-armed, a timeout removed). */
  takeDue(now: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) if (t.due <= now && (!best || t.due < best.due)) best = t;
    if (!best) return undefined;
    if (best.interval !== undefined) {
      const fired = { ...best };
      best.due += best.interval;
      return fired;
    }
    this.remove(best.id);
    return best;
  }
}
