import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sqlite3 from 'heliosdb-nano';

test('select through the public package', async () => {
  await using conn = await sqlite3.connect(':memory:');
  const cur = await conn.execute('SELECT ? + 1', [41]);
  assert.deepEqual(await cur.fetchone(), [42]);
});
