/**
 * A one-line progress bar on the terminal (stderr), for long operations:
 * `.import`, `.backup`/`.restore`, `.dump`. Redrawn at most ten times a
 * second and erased when the operation ends; silent when not on a terminal.
 */

export interface Progress {
  /** Whether anything is drawn (callers skip work that only feeds the bar). */
  readonly visible: boolean;
  /** `done` of `total` units (total 0 when unknown). */
  update(done: number, total: number): void;
  /** Erases the bar. */
  finish(): void;
}

const SILENT: Progress = { visible: false, update() {}, finish() {} };
const WIDTH = 30;
const INTERVAL_MS = 100;

export function silentProgress(): Progress {
  return SILENT;
}

/** A bar labelled `label` counting `unit`s, written with `write` (the terminal). */
export function progressBar(label: string, unit: string, write: (s: string) => void): Progress {
  let last = 0;
  let shown = false;
  const draw = (done: number, total: number): void => {
    let bar: string;
    if (total > 0) {
      const frac = Math.min(1, done / total);
      const full = Math.round(frac * WIDTH);
      bar = `[${'#'.repeat(full)}${'.'.repeat(WIDTH - full)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${done}/${total} ${unit}`;
    } else {
      bar = `${done} ${unit}`;
    }
    write(`\r${label} ${bar}\x1b[K`);
    shown = true;
  };
  return {
    visible: true,
    update(done, total) {
      const now = Date.now();
      if (shown && now - last < INTERVAL_MS && done < total) return;
      last = now;
      draw(done, total);
    },
    finish() {
      if (shown) write('\r\x1b[K');
      shown = false;
    },
  };
}
