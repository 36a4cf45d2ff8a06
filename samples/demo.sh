#!/usr/bin/env bash
# The end-to-end demo on the bundled sample (npm run demo builds first, then runs this):
# an examiner identity and a case, acquisition of the sample evidence with its case description,
# conversion between formats, verification, the signed chain of custody anchored by a lab CA, Merkle
# checkpoints and RFC 3161 timestamps, PDF reports, and every figure checked with tools nobody here
# wrote (coreutils, openssl, qpdf, pdftotext).
set -euo pipefail
cd "$(dirname "$0")/.."
custos() { node bin/run.js "$@"; }
work=$(mktemp -d "${TMPDIR:-/tmp}/custos-demo-XXXXXX")
case_dir="$work/case-2026-0314"
# A throwaway identity for the demo; real examiners type their passphrase at the prompt.
export CUSTOS_HOME="$work/home" CUSTOS_PASSPHRASE="demo passphrase, not for real cases" CUSTOS_CASE_DIR="$case_dir"
export CUSTOS_CA_PASSPHRASE="demo CA passphrase, not for real cases"

# A local timestamp authority for the demo (there is no network): openssl ts -reply behind the
# test responder, on 127.0.0.1, stopped when the demo ends. A lab names its real TSA instead.
tsa_dir="$work/tsa"
tsa_conf=$(node -r ts-node/register/transpile-only -e "process.stdout.write(require('./test/tsa/tsa').makeTestPki(process.argv[1]))" "$tsa_dir")
mkfifo "$work/tsa.in"
node test/tsa/server.js "$tsa_conf" < "$work/tsa.in" > "$work/tsa.out" &
tsa_pid=$!
exec 3> "$work/tsa.in"
trap 'exec 3>&-; kill "$tsa_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^listening ' "$work/tsa.out" && break; sleep 0.1; done
tsa_url="http://127.0.0.1:$(sed -n 's/^listening //p' "$work/tsa.out")/tsa/tsa_rsa"

echo "== 1. A lab CA (kept offline), an examiner it vouches for, and a case that trusts it and a TSA"
custos ca init "$work/lab-ca" --name "Harbour Lab CA" --organization "Harbour Police Digital Forensics Unit"
custos identity create --name "Alex Morgan" --role "forensic examiner" --organization "Harbour Police Digital Forensics Unit" --ca "$work/lab-ca"
openssl verify -CAfile "$work/lab-ca/ca-cert.pem" "$CUSTOS_HOME"/identities/*/cert.pem
custos case init "$case_dir" --case 2026-0314-HARBOUR --description "USB stick seized at the harbour office" --purpose "warrant 26-WR-0419" \
  --trust "$work/lab-ca/ca-cert.pem" --tsa "$tsa_url" --tsa-cert "$tsa_dir/root.pem"

echo
echo "== 2. What is the source?  custos info samples/fat-disk.img"
custos info samples/fat-disk.img

echo
echo "== 3. Acquire it (md5+sha1+sha256+sha512 in one pass, 1 MiB hash windows, image and source re-read)"
custos acquire samples/fat-disk.img --out "$case_dir" --case-file samples/case.json \
  --hash md5,sha1,sha256,sha512 --hash-window 1MiB --verify --verify-source

echo
echo "== 3b. The same evidence as E01 (EnCase format), checked with libewf's ewfverify where installed"
custos acquire samples/fat-disk.img --out "$case_dir" --name EV-0001-e01 --case-file samples/case.json --format e01 --no-progress | grep -E "image|MD5"
if command -v ewfverify >/dev/null; then ewfverify -q "$case_dir/EV-0001-e01.E01" | tail -1; fi
custos verify "$case_dir/EV-0001-e01.E01" --no-progress | tail -1

echo
echo "== 3c. Convert the E01 back to raw (checked against its manifest on the way) and compare with the source"
custos convert "$case_dir/EV-0001-e01.manifest.json" --to raw --out "$work/converted" --no-progress | head -1
cmp samples/fat-disk.img "$work/converted/EV-0001.raw" && echo "cmp: the converted image is byte-for-byte the source"
if command -v ewfexport >/dev/null; then
  ewfexport -q -u -f raw -t "$work/ewfexport" "$case_dir/EV-0001-e01.E01" > /dev/null
  cmp "$work/ewfexport.raw" "$work/converted/EV-0001.raw" && echo "cmp: and to what libewf's ewfexport extracts"
fi

echo
echo "== 4. Verify the image against its manifest, as an examiner would before court"
custos verify "$case_dir/EV-0001.manifest.json" --no-progress

echo
echo "== 4b. Against another tool's hash record (here coreutils' sha256sum file; dc3dd, dcfldd, ewfacquire,"
echo "       Guymager and FTK Imager records are read the same way)"
custos verify samples/fat-disk.img --expect samples/SHA256SUMS --no-progress | tail -2

echo
echo "== 4c. Nothing is ever written onto the evidence: a report aimed at the image is refused, --force or not"
if custos report verification "$case_dir/EV-0001.manifest.json" --out "$case_dir/EV-0001.raw" --force 2>"$work/refusal.txt"; then
  echo "demo: custos wrote over the image" >&2; exit 1
fi
cat "$work/refusal.txt"
cmp samples/fat-disk.img "$case_dir/EV-0001.raw" && echo "cmp: the image is untouched"

echo
echo "== 5. The chain of custody"
custos ledger note "Sealed in evidence bag A1234567, moved to locker 4" --evidence EV-0001
custos ledger show
custos ledger checkpoint
cp "$(ls "$case_dir"/checkpoints/checkpoint-*.txt | tail -1)" "$work/kept-elsewhere.checkpoint"
custos ledger verify --checkpoint "$work/kept-elsewhere.checkpoint"
echo "-- the acquisition's timestamp token, checked by openssl ts alone:"
first_cp=$(ls "$case_dir"/checkpoints/checkpoint-*.tsr | head -1)
openssl ts -verify -data "${first_cp%.tsr}.txt" -in "$first_cp" -token_in -CAfile "$tsa_dir/root.pem" 2>&1 | grep -v '^Using configuration'
custos ledger prove --inclusion 2
custos ledger export --openssl "$work/ledger-export"
echo "-- checked again with openssl and sha256sum only:"
sh "$work/ledger-export/verify.sh"

echo
echo "== 6. PDF reports (PDF/A-3b, records embedded), checked with qpdf and pdftotext where installed"
custos report acquisition "$case_dir/EV-0001.manifest.json" --out "$work/EV-0001-acquisition.pdf"
custos report verification "$case_dir/EV-0001.manifest.json" --out "$work/EV-0001-verification.pdf"
custos report custody --out "$work/custody.pdf"
if command -v qpdf >/dev/null && command -v pdftotext >/dev/null; then
  for f in "$work"/*.pdf; do qpdf --check "$f" > /dev/null && echo "qpdf --check: $(basename "$f") OK"; done
  qpdf --list-attachments "$work/EV-0001-acquisition.pdf"
  pdftotext "$work/EV-0001-acquisition.pdf" "$work/acquisition.txt"
  grep -q "$(cut -d' ' -f1 samples/SHA256SUMS)" "$work/acquisition.txt" && echo "pdftotext: the SHA-256 in the report is the one coreutils computed"
fi

echo
echo "== 7. The same figures from coreutils"
(cd samples && md5sum -c MD5SUMS && sha1sum -c SHA1SUMS && sha256sum -c SHA256SUMS)
cmp samples/fat-disk.img "$case_dir/EV-0001.raw" && echo "cmp: the image is byte-for-byte the source"
custos hash --tag --hash md5,sha1,sha256,sha512 "$case_dir/EV-0001.raw" > "$work/image.sums"
cksum -c "$work/image.sums"

echo
echo "demo: the image, its manifest, the custody ledger, the reports and coreutils/openssl all agree"
echo "      everything is in $work (reports: $work/*.pdf)"
