import { ALGORITHMS, createDigester } from '../../../src/hash/algorithms';
import { hashBytes, MultiHasher } from '../../../src/hash/multi';
import { pseudoRandomBytes } from '../../helpers';

describe('MultiHasher', () => {
  const data = pseudoRandomBytes(300_001, 11);

  test('one pass gives every algorithm the digest it would compute alone', () => {
    const h = new MultiHasher(ALGORITHMS);
    for (let off = 0; off < data.length; off += 65_536) h.update(data.subarray(off, off + 65_536));
    const all = h.digest();
    expect(h.bytes).toBe(data.length);
    for (const alg of ALGORITHMS) {
      const d = createDigester(alg);
      d.update(data);
      expect(all[alg]).toBe(d.digestHex());
    }
  });

  test('reports only the algorithms asked for', () => {
    expect(Object.keys(hashBytes(data, ['sha256', 'md5']))).toEqual(['sha256', 'md5']);
  });

  test('refuses use after digest, so a finished hash cannot silently change', () => {
    const h = new MultiHasher(['md5']);
    h.digest();
    expect(() => h.update(data)).toThrow(/after digest/);
    expect(() => h.digest()).toThrow(/twice/);
  });
});
