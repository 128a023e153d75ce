/**
 * Lint step (part of `npm run lint`): fails when a source file, test, benchmark or script refers to a
 * path outside the repository, so that a clone runs with nothing beside it (no reference corpus beside the checkout, no
 * absolute path of one machine). Two rules, checked on every quoted string of every code file:
 * - a relative path (`./x`, `../x`), resolved against the file's own directory as `import`,
 *   `new URL(x, import.meta.url)` and `readFileSync` callers in this repository use it, must stay inside
 *   the repository root;
 * - an absolute path must not point at a place that exists on one machine only (the workspace
 *   under /work, home directories). System paths such as `/usr/bin/chromium` stay allowed.
 *
 * Usage: node --import tsx scripts/check-paths.ts [root]  (root defaults to this repository; exits 1
 * with one line per finding when anything escapes)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Escape {
  /** Path relative to the repository root. */
  file: string;
  line: number;
  /** The offending string as written. */
  path: string;
  why: string;
}

/** Directories never scanned: installed or generated content, and git's own. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'data', 'dist', '.tmp']);
const CODE_EXT = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.sh']);
/** Files without a code extension that still run: CI entry points and package manifests (npm scripts). */
const isCode = (name: string, dir: string): boolean =>
  CODE_EXT.has(extname(name)) || name === 'package.json' || dir.endsWith(`${sep}.ci`);

/** Quoted strings (', ", `) on one line; a template's text is taken up to its first `${`. */
const STRING = /(['"`])((?:\\.|(?!\1).)*?)\1/g;
/** Shell scripts also name paths unquoted (`cd ../x`, `--dir=/work/x`). */
const SHELL_WORD = /(?:^|[\s=:("])((?:\.\.?|\/work|\/home|\/root)\/[^\s'"`;|&)]*)/g;

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (isCode(name, dir)) out.push(p);
  }
  return out;
}

/** Absolute places that exist on one machine only: the workspace and home directories. */
const MACHINE = ['work', 'home', 'root'].map((d) => `/${d}`); // not written as paths: this file passes itself

const escapes = (root: string, target: string): boolean => {
  const r = relative(root, target);
  return r === '..' || r.startsWith(`..${sep}`);
};

/** Every escape in `text`, a file at `file` inside the repository at `root` (both absolute). */
export function escapesIn(root: string, file: string, text: string): Escape[] {
  const found: Escape[] = [];
  const rel = relative(root, file);
  // A shell script's relative paths resolve against its working directory: the repository root for
  // ours (they `cd` there), or the script's own directory; either escaping is an escape.
  // npm scripts in a package.json are shell commands too (run in the package's directory).
  const shell =
    extname(file) === '.sh' || dirname(file).endsWith(`${sep}.ci`) || basename(file) === 'package.json';
  const bases = shell ? [dirname(file), root] : [dirname(file)];
  text.split('\n').forEach((content, i) => {
    const strings = [...content.matchAll(STRING)].map((m) => m[2]!);
    if (shell) strings.push(...[...content.matchAll(SHELL_WORD)].map((m) => m[1]!));
    for (const written of strings) {
      const raw = written.split('${')[0]!;
      const add = (why: string) => {
        if (!found.some((f) => f.line === i + 1 && f.path === written))
          found.push({ file: rel, line: i + 1, path: written, why });
      };
      if (raw.startsWith('./') || raw.startsWith('../')) {
        const target = bases.map((b) => resolve(b, raw)).find((t) => escapes(root, t));
        if (target) add(`resolves to ${target}, outside the repository`);
      } else {
        const abs = raw.startsWith('file://') ? raw.slice('file://'.length) : raw;
        if (MACHINE.some((m) => abs === m || abs.startsWith(`${m}/`)))
          add('is an absolute path on one machine, outside the repository');
      }
    }
  });
  return found;
}

/** Scans every code file under `root` (an absolute path). */
export function checkPaths(root: string): Escape[] {
  return walk(root, []).flatMap((f) => escapesIn(root, f, readFileSync(f, 'utf8')));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  const found = checkPaths(root);
  for (const e of found) console.error(`${e.file}:${e.line}: '${e.path}' ${e.why}`);
  if (found.length > 0) {
    console.error(`${found.length} path(s) outside the repository: bring the data into the repository`);
    process.exit(1);
  }
}
