/** Child of checkpointer.test.ts: commits rows with the checkpointer running, printing each committed key, until killed. */
import { openStorage } from '../../src/storage/db.ts';

const storage = openStorage({ dataDir: process.argv[2]!, backgroundCheckpoints: { intervalMs: 20 } });
const insert = storage.sqlite!.prepare('insert into settings (key, value) values (?, ?)');
const padding = 'x'.repeat(2000);
for (let i = 1; ; i++) {
  insert.run(`ckpt-${i}`, padding);
  process.stdout.write(`${i}\n`);
  await new Promise((r) => setImmediate(r));
}
