import { canonicalBytes, sha256Hex } from '../../../src/custody/canonical';

// RFC 8785 §3.2.2 (sorting, primitives) and appendix B (numbers) examples.
test('RFC 8785 §3.2.2 example: key order, literals, number and string forms', () => {
  const input = JSON.parse(
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
  );
  expect(canonicalBytes(input).toString('utf8')).toBe(
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
});

test('RFC 8785 §3.2.3: properties sorted by UTF-16 code units, not by code points or locale', () => {
  const input = JSON.parse('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}');
  // Read the values in output order (JSON.parse would move the integer-like key "1" first).
  const values = [...canonicalBytes(input).toString('utf8').matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
  expect(values).toEqual(['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh']);
});

test.each([
  [0, '0'],
  [-0, '0'],
  [1e21, '1e+21'],
  [1e-7, '1e-7'],
  [123456789012345680000, '123456789012345680000'],
  [5e-324, '5e-324'],
  [9007199254740992, '9007199254740992'],
])('RFC 8785 appendix B number %p serialises as %s', (n, text) => {
  expect(canonicalBytes(n).toString()).toBe(text);
});

test('nested objects are sorted at every level and whitespace is gone', () => {
  expect(canonicalBytes({ b: { y: 1, x: [{ d: 1, c: 2 }] }, a: 'z' }).toString()).toBe('{"a":"z","b":{"x":[{"c":2,"d":1}],"y":1}}');
});

test('sha256Hex: FIPS 180-4 "abc"', () => {
  expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
