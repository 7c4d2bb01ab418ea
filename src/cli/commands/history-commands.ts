/**
 * Dot-commands for time travel and branches (docs/time-travel.md):
 * .versions, .branches, .branch create|checkout|delete|diff|merge, .retention.
 * They call the connection's methods; a database without the feature answers
 * with the error that says how to turn it on (-timetravel, -branching).
 */
import type { Cell, HistoryMethod } from '../db/protocol.js';
import { rowWriter } from '../format/index.js';
import { FAILED, OK, type CommandHost, type CommandResult, type DotCommand } from './types.js';

/** Calls a connection method; the engine's "connect with { enable_… }" advice becomes the shell's flag. */
async function call(host: CommandHost, method: HistoryMethod, ...args: unknown[]): Promise<unknown> {
  try {
    return await host.db.call('history', { method, args });
  } catch (e) {
    if (e instanceof Error) {
      e.message = e.message
        .replace('connect with { enable_time_travel: true }', 'start heliosdb with -timetravel')
        .replace('connect with { enable_branching: true }', 'start heliosdb with -branching');
    }
    throw e;
  }
}

/** Prints objects as a table of `columns` (headers on, the current mode). */
function table(host: CommandHost, columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): void {
  if (rows.length === 0) return;
  const writer = rowWriter(host.out, [...columns], { ...host.settings, headers: true });
  for (const r of rows) writer.row(columns.map((c) => cell(r[c])));
  writer.end();
}

function cell(v: unknown): Cell {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A version number, or else a timestamp string. */
function target(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

async function usage(host: CommandHost, line: string): Promise<CommandResult> {
  await host.error(`Usage: ${line}`);
  return FAILED;
}

const BRANCH_USAGE = '.branch create NAME ?FROM? | checkout NAME | delete NAME | diff NAME | merge NAME ?INTO? ?abort|ours|theirs?';

export const historyCommands: readonly DotCommand[] = [
  {
    name: 'versions',
    usage: '.versions ?restore VERSION|TIMESTAMP?',
    help: 'Versions kept by time travel (query them with AS OF VERSION n), or restore one as the newest',
    async run(host, args) {
      if (args[0] === 'restore') {
        if (args.length !== 2) return usage(host, '.versions restore VERSION|TIMESTAMP');
        const v = await call(host, 'restore_to', target(args[1]));
        host.out.write(`restored as version ${String(v)}\n`);
        return OK;
      }
      if (args.length > 0) return usage(host, '.versions ?restore VERSION|TIMESTAMP?');
      table(host, ['version', 'timestamp', 'txn_id', 'pages'], (await call(host, 'versions')) as Array<Record<string, unknown>>);
      return OK;
    },
  },
  {
    name: 'retention',
    usage: '.retention SECONDS|none VERSIONS|none',
    help: 'How long time travel keeps history: older than both limits may go',
    async run(host, args) {
      if (args.length !== 2) return usage(host, '.retention SECONDS|none VERSIONS|none');
      const limit = (s: string): number | null => (s === 'none' ? null : Number(s));
      const [seconds, versions] = [limit(args[0]), limit(args[1])];
      if ((seconds !== null && !Number.isFinite(seconds)) || (versions !== null && !Number.isInteger(versions))) {
        return usage(host, '.retention SECONDS|none VERSIONS|none');
      }
      await call(host, 'set_retention', { seconds, versions });
      return OK;
    },
  },
  {
    name: 'branches',
    usage: '.branches',
    help: 'Branches of the database: parent, base version, creation time, the current one',
    async run(host, args) {
      if (args.length > 0) return usage(host, '.branches');
      table(host, ['name', 'parent', 'base', 'created', 'current'], (await call(host, 'list_branches')) as Array<Record<string, unknown>>);
      return OK;
    },
  },
  {
    name: 'branch',
    usage: BRANCH_USAGE,
    help: 'Create, check out, delete, diff or merge a branch',
    async run(host, args) {
      const [verb, name, ...rest] = args;
      if (name === undefined) return usage(host, BRANCH_USAGE);
      switch (verb) {
        case 'create': {
          if (rest.length > 1) return usage(host, '.branch create NAME ?VERSION|TIMESTAMP?');
          await call(host, 'create_branch', name, rest.length === 1 ? { from: target(rest[0]) } : {});
          return OK;
        }
        case 'checkout':
          await call(host, 'checkout_branch', name);
          return OK;
        case 'delete':
          await call(host, 'delete_branch', name);
          return OK;
        case 'diff': {
          const d = (await call(host, 'diff_branch', name)) as { tables: Array<Record<string, unknown>>; schema_changes: Array<Record<string, unknown>> };
          table(host, ['table', 'added', 'changed', 'removed'], d.tables);
          table(host, ['object', 'type', 'change'], d.schema_changes);
          return OK;
        }
        case 'merge': {
          const policy = rest.find((r) => r === 'abort' || r === 'ours' || r === 'theirs');
          const into = rest.find((r) => r !== policy);
          const r = (await call(host, 'merge_branch', name, { ...(into ? { into } : {}), ...(policy ? { on_conflict: policy } : {}) })) as Record<string, unknown>;
          host.out.write(`merged ${String(r.merged)} row changes into ${String(r.into)}, ${String(r.conflicts)} conflicts (${String(r.on_conflict)})\n`);
          return OK;
        }
        default:
          return usage(host, BRANCH_USAGE);
      }
    },
  },
];
