import { runCli, SAMPLE_IMAGE } from '../helpers';

test('custos info on a file: type and size, no kernel flag', () => {
  const r = runCli(['info', SAMPLE_IMAGE]);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/type +regular file/);
  expect(r.stdout).toMatch(/size +8388608 bytes/);
  const j = JSON.parse(runCli(['info', '--json', SAMPLE_IMAGE]).stdout);
  expect(j).toMatchObject({ kind: 'file', sizeBytes: 8388608, logicalSectorSize: 512, readOnly: null, mounts: [] });
});

test('custos info on a missing path or a directory: input error', () => {
  expect(runCli(['info', '/no/such/dev']).status).toBe(3);
  const d = runCli(['info', '/tmp']);
  expect(d.status).toBe(3);
  expect(d.stderr).toContain('is a directory');
  const c = runCli(['info', '/dev/null']);
  expect(c.status).toBe(3);
  expect(c.stderr).toContain('not a regular file or block device');
});
