import { blake3 } from '@noble/hashes/blake3.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { type Algorithm, ALGORITHM_INFO, ALGORITHMS, createDigester, parseAlgorithms } from '../../../src/hash/algorithms';
import { CustosError } from '../../../src/errors';
import { pseudoRandomBytes } from '../../helpers';

const ascii = (s: string) => Buffer.from(s, 'latin1');
const hex = (alg: Algorithm, data: Uint8Array) => {
  const d = createDigester(alg);
  d.update(data);
  return d.digestHex();
};

describe('known-answer vectors', () => {
  // RFC 1321, appendix A.5 (the MD5 test suite).
  test.each([
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
  ])('MD5 (RFC 1321) of %j', (input, expected) => {
    expect(hex('md5', ascii(input))).toBe(expected);
  });

  const abc448 = 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq';
  const abc896 =
    'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu';
  const millionA = 'a'.repeat(1_000_000);
  // FIPS 180-4 examples (NIST CSRC "Examples with intermediate values").
  test.each<[Algorithm, string, string]>([
    ['sha1', 'abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['sha1', abc448, '84983e441c3bd26ebaae4aa1f95129e5e54670f1'],
    ['sha1', millionA, '34aa973cd4c4daa4f61eeb2bdbad27316534016f'],
    ['sha256', 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['sha256', abc448, '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
    ['sha256', millionA, 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
    [
      'sha512',
      'abc',
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    ],
    [
      'sha512',
      abc896,
      '8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909',
    ],
    // FIPS 202 examples.
    ['sha3-256', '', 'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a'],
    ['sha3-256', 'abc', '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532'],
  ])('%s, FIPS example #%#', (alg, input, expected) => {
    expect(hex(alg, ascii(input))).toBe(expected);
  });

  // BLAKE3 reference test_vectors.json: input byte i is i % 251, default hash mode, 32-byte output.
  test.each([
    [0, 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'],
    [1, '2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213'],
    [1023, '10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11'],
    [1024, '42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7'],
    [1025, 'd00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444'],
    [2048, 'e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a'],
    [31744, '62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47'],
  ])('BLAKE3 reference vector, input length %i', (length, expected) => {
    const input = Uint8Array.from({ length }, (_, i) => i % 251);
    expect(hex('blake3', input)).toBe(expected);
  });
});

describe('node:crypto agrees with the independent @noble/hashes implementations', () => {
  const noble: Record<Algorithm, (d: Uint8Array) => Uint8Array> = {
    md5,
    sha1,
    sha256,
    sha512,
    'sha3-256': sha3_256,
    blake3: (d) => blake3(d),
  };
  const data = pseudoRandomBytes(1 << 20, 7);
  test.each(ALGORITHMS.map((a) => [a]))('%s over 1 MiB of pseudo-random bytes', (alg) => {
    expect(hex(alg, data)).toBe(Buffer.from(noble[alg](data)).toString('hex'));
    expect(hex(alg, data)).toHaveLength(ALGORITHM_INFO[alg].bytes * 2);
  });

  test('feeding in uneven pieces gives the same digest as one update', () => {
    for (const alg of ALGORITHMS) {
      const d = createDigester(alg);
      for (let off = 0, step = 1; off < data.length; off += step, step = (step * 7 + 3) % 70001) {
        d.update(data.subarray(off, off + step));
      }
      expect(d.digestHex()).toBe(hex(alg, data));
    }
  });
});

describe('parseAlgorithms', () => {
  test('accepts case and dash variants, drops duplicates, returns canonical order', () => {
    expect(parseAlgorithms('SHA-256, md5,sha256,BLAKE3')).toEqual(['md5', 'sha256', 'blake3']);
    expect(parseAlgorithms(['sha3-256', 'sha-1,sha512'])).toEqual(['sha1', 'sha512', 'sha3-256']);
  });

  test('an unknown name is a usage error that lists the supported ones', () => {
    const err = (() => {
      try {
        parseAlgorithms('md5,crc32');
      } catch (e) {
        return e;
      }
      return undefined;
    })() as CustosError;
    expect(err).toBeInstanceOf(CustosError);
    expect(err.code).toBe('UNKNOWN_ALGORITHM');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain("'crc32'");
    expect(err.hint).toContain('sha3-256');
  });

  test('an empty list is a usage error', () => {
    expect(() => parseAlgorithms(' , ')).toThrow(expect.objectContaining({ code: 'NO_ALGORITHM' }));
  });
});
