#!/usr/bin/env bash
# Builds samples/fat-disk.img: an 8 MiB disk with an MBR partition table and one FAT16
# partition holding a few files and one deleted file, the kind of small seized USB stick
# an examiner meets. Deterministic: run it again and the bytes (and SAMPLE hashes) are the same.
#
# Needs Debian's fdisk (sfdisk), dosfstools (mkfs.fat), mtools (mcopy, mmd, mdel), faketime,
# python3 (the photo) and coreutils (the checksums):
#   apt-get install -y fdisk dosfstools mtools faketime
# Usage: bash samples/make-sample.sh [OUT_DIR]   (default: the folder of this script)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
img=$out/fat-disk.img
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every timestamp mtools writes comes from this fixed clock, so the image is reproducible.
export TZ=UTC
clock='2026-03-14 09:26:53'
export MTOOLS_SKIP_CHECK=1 MTOOLS_NO_VFAT=0
disk_bytes=$((8 * 1024 * 1024))
part_start=2048               # sectors: the 1 MiB alignment fdisk uses
part_offset=$((part_start * 512))

# 1. The raw disk and its MBR: one FAT16 (LBA) partition, fixed disk identifier.
truncate -s "$disk_bytes" "$img.tmp"
sfdisk --quiet "$img.tmp" <<SFDISK
label: dos
label-id: 0xc05705d1
unit: sectors

start=$part_start, type=e, bootable
SFDISK

# 2. The FAT16 filesystem inside the partition. --invariant fixes the volume ID and dates.
part_sectors=$(( (disk_bytes - part_offset) / 512 ))
mkfs.fat --invariant -i 0xC0570D15 -F 16 -s 2 -n "USB-EVID" -h "$part_start" --offset "$part_start" \
  "$img.tmp" $((part_sectors / 2)) >/dev/null

# 3. Files, made here with fixed contents.
cat > "$work/case-notes.txt" <<'TXT'
Meeting with J. Doe, 2026-03-12, 14:00, cafe on Harbour Street.
Handover of the ledger copy postponed to Friday.
Account numbers are in the spreadsheet in DOCUMENTS, not on this stick.
TXT
cat > "$work/minutes.txt" <<'TXT'
Minutes - project "Lighthouse"
1. Budget approved: 48,500 EUR.
2. Shipment via the northern warehouse, container MSKU 493 118 7.
3. Next meeting: 2026-03-19.
TXT
printf 'date,amount,reference\n2026-02-01,1200.00,INV-0071\n2026-02-15,8800.00,INV-0075\n2026-03-01,22500.00,INV-0081\n' \
  > "$work/payments.csv"
cat > "$work/deleted-plan.txt" <<'TXT'
DELETE AFTER READING. Move the remaining stock before the audit on 2026-03-20.
Keys are with M. at the usual place.
TXT
python3 - "$work/harbour.png" <<'PY'
# A 160x120 "photo": sky, sea and a pier, with deterministic sensor noise (LCG, fixed seed).
import struct, sys, zlib
w, h, seed = 160, 120, 20260314
rows = []
for y in range(h):
    row = bytearray([0])
    for x in range(w):
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        n = (seed >> 16) % 24 - 12
        if y < 50: r, g, b = 120 + y, 170 + y // 2, 230
        elif 70 <= y < 80 and 30 < x < 140: r, g, b = 110, 80, 50
        else: r, g, b = 20, 70 + (y - 50), 120 + (y - 50)
        row += bytes(max(0, min(255, c + n)) for c in (r, g, b))
    rows.append(bytes(row))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) \
    + chunk(b'IDAT', zlib.compress(b''.join(rows), 9)) + chunk(b'IEND', b'')
open(sys.argv[1], 'wb').write(png)
PY
touch -d "2026-03-12 15:02:10" "$work/case-notes.txt"
touch -d "2026-03-10 11:45:00" "$work/minutes.txt" "$work/payments.csv"
touch -d "2026-03-11 18:20:31" "$work/harbour.png"
touch -d "2026-03-13 22:07:45" "$work/deleted-plan.txt"

fs="$img.tmp@@$part_offset"
# Frozen (not ticking) clock; NO_FAKE_STAT keeps the files' own times that mcopy -m copies.
ft() { NO_FAKE_STAT=1 faketime -f "$clock" "$@"; }
ft mmd -i "$fs" ::DOCUMENTS ::PHOTOS
ft mcopy -m -i "$fs" "$work/case-notes.txt" ::case-notes.txt
ft mcopy -m -i "$fs" "$work/minutes.txt" "$work/payments.csv" ::DOCUMENTS/
ft mcopy -m -i "$fs" "$work/harbour.png" ::PHOTOS/harbour.png
# The deleted file: its directory entry is marked free (0xE5) but its cluster still holds the text.
ft mcopy -m -i "$fs" "$work/deleted-plan.txt" ::deleted-plan.txt
ft mdel -i "$fs" ::deleted-plan.txt

mv "$img.tmp" "$img"

# 4. Expected hashes, computed by coreutils (not by custos), in the files sha256sum -c reads.
cd "$out"
md5sum fat-disk.img > MD5SUMS
sha1sum fat-disk.img > SHA1SUMS
sha256sum fat-disk.img > SHA256SUMS
echo "wrote $img ($(stat -c %s "$img") bytes)"
cat MD5SUMS SHA1SUMS SHA256SUMS
