/** What an evidence path is: classify for every kind of file the kernel has, and checkReadable's errors. */
import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkReadable, classify } from '../../../src/source/file';
import { makeTempDir } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
let server: Server;
const sock = () => join(tmp.dir, 'evidence.sock');
beforeAll(async () => {
  tmp = makeTempDir();
  writeFileSync(join(tmp.dir, 'disk.img'), Buffer.alloc(4096));
  mkdirSync(join(tmp.dir, 'folder'));
  spawnSync('mkfifo', [join(tmp.dir, 'pipe')]);
  symlinkSync(join(tmp.dir, 'disk.img'), join(tmp.dir, 'link.img'));
  symlinkSync(join(tmp.dir, 'nowhere'), join(tmp.dir, 'dangling.img'));
  server = createServer();
  await new Promise<void>((r) => server.listen(sock(), r));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  tmp.cleanup();
});

/** A block device node of this machine (loop devices exist wherever losetup works), if any. */
function someBlockDevice(): string | undefined {
  for (const name of readdirSync('/dev')) {
    try {
      if (statSync(join('/dev', name)).isBlockDevice()) return join('/dev', name);
    } catch {
      // a node that vanished or cannot be looked at
    }
  }
  return undefined;
}

describe('classify', () => {
  test('a regular file, and a link to one (stat follows it): file', () => {
    expect(classify(join(tmp.dir, 'disk.img'), statSync(join(tmp.dir, 'disk.img')))).toBe('file');
    expect(classify(join(tmp.dir, 'link.img'), statSync(join(tmp.dir, 'link.img')))).toBe('file');
  });

  const dev = someBlockDevice();
  (dev ? test : test.skip)(`a block device (${dev ?? 'none in /dev here'}): block-device`, () => {
    expect(classify(dev!, statSync(dev!))).toBe('block-device');
  });

  test('a folder: IS_DIRECTORY, saying to name the files inside it', () => {
    const d = join(tmp.dir, 'folder');
    expect(() => classify(d, statSync(d))).toThrow(expect.objectContaining({ code: 'IS_DIRECTORY', path: d, message: `${d}: is a directory, not a file`, hint: expect.stringContaining('dir/*') }));
  });

  test.each([
    ['a FIFO', () => join(tmp.dir, 'pipe')],
    ['a character device', () => '/dev/null'],
    ['a socket', () => sock()],
  ])('%s: NOT_A_FILE, saying what custos reads', (_what, path) => {
    const p = path();
    expect(() => classify(p, statSync(p))).toThrow(
      expect.objectContaining({ code: 'NOT_A_FILE', path: p, message: `${p}: is not a regular file or block device`, hint: expect.stringContaining('copy other inputs to a file first') }),
    );
  });
});

describe('checkReadable', () => {
  test('what it is, through links too; a missing path or dangling link is FILE_NOT_FOUND naming it', async () => {
    await expect(checkReadable(join(tmp.dir, 'disk.img'))).resolves.toBe('file');
    await expect(checkReadable(join(tmp.dir, 'link.img'))).resolves.toBe('file');
    for (const p of [join(tmp.dir, 'missing.img'), join(tmp.dir, 'dangling.img')]) {
      await expect(checkReadable(p)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', message: `${p}: no such file or directory` });
    }
    await expect(checkReadable(join(tmp.dir, 'folder'))).rejects.toMatchObject({ code: 'IS_DIRECTORY' });
    await expect(checkReadable(join(tmp.dir, 'pipe'))).rejects.toMatchObject({ code: 'NOT_A_FILE' });
  });

  test('a path through a regular file is INVALID_INPUT (ENOTDIR), not a crash', async () => {
    const p = join(tmp.dir, 'disk.img', 'inside');
    await expect(checkReadable(p)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: `${p}: ENOTDIR: the path cannot be resolved` });
  });
});
