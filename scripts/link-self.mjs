#!/usr/bin/env node
// Makes the bare import `heliosdb-nano` resolve inside this repository the way it does in a
// user's app: node_modules/heliosdb-nano -> .. (git-ignored with node_modules/). Idempotent;
// replaces a stale link, refuses to touch a real folder of that name.
import { lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const link = join(root, 'node_modules', 'heliosdb-nano');
const target = '..';

export function linkSelf() {
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  let current = null;
  try {
    const info = lstatSync(link);
    if (!info.isSymbolicLink()) throw new Error(`${link} exists and is not a symlink; remove it first`);
    current = readlinkSync(link);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  if (current === target) return;
  if (current !== null) unlinkSync(link);
  symlinkSync(target, link, 'dir');
  console.log(`linked node_modules/heliosdb-nano -> ${target}`);
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) linkSelf();
