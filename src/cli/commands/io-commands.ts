/** Dot-commands about files and the session: .output .once .read .open .backup .save .restore .quit .exit */
import { existsSync, rmSync } from 'node:fs';
import { FAILED, OK, type CommandHost, type CommandResult, type DotCommand } from './types.js';

async function fail(host: CommandHost, message: string): Promise<CommandResult> {
  await host.error(message);
  return FAILED;
}

function redirect(name: 'output' | 'once', help: string): DotCommand {
  return {
    name,
    usage: `.${name} ?FILE?`,
    help,
    async run(host, args) {
      if (args.length > 1) return fail(host, `ERROR: extra parameter: "${args[1]}".  Usage: .${name} ?FILE?`);
      const file = args[0] ?? '';
      if (file.startsWith('|')) return fail(host, `Error: pipes are not supported by .${name}`);
      try {
        await host.out.redirect(file, name === 'once');
      } catch {
        return fail(host, `Error: cannot open "${file}"`);
      }
      return OK;
    },
  };
}

/** Splits `?DB? FILE` arguments. */
function dbAndFile(args: readonly string[]): { schema: string; file: string } | null {
  const plain = args.filter((a) => !a.startsWith('--'));
  if (plain.length === 1) return { schema: 'main', file: plain[0] };
  if (plain.length === 2) return { schema: plain[0], file: plain[1] };
  return null;
}

const backup: DotCommand = {
  name: 'backup',
  aliases: ['save'],
  usage: '.backup ?DB? FILE',
  help: 'Copy database DB ("main" if omitted) into the file FILE',
  async run(host, args) {
    const target = dbAndFile(args);
    if (target === null) return fail(host, args.length === 0 ? 'missing FILENAME argument on .backup' : 'Usage: .backup ?DB? FILE');
    const progress = host.progress('.backup', 'pages', false);
    try {
      await host.db.call('backup', { file: target.file, schema: target.schema, direction: 'save' }, (done, total) => progress.update(done, total));
    } finally {
      progress.finish();
    }
    return OK;
  },
};

const restore: DotCommand = {
  name: 'restore',
  usage: '.restore ?DB? FILE',
  help: 'Replace the main database with the content of database file FILE',
  async run(host, args) {
    const source = dbAndFile(args);
    if (source === null) return fail(host, 'Usage: .restore ?DB? FILE');
    if (source.schema !== 'main') return fail(host, `Error: .restore can only replace "main", not "${source.schema}"`);
    if (!existsSync(source.file)) return fail(host, `Error: cannot open "${source.file}"`);
    const progress = host.progress('.restore', 'pages', false);
    try {
      await host.db.call('backup', { file: source.file, schema: 'main', direction: 'restore' }, (done, total) => progress.update(done, total));
    } finally {
      progress.finish();
    }
    return OK;
  },
};

const open: DotCommand = {
  name: 'open',
  usage: '.open ?OPTIONS? ?FILE?',
  help: 'Switch to database FILE (in-memory if omitted); --new empties it, --readonly',
  async run(host, args) {
    let readonly = false;
    let fresh = false;
    let file: string | null = null;
    for (const a of args) {
      if (a === '--readonly') readonly = true;
      else if (a === '--new') fresh = true;
      else if (a.startsWith('--')) return fail(host, `unknown option: ${a}`);
      else if (file === null) file = a;
      else return fail(host, `extra argument: "${a}"`);
    }
    const name = file ?? ':memory:';
    if (fresh && file !== null) {
      // The old content goes, as with the sqlite3 shell's --new.
      await host.openDatabase(':memory:', { readonly: false });
      for (const suffix of ['', '-journal', '-wal', '-hlog', '-hist']) rmSync(`${file}${suffix}`, { force: true });
    }
    try {
      await host.openDatabase(name, { readonly });
    } catch (e) {
      // The database open before stays open.
      return fail(host, `Error: unable to open database "${name}": ${e instanceof Error ? e.message : String(e)}`);
    }
    return OK;
  },
};

export const ioCommands: readonly DotCommand[] = [
  redirect('output', 'Send results to FILE from now on (to standard output if omitted)'),
  redirect('once', 'Send the results of the next command only to FILE'),
  {
    name: 'read',
    usage: '.read FILE',
    help: 'Run the SQL and commands in FILE',
    async run(host, args) {
      if (args.length !== 1) return fail(host, 'Usage: .read FILE');
      return host.runFile(args[0]);
    },
  },
  open,
  backup,
  restore,
  {
    name: 'quit',
    usage: '.quit',
    help: 'Leave the shell',
    async run() {
      return { kind: 'quit', status: null };
    },
  },
  {
    name: 'exit',
    usage: '.exit ?CODE?',
    help: 'Leave the shell with exit status CODE',
    async run(_host, args) {
      return { kind: 'quit', status: args.length > 0 ? parseInt(args[0], 10) || 0 : 0 };
    },
  },
];
