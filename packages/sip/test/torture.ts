/** Loads the RFC 4475 torture messages and their manifest (used by several tests and benchmarks). */
import { readFileSync } from 'node:fs';

/** The corpus lives in the repository (public test data), so a clone tests with nothing beside it. */
export const TORTURE_DIR = new URL('./fixtures/rfc4475/', import.meta.url);

export interface TortureCase {
  file: string;
  section: string;
  title: string;
  expected: 'valid' | 'invalid' | 'semantic';
  bytes: Buffer;
}

export function loadTorture(): TortureCase[] {
  const tsv = readFileSync(new URL('manifest.tsv', TORTURE_DIR), 'utf8');
  return tsv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [file, section, title, expected] = line.split('\t');
      return {
        file: file!,
        section: section!,
        title: title!,
        expected: expected as TortureCase['expected'],
        bytes: readFileSync(new URL(file!, TORTURE_DIR)),
      };
    });
}
