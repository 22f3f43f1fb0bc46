// Event listeners of the interpreter's objects (E, process, Serial/USB/Loopback devices), kept on the host so the
// simulator can look them up (uncaughtException, kill, init, errorFlag, data) without reading JS properties.

type Listener = (...args: unknown[]) => unknown;

export class Emitters {
  private readonly table = new WeakMap<object, Map<string, Listener[]>>();

  on(target: object, event: string, listener: Listener): void {
    let events = this.table.get(target);
    if (!events) {
      events = new Map();
      this.table.set(target, events);
    }
    const list = events.get(event) ?? [];
    list.push(listener);
    events.set(event, list);
  }

  listeners(target: object, event: string): Listener[] {
    return (this.table.get(target)?.get(event) ?? []).slice();
  }

  removeListener(target: object, event: string, listener: Listener): void {
    const list = this.table.get(target)?.get(event);
    if (!list) return;
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
  }

  removeAll(target: object, event?: string): void {
    if (event === undefined) this.table.delete(target);
    else this.table.get(target)?.delete(event);
  }
}
