// Prints the README's configuration table from the settings the server actually reads;
// with --write, replaces the table between the README's config markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { settings } from '../packages/server/src/config.ts';

const rows = ['| Variable | Default | What it does |', '|---|---|---|'];
for (const s of Object.values(settings)) {
  const r = (s.schema as z.ZodType).safeParse(undefined);
  const def = r.success && r.data !== undefined ? `\`${String(r.data)}\`` : '—';
  rows.push(`| \`${s.env}\` | ${def} | ${s.doc} |`);
}
const table = rows.join('\n');
if (process.argv.includes('--write')) {
  const path = new URL('../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  const next = readme.replace(
    /<!-- config:start -->[\s\S]*<!-- config:end -->/,
    `<!-- config:start -->\n${table}\n<!-- config:end -->`,
  );
  writeFileSync(path, next);
} else {
  console.log(table);
}
