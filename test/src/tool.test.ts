/** The name and version custos records in manifests, ledgers and reports: those of its package.json, from the sources and from the build. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolInfo } from '../../src/tool';
import { ROOT } from '../helpers';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

test('toolInfo is the name and version of package.json, and only those', () => {
  expect(toolInfo()).toEqual({ name: pkg.name, version: pkg.version });
  expect(pkg.name).toBe('custos');
  expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  // Read once: the same object every time.
  expect(toolInfo()).toBe(toolInfo());
});

const built = join(ROOT, 'dist', 'src', 'tool.js');
(existsSync(built) ? test : test.skip)('the built module (dist/src/tool.js, two folders deeper) finds the same package.json', () => {
  const r = spawnSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(built)}).toolInfo()))`], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ name: pkg.name, version: pkg.version });
});
if (!existsSync(built)) test.skip('the build is not there: run npx tsc -p tsconfig.build.json first', () => undefined);

(existsSync(built) ? test : test.skip)('the CLI reports the same version (custos --version prints custos/VERSION)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), '--version'], { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
  expect(r.stdout).toMatch(new RegExp(`^${pkg.name}/${pkg.version.replace(/\./g, '\\.')} `));
});
