/**
 * Where results go: standard output, or a file named by `.output` / `.once`.
 * Text is collected in memory and written in large chunks; `flush()` waits
 * until the destination has taken it, so a slow pipe slows the query down
 * instead of filling memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Sink } from './format/row-writer.js';
import type { Text } from './format/values.js';

const CHUNK = 64 * 1024;

/** A destination for bytes. */
interface Destination {
  readonly name: string;
  readonly isTerminal: boolean;
  write(bytes: Buffer): Promise<void>;
  close(): void;
}

/** Standard output as a destination; a closed pipe (EPIPE) ends writing silently. */
function stdoutDestination(): Destination {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // The reader went away (`heliosdb … | head`): stop, as the sqlite3 shell does on SIGPIPE.
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  return {
    name: 'stdout',
    isTerminal: process.stdout.isTTY === true,
    write(bytes) {
      return new Promise<void>((resolve) => {
        if (process.stdout.write(bytes)) resolve();
        else process.stdout.once('drain', () => resolve());
      });
    },
    close() {},
  };
}

function fileDestination(path: string): Destination {
  const fd = openSync(path, 'w');
  return {
    name: path,
    isTerminal: false,
    write(bytes) {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off);
      return Promise.resolve();
    },
    close() {
      closeSync(fd);
    },
  };
}

export class Output implements Sink {
  private pieces: Buffer[] = [];
  private size = 0;
  private readonly stdout = stdoutDestination();
  private current: Destination = this.stdout;
  /** `.once`: 'set' by the command itself, 'active' during the next one, then back to standard output. */
  private once: 'none' | 'set' | 'active' = 'none';

  /** The current destination's name ('stdout' or a file path). */
  get name(): string {
    return this.current.name;
  }

  /** Whether results go to a terminal. */
  get isTerminal(): boolean {
    return this.current.isTerminal;
  }

  write(text: Text): void {
    const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    this.pieces.push(b);
    this.size += b.length;
  }

  /** Whether enough is buffered that the caller should `flush()` before producing more. */
  get full(): boolean {
    return this.size >= CHUNK;
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const all = Buffer.concat(this.pieces, this.size);
    this.pieces = [];
    this.size = 0;
    await this.current.write(all);
  }

  /** Writes to standard output even while results go to a file (`.timer` lines, as in the sqlite3 shell). */
  async writeStdout(text: string): Promise<void> {
    if (this.current === this.stdout) {
      this.write(text);
      return;
    }
    await this.stdout.write(Buffer.from(text, 'utf8'));
  }

  /** Sends results to `path` ('' or 'stdout' for standard output) from now on, or for one command only. */
  async redirect(path: string, onlyNext: boolean): Promise<void> {
    await this.flush();
    const next = path === '' || path === 'stdout' ? this.stdout : fileDestination(path);
    this.restoreQuietly();
    this.current = next;
    this.once = onlyNext && next !== this.stdout ? 'set' : 'none';
  }

  /** After each command: ends a `.once` redirection. */
  async commandDone(): Promise<void> {
    await this.flush();
    if (this.once === 'set') {
      this.once = 'active';
    } else if (this.once === 'active') {
      this.restoreQuietly();
      this.once = 'none';
    }
  }

  private restoreQuietly(): void {
    if (this.current !== this.stdout) this.current.close();
    this.current = this.stdout;
  }

  async close(): Promise<void> {
    await this.flush();
    this.restoreQuietly();
  }
}
