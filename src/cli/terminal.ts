/**
 * The interactive shell on a terminal: a line editor with history and tab
 * completion, `heliosdb> ` and `     ...> ` prompts, Ctrl-C that stops the
 * running statement (or discards the one being typed), Ctrl-D to leave.
 *
 * While a statement runs, the terminal is back in its normal mode, so Ctrl-C
 * reaches the process as SIGINT; the shell then sets the interrupt flag that
 * the database thread's progress handler reads, and the statement stops with
 * "interrupted" while the shell carries on.
 */
import { createInterface, type Interface } from 'node:readline';
import type { CommandResult } from './commands/types.js';
import { Completer } from './completion.js';
import { History, HISTORY_SIZE, historyPath } from './history.js';
import { InputAssembler } from './input.js';
import type { Shell } from './shell.js';

export const PROMPT = 'heliosdb> ';
export const CONTINUATION = '     ...> ';

/** Lines from readline, queued while a command runs. */
class LineQueue {
  private readonly lines: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private closed = false;

  push(line: string): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(line);
    } else this.lines.push(line);
  }

  close(): void {
    this.closed = true;
    this.waiting?.(null);
    this.waiting = null;
  }

  /** Whether a line is waiting (typed ahead or pasted). */
  get ready(): boolean {
    return this.lines.length > 0;
  }

  next(): Promise<string | null> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Forgets lines typed ahead (after Ctrl-C). */
  clear(): void {
    this.lines.length = 0;
  }
}

function setRaw(on: boolean): void {
  if (process.stdin.isTTY) process.stdin.setRawMode(on);
}

/** Runs the interactive shell until Ctrl-D, `.quit` or `.exit`. */
export async function runInteractive(shell: Shell, banner: string): Promise<CommandResult> {
  const history = new History(historyPath());
  const completer = new Completer(shell);
  const rl: Interface = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    history: history.load(),
    historySize: HISTORY_SIZE,
    completer: (line: string, callback: (err: Error | null, result: [string[], string]) => void) => {
      completer.complete(line).then(
        (r) => callback(null, r),
        () => callback(null, [[], line]),
      );
    },
  });
  const queue = new LineQueue();
  const assembler = new InputAssembler();
  rl.on('line', (line) => {
    history.add(line);
    queue.push(line);
  });
  rl.on('close', () => queue.close());
  rl.on('SIGINT', () => {
    // Ctrl-C at the prompt: drop what was being typed.
    assembler.clear();
    queue.clear();
    rl.write(null, { ctrl: true, name: 'e' });
    process.stdout.write('^C\n');
    rl.write(null, { ctrl: true, name: 'u' });
    rl.setPrompt(PROMPT);
    rl.prompt();
  });

  process.stdout.write(banner);
  shell.inputKind = 'interactive';
  let lineNo = 0;
  let result: CommandResult = { kind: 'ok' };
  const onSigint = (): void => shell.db.interrupt();
  for (;;) {
    rl.setPrompt(assembler.pending ? CONTINUATION : PROMPT);
    // Lines typed ahead or pasted are already on the screen: no prompt in front of their output.
    if (!queue.ready) rl.prompt();
    const line = await queue.next();
    if (line === null) {
      process.stdout.write('\n');
      break;
    }
    const item = assembler.push(line, ++lineNo);
    if (item === null) continue;
    rl.pause();
    setRaw(false);
    process.on('SIGINT', onSigint);
    let r: CommandResult;
    try {
      r = await shell.runItem(item);
    } finally {
      process.off('SIGINT', onSigint);
      setRaw(true);
      rl.resume();
    }
    if (shell.db.interrupted) queue.clear();
    if (r.kind === 'quit') {
      result = r;
      break;
    }
  }
  const last = assembler.finish();
  if (last !== null && result.kind !== 'quit') await shell.runItem(last);
  rl.close();
  return result;
}
