#!/usr/bin/env node
// The `parley` command. Runs the TypeScript sources through tsx so that `npm ci` alone suffices.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
