/**
 * Runs one acquisition and kills its own process with SIGKILL as it enters a closing phase, the
 * way a power cut or `kill -9` would: usage: kill-at-phase.ts SOURCE OUT NAME FORMAT PHASE.
 */
import { acquire } from '../../../src/acquire/acquire';

const [source, outDir, name, format, phase] = process.argv.slice(2) as [string, string, string, 'raw' | 'split' | 'e01', string];
acquire({
  source,
  outDir,
  name,
  format,
  splitSize: 4 * 1024 * 1024,
  algorithms: ['md5', 'sha1', 'sha256'],
  retries: 0,
  onPhase: (p) => {
    if (p === phase) process.kill(process.pid, 'SIGKILL');
  },
}).then(
  () => process.exit(3),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(2);
  },
);
