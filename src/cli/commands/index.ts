/**
 * The dot-command table. A command is found by its name, an alias, or a
 * prefix of its name (the first in name order wins, so `.h` is `.headers`
 * as in the sqlite3 shell). To add a command, add it to `COMMANDS` (a
 * feature's commands live in a file of their own, like `product-commands.ts`).
 */
import { dumpCommand } from './dump.js';
import { importCommand } from './import.js';
import { ioCommands } from './io-commands.js';
import { historyCommands } from './history-commands.js';
import { productCommands } from './product-commands.js';
import { schemaCommands } from './schema-commands.js';
import { settingsCommands } from './settings-commands.js';
import { OK, type DotCommand } from './types.js';

export { parseDotArgs } from './args.js';

const help: DotCommand = {
  name: 'help',
  usage: '.help ?PATTERN?',
  help: 'This list, or the commands starting with PATTERN',
  async run(host, args) {
    const pattern = args[0]?.replace(/^\./, '').toLowerCase();
    for (const c of COMMANDS) {
      if (pattern !== undefined && !c.name.startsWith(pattern) && !(c.aliases ?? []).some((a) => a.startsWith(pattern))) continue;
      const usage = c.usage.length < 24 ? c.usage.padEnd(24) : `${c.usage} `;
      host.out.write(`${usage} ${c.help}\n`);
    }
    return OK;
  },
};

/** Every dot-command, in name order: the order `.help` lists them and prefixes resolve in. */
export const COMMANDS: readonly DotCommand[] = [
  ...ioCommands,
  ...settingsCommands,
  ...schemaCommands,
  dumpCommand,
  importCommand,
  help,
  ...productCommands,
  ...historyCommands,
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** The command a typed name means: exact name or alias first, then the first whose name starts with it. */
export function findCommand(typed: string): DotCommand | null {
  const name = typed.toLowerCase();
  const exact = COMMANDS.find((c) => c.name === name || (c.aliases ?? []).includes(name));
  if (exact !== undefined) return exact;
  return COMMANDS.find((c) => c.name.startsWith(name)) ?? null;
}
