#!/usr/bin/env bash
# The end-to-end demo on the bundled sample (npm run demo builds first, then runs this).
# Today: hash the sample evidence with custos and check the figures against coreutils.
set -euo pipefail
cd "$(dirname "$0")/.."
custos() { node bin/run.js "$@"; }

echo "== Case"
node -e 'const c=require("./samples/case.json");for (const k of ["caseNumber","evidenceNumber","examiner","description"]) console.log(`${k.padEnd(15)} ${c[k]}`)'

echo
echo "== custos hash samples/fat-disk.img (md5, sha1, sha256, sha512, sha3-256, blake3 in one pass)"
custos hash --hash md5,sha1,sha256,sha512,sha3-256,blake3 samples/fat-disk.img

echo
echo "== The same figures from coreutils, checked against custos's BSD-style output"
custos hash --tag --hash md5,sha1,sha256,sha512 samples/fat-disk.img > "${TMPDIR:-/tmp}/custos-demo.sums"
cksum -c "${TMPDIR:-/tmp}/custos-demo.sums"
(cd samples && md5sum -c MD5SUMS && sha1sum -c SHA1SUMS && sha256sum -c SHA256SUMS)
echo
echo "demo: custos and coreutils agree on every hash of the sample evidence"
