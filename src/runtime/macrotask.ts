/**
 * Scheduling a macrotask portably. Node has `setImmediate`; browsers and
 * workers do not, and `setTimeout(0)` is clamped to 4 ms after a few nested
 * calls, so there a MessageChannel carries the turn (as the HTML spec's own
 * task queueing does). The lowest layer: everything else may import it.
 */

type Task = () => void;

function channelScheduler(): (fn: Task) => void {
  const queue: Task[] = [];
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    const fn = queue.shift();
    if (fn !== undefined) fn();
  };
  return (fn) => {
    queue.push(fn);
    channel.port2.postMessage(0);
  };
}

const immediate = (globalThis as { setImmediate?: (fn: Task) => unknown }).setImmediate;

/** Runs `fn` in a later turn of the event loop, after pending I/O and timers had their chance. */
export const macrotask: (fn: Task) => void = typeof immediate === 'function' ? (fn) => void immediate(fn) : channelScheduler();

/** Resolves in a later turn of the event loop. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => macrotask(resolve));
}
