/**
 * Hash records written by other tools, read so that `custos verify --expect FILE` can check an
 * image against the log made when it was acquired: dc3dd logs, dcfldd hash logs, ewfacquire and
 * ewfverify output, Guymager .info files, FTK Imager .txt reports, md5sum-style sums files and
 * openssl dgst output. The files are attacker-controlled text: sizes, line counts and line
 * lengths are bounded, every value is checked, and every problem is a CustosError naming the file.
 *
 * One module per tool (dc3dd, dcfldd, ewf, guymager, ftk-imager, sums); text.ts reads the text
 * safely, record.ts holds what a record says, read.ts recognises the kind by content, and
 * resolve.ts turns --expect values into expected hashes.
 */
export { parseExpectText, readExpectFile } from './read';
export type { ExpectFormat, ExpectPiece, ExpectRecord } from './record';
export { type ExpectSource, parseExpected, resolveExpected } from './resolve';
export { decodeRecordText, EXPECT_FORMATS, MAX_EXPECT_FILE_BYTES, MAX_EXPECT_LINE_LENGTH, MAX_EXPECT_LINES } from './text';
