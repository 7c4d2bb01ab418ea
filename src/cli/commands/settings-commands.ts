/** Dot-commands that change how results look: .mode .headers .nullvalue .separator .width .timer .changes .echo .bail .show */
import { MODES, setMode, type ModeName } from '../settings.js';
import { FAILED, OK, type CommandHost, type CommandResult, type DotCommand } from './types.js';

/** The sqlite3 shell's boolean words: on/off, yes/no, true/false, or a number. */
export async function booleanArg(host: CommandHost, word: string): Promise<boolean> {
  const w = word.toLowerCase();
  if (/^-?\d+$/.test(w)) return Number(w) !== 0;
  if (w === 'on' || w === 'yes' || w === 'true') return true;
  if (w === 'off' || w === 'no' || w === 'false') return false;
  await host.error(`ERROR: Not a boolean value: "${word}". Assuming "no".`);
  return false;
}

async function usage(host: CommandHost, text: string): Promise<CommandResult> {
  await host.error(`Usage: ${text}`);
  return FAILED;
}

/** A command that sets one on/off setting. */
function toggle(name: string, help: string, set: (host: CommandHost, on: boolean) => void): DotCommand {
  return {
    name,
    usage: `.${name} on|off`,
    help,
    async run(host, args) {
      if (args.length !== 1) return usage(host, `.${name} on|off`);
      set(host, await booleanArg(host, args[0]));
      return OK;
    },
  };
}

function describeMode(host: CommandHost): string {
  const s = host.settings;
  if (s.mode === 'column' || s.mode === 'box' || s.mode === 'table' || s.mode === 'markdown') {
    return `${s.mode} --wrap ${s.wrap} --wordwrap ${s.wordWrap ? 'on' : 'off'} --${s.quote ? '' : 'no'}quote`;
  }
  return s.mode;
}

/** The text of a separator as `.show` prints it: C escapes, in quotes. */
function cQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\${c.toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export const settingsCommands: readonly DotCommand[] = [
  {
    name: 'mode',
    usage: '.mode MODE ?OPTIONS?',
    help: `Output mode: ${MODES.join(' ')}; see docs/cli.md for the options`,
    async run(host, args) {
      if (args.length === 0) {
        host.out.write(`current output mode: ${describeMode(host)}\n`);
        // As in the sqlite3 shell, the mode is then set again with its default options and separators.
        setMode(host.settings, host.settings.mode);
        return OK;
      }
      const name = args[0].toLowerCase() as ModeName;
      if (!MODES.includes(name)) {
        await host.error(`Error: mode should be one of: ${MODES.join(' ')}`);
        return FAILED;
      }
      let wrap: number | undefined;
      let wordWrap: boolean | undefined;
      let quote: boolean | undefined;
      let table: string | undefined;
      // As in the sqlite3 shell, options that do not apply are ignored.
      for (let i = 1; i < args.length; i++) {
        const a = args[i];
        if (a === '--wrap') {
          if (i + 1 < args.length) wrap = Math.max(0, parseInt(args[++i], 10) || 0);
        } else if (a === '--wordwrap') {
          if (i + 1 < args.length) wordWrap = await booleanArg(host, args[++i]);
        } else if (a === '--ww') wordWrap = true;
        else if (a === '--quote') quote = true;
        else if (a === '--noquote') quote = false;
        else if (name === 'insert' && !a.startsWith('-')) {
          if (table !== undefined) {
            await host.error(`extra argument: "${a}"`);
            return FAILED;
          }
          table = a;
        }
      }
      setMode(host.settings, name, { wrap, wordWrap, quote, table });
      return OK;
    },
  },
  {
    name: 'headers',
    aliases: ['header'],
    usage: '.headers on|off',
    help: 'Show column names above results',
    async run(host, args) {
      if (args.length !== 1) return usage(host, '.headers on|off');
      host.settings.headers = await booleanArg(host, args[0]);
      host.settings.headersSet = true;
      return OK;
    },
  },
  {
    name: 'nullvalue',
    usage: '.nullvalue STRING',
    help: 'Text shown for NULL',
    async run(host, args) {
      if (args.length !== 1) return usage(host, '.nullvalue STRING');
      host.settings.nullValue = args[0];
      return OK;
    },
  },
  {
    name: 'separator',
    usage: '.separator COL ?ROW?',
    help: 'Set the text between columns (and between rows)',
    async run(host, args) {
      if (args.length < 1 || args.length > 2) return usage(host, '.separator COL ?ROW?');
      host.settings.colSeparator = args[0];
      if (args.length === 2) host.settings.rowSeparator = args[1];
      return OK;
    },
  },
  {
    name: 'width',
    usage: '.width NUM1 NUM2 ...',
    help: 'Column widths for the columnar modes (0: automatic, negative: right-aligned)',
    async run(host, args) {
      host.settings.widths = args.map((a) => parseInt(a, 10) || 0);
      return OK;
    },
  },
  {
    name: 'print',
    usage: '.print STRING...',
    help: 'Print the words given',
    async run(host, args) {
      host.out.write(`${args.join(' ')}\n`);
      return OK;
    },
  },
  toggle('timer', 'After each statement, print the time it took', (h, on) => (h.settings.timer = on)),
  toggle('changes', 'After each statement, print how many rows it changed', (h, on) => (h.settings.changes = on)),
  toggle('echo', 'Print each command before running it', (h, on) => (h.settings.echo = on)),
  toggle('bail', 'Stop a script at its first failure', (h, on) => (h.settings.bail = on)),
  {
    name: 'show',
    usage: '.show',
    help: 'The current display settings',
    async run(host, args) {
      if (args.length !== 0) return usage(host, '.show');
      const s = host.settings;
      const rows: Array<[string, string]> = [
        ['echo', s.echo ? 'on' : 'off'],
        ['headers', s.headers ? 'on' : 'off'],
        ['mode', describeMode(host)],
        ['nullvalue', cQuoted(s.nullValue)],
        ['output', host.out.name],
        ['colseparator', cQuoted(s.colSeparator)],
        ['rowseparator', cQuoted(s.rowSeparator)],
        ['timer', s.timer ? 'on' : 'off'],
        ['changes', s.changes ? 'on' : 'off'],
        ['width', s.widths.join(' ')],
        ['filename', host.database.name],
      ];
      for (const [k, v] of rows) host.out.write(`${k.padStart(12)}: ${v}\n`);
      return OK;
    },
  },
];
