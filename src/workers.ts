import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The script of a worker thread that lives beside `dir`: the compiled .js, or, when running from
 * the TypeScript sources (tests, bin/dev.js), the .ts file through ts-node.
 */
export function workerScript(dir: string, name: string): { file: string; execArgv: string[] } {
  const js = join(dir, `${name}.js`);
  if (existsSync(js)) return { file: js, execArgv: [] };
  return { file: join(dir, `${name}.ts`), execArgv: ['--require', 'ts-node/register/transpile-only'] };
}
