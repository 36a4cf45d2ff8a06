import { existsSync, readdirSync } from 'node:fs';
import { ensureDir, readBoundedFile, writeNewFile } from '../fsutil';
import { join } from 'node:path';
import { CustosError } from '../errors';
import { entryBytes } from './entry';
import { CERTS_DIR, readEntries } from './storage';

/**
 * A verifier that needs only openssl and sha256sum (and a POSIX shell): for every entry in
 * order it checks the certificate's SHA-256 fingerprint, that the entry names that certificate
 * as its actor, that `prev` is the SHA-256 of the previous entry's canonical bytes (for the first,
 * of the case id) and that `seq` counts up, and the RSA signature over the canonical bytes.
 * Prints the head; with an argument, also checks that the head is that hash.
 */
const VERIFY_SH = `#!/bin/sh
# verify.sh - checks a custos chain-of-custody ledger export with openssl and sha256sum only.
# usage: sh verify.sh [EXPECTED_HEAD_SHA256]
set -eu
cd "$(dirname "$0")"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
prev=$(printf '%s' "$(cat case-id)" | sha256sum | cut -d' ' -f1)
n=0
tab=$(printf '\\t')
while IFS="$tab" read -r name fp; do
  f="entries/$name.json"; s="entries/$name.sig"; c="certs/$fp.pem"
  [ -f "$f" ] && [ -f "$s" ] && [ -f "$c" ] || fail "entry $name: a file is missing"
  got=$(openssl x509 -in "$c" -outform DER | sha256sum | cut -d' ' -f1)
  [ "$got" = "$fp" ] || fail "entry $name: certificate $c has fingerprint $got"
  grep -q "\\"actor\\":{[^}]*\\"cert\\":\\"$fp\\"" "$f" || fail "entry $name: does not name certificate $fp as its actor"
  grep -q "\\"prev\\":\\"$prev\\"" "$f" || fail "entry $name: prev is not the hash of the previous entry ($prev)"
  grep -q "\\"seq\\":$n[,}]" "$f" || fail "entry $name: sequence number is not $n"
  openssl x509 -in "$c" -pubkey -noout > "$tmp/pub.pem"
  openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$s" "$f" > /dev/null || fail "entry $name: signature does not verify"
  prev=$(sha256sum < "$f" | cut -d' ' -f1)
  n=$((n + 1))
done < index.tsv
[ "$n" -gt 0 ] || fail "no entries"
echo "OK: $n entries, every signature and the whole chain verify"
echo "head: seq $((n - 1)) sha256 $prev"
if [ $# -gt 0 ] && [ "$1" != "$prev" ]; then fail "head is $prev, expected $1 (entries cut off or rewritten)"; fi
`;

/** Writes the ledger as files that openssl alone can check, with verify.sh; returns the entry count. */
export function exportForOpenssl(caseDir: string, outDir: string): { entries: number; script: string } {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    throw new CustosError('OUTPUT_EXISTS', `${outDir} is not empty`, { path: outDir, hint: 'Export into a new or empty folder.' });
  }
  // Everything that parses is exported, tampered or not: judging it is verify.sh's job, not custos's.
  const { entries: good } = readEntries(caseDir);
  if (good.length === 0) throw new CustosError('LEDGER_INVALID', `${caseDir}: no ledger entries to export`, { path: caseDir });
  ensureDir(join(outDir, 'entries'));
  ensureDir(join(outDir, CERTS_DIR));
  const index: string[] = [];
  const certs = new Set<string>();
  for (const e of good) {
    const name = String(e.seq).padStart(6, '0');
    writeNewFile(join(outDir, 'entries', `${name}.json`), entryBytes(e));
    writeNewFile(join(outDir, 'entries', `${name}.sig`), Buffer.from(e.sig.value, 'base64'));
    const pem = join(caseDir, CERTS_DIR, `${e.sig.cert}.pem`);
    if (!certs.has(e.sig.cert) && existsSync(pem)) {
      certs.add(e.sig.cert);
      writeNewFile(join(outDir, CERTS_DIR, `${e.sig.cert}.pem`), readBoundedFile(pem, 'certificate', 1024 * 1024));
    }
    index.push(`${name}\t${e.sig.cert}`);
  }
  writeNewFile(join(outDir, 'case-id'), good[0]!.case);
  writeNewFile(join(outDir, 'index.tsv'), `${index.join('\n')}\n`);
  const script = join(outDir, 'verify.sh');
  writeNewFile(script, VERIFY_SH, 0o755);
  return { entries: good.length, script };
}
