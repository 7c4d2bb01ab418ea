/**
 * Command-line handling shared by the benchmarks: the common flags
 * (--quick, --rounds N, --dir PATH, --no-write) and a `gc()` for clean rounds.
 */
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface CommonArgs {
  quick: boolean;
  /** Rounds per measurement (default 1 with --quick, else 5). */
  rounds: number;
  dir: string;
  write: boolean;
}

/**
 * Parses the common flags; any other flag goes to `extra(flag, value)`, which
 * returns true when it took the flag (`value()` reads the flag's argument).
 */
export function parseCommonArgs(argv: readonly string[], extra: (flag: string, value: () => string) => boolean): CommonArgs {
  const args: CommonArgs = { quick: false, rounds: 0, dir: tmpdir(), write: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') args.quick = true;
    else if (a === '--rounds') args.rounds = Math.max(1, Number.parseInt(value(), 10));
    else if (a === '--dir') args.dir = value();
    else if (a === '--no-write') args.write = false;
    else if (!extra(a, value)) throw new Error(`unknown argument ${a}`);
  }
  if (args.rounds === 0) args.rounds = args.quick ? 1 : 5;
  return args;
}

/** `gc()` without --expose-gc on the command line (npm scripts pass no flags). */
export function getGc(): () => void {
  setFlagsFromString('--expose_gc');
  return runInNewContext('gc') as () => void;
}
