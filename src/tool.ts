import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CustosBug } from './errors';

/** Name and version of this tool, as recorded in manifests, ledgers and reports. */
export interface ToolInfo {
  name: string;
  version: string;
}

function findPackageJson(start: string): string {
  // Walks up because the module runs both from src/ (tests, dev) and from dist/src/ (build).
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'custos') return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new CustosBug(`custos package.json not found above ${start}`);
    dir = parent;
  }
}

let cached: ToolInfo | undefined;

/** The running custos's name and version, from its package.json. */
export function toolInfo(): ToolInfo {
  if (!cached) {
    const pkg = JSON.parse(readFileSync(findPackageJson(__dirname), 'utf8')) as { name: string; version: string };
    cached = { name: pkg.name, version: pkg.version };
  }
  return cached;
}
