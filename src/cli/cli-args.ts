/**
 * The command line, read as the sqlite3 shell reads its own: options (one or
 * two leading dashes) may come anywhere; the first other argument is the
 * database, the rest are SQL statements or dot-commands to run in order.
 */
import { MODES, type ModeName } from './settings.js';

/** A display setting from the command line; they apply in the order given. */
export type SettingFlag =
  | { readonly kind: 'mode'; readonly mode: ModeName }
  | { readonly kind: 'headers'; readonly on: boolean }
  | { readonly kind: 'nullvalue'; readonly text: string }
  | { readonly kind: 'separator'; readonly text: string }
  | { readonly kind: 'newline'; readonly text: string };

export interface CliArgs {
  database: string | null;
  /** SQL and dot-commands given after the database. */
  commands: string[];
  /** `-cmd` commands, run before anything else. */
  preCommands: string[];
  /** Display settings, in the order given. */
  settings: SettingFlag[];
  bail: boolean;
  readonly: boolean;
  /** -timetravel / -branching: turn the feature on for the database; -branch NAME: open that branch. */
  timeTravel: boolean;
  branching: boolean;
  branch: string | null;
  echo: boolean;
  /** -interactive / -batch: force the input style. */
  interactive: boolean | null;
  init: string | null;
  help: boolean;
  version: boolean;
}

export const USAGE = `Usage: heliosdb [OPTIONS] [DATABASE] [SQL or .command ...]
Opens DATABASE (a file, created if missing; an in-memory database if omitted), then
runs the SQL and dot-commands given, or reads them from standard input (a script,
or the interactive shell on a terminal).
Output:
  -list -csv -column -box -table -markdown -json -line -quote -tabs -html -ascii
                       the output mode (see .mode)
  -header, -noheader   column names above results, or not
  -separator TEXT      text between columns; -newline TEXT  text after each row
  -nullvalue TEXT      text shown for NULL
Running:
  -cmd COMMAND         run COMMAND first (may be repeated)
  -init FILE           run the commands in FILE first
  -bail                stop at the first error
  -echo                print each command before running it
  -readonly            open the database read-only
  -timetravel          keep history: AS OF queries, .versions (on for the database from then on)
  -branching           allow branches: .branches, .branch (on for the database from then on)
  -branch NAME         open branch NAME instead of main
  -interactive, -batch force or prevent the interactive shell
  -help, -version
`;

/** Options that take a value. */
const WITH_VALUE = new Set(['cmd', 'init', 'nullvalue', 'separator', 'newline', 'branch']);

/** Parses argv (without node and the script); throws an Error with the sqlite3 shell's message for bad options. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const a: CliArgs = {
    database: null,
    commands: [],
    preCommands: [],
    settings: [],
    bail: false,
    readonly: false,
    timeTravel: false,
    branching: false,
    branch: null,
    echo: false,
    interactive: null,
    init: null,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-') {
      if (a.database === null) a.database = arg;
      else a.commands.push(arg);
      continue;
    }
    const name = arg.replace(/^--?/, '');
    let value = '';
    if (WITH_VALUE.has(name)) {
      if (i + 1 >= argv.length) throw new Error(`missing argument to ${arg}`);
      value = argv[++i];
    }
    switch (name) {
      case 'cmd':
        a.preCommands.push(value);
        break;
      case 'init':
        a.init = value;
        break;
      case 'nullvalue':
      case 'separator':
      case 'newline':
        a.settings.push({ kind: name, text: value });
        break;
      case 'header':
      case 'noheader':
        a.settings.push({ kind: 'headers', on: name === 'header' });
        break;
      case 'bail':
        a.bail = true;
        break;
      case 'readonly':
        a.readonly = true;
        break;
      case 'timetravel':
        a.timeTravel = true;
        break;
      case 'branching':
        a.branching = true;
        break;
      case 'branch':
        a.branch = value;
        a.branching = true;
        break;
      case 'echo':
        a.echo = true;
        break;
      case 'interactive':
        a.interactive = true;
        break;
      case 'batch':
        a.interactive = false;
        break;
      case 'help':
        a.help = true;
        break;
      case 'version':
        a.version = true;
        break;
      default:
        if ((MODES as readonly string[]).includes(name)) a.settings.push({ kind: 'mode', mode: name as ModeName });
        else throw new Error(`unknown option: ${arg}`);
    }
  }
  return a;
}
