#!/usr/bin/env bash
# The end-to-end demo on the bundled sample (npm run demo builds first, then runs this):
# acquire the sample evidence with its case description, verify the image, and check every
# figure against tools nobody here wrote (coreutils).
set -euo pipefail
cd "$(dirname "$0")/.."
custos() { node bin/run.js "$@"; }
out=$(mktemp -d "${TMPDIR:-/tmp}/custos-demo-XXXXXX")

echo "== 1. What is the source?  custos info samples/fat-disk.img"
custos info samples/fat-disk.img

echo
echo "== 2. Acquire it (raw image, md5+sha1+sha256+sha512 in one pass, 1 MiB hash windows, re-read and compare)"
custos acquire samples/fat-disk.img --out "$out" --case-file samples/case.json \
  --hash md5,sha1,sha256,sha512 --hash-window 1MiB --verify --verify-source

echo
echo "== 3. Verify the image against its manifest, as an examiner would before court"
custos verify "$out/EV-0001.manifest.json" --no-progress

echo
echo "== 4. The same figures from coreutils"
(cd samples && md5sum -c MD5SUMS && sha1sum -c SHA1SUMS && sha256sum -c SHA256SUMS)
cmp samples/fat-disk.img "$out/EV-0001.raw" && echo "cmp: the image is byte-for-byte the source"
custos hash --tag --hash md5,sha1,sha256,sha512 "$out/EV-0001.raw" > "$out/image.sums"
cksum -c "$out/image.sums"

echo
echo "demo: the image, its manifest ($out/EV-0001.manifest.json) and coreutils all agree"
