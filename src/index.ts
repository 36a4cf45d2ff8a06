/**
 * custos as a library: everything the commands do is reachable from here without the CLI, by name.
 * The commands (commands/) call the services at the end; everything below them is usable alone.
 */

// Errors and exit codes
export {
  CustosBug, CustosError, type CustosErrorOptions, describeFailure, ERROR_CODES, type ErrorCode, type ErrorKind, ExitCode, exitCodeFor,
  type FailureReport, fromFsError, isCustosError, type Outcome, outcomeExitCode, printable,
} from './errors';
export { type Environment, formatOffset, type HostFacts, localTimestamp, parseOsRelease, systemEnvironment } from './host';
export { toolInfo, type ToolInfo } from './tool';
export { parseSize } from './units';
export { assertSchema, readValidatedJson, type SchemaName, schemaProblems, SCHEMAS } from './schema';

// Write safety
export { assertWritable, devNumber, forgetProtectedEvidence, protectDevice, protectedEvidence, protectFile } from './protect';
export {
  createExclusive, ensureDir, entryExists, MAX_RECORD_BYTES, openExistingForWrite, openRegularForRead, readBoundedFile, renameIntoPlace,
  syncDir, writeAll, writeFileAtomic, writeNewFile,
} from './fsutil';

// Hashing
export {
  type Algorithm, ALGORITHM_INFO, type AlgorithmInfo, ALGORITHMS, createDigester, DEFAULT_ALGORITHMS, type Digester, type HashSet,
  isAlgorithm, ParallelHasher, type ParallelHasherOptions, parseAlgorithms, planWorkers, type StreamDigests,
} from './hash';

// Sources: devices and files
export { checkReadable, classify, type SourceKind } from './source/file';
export { describeSource, mountsOf, type SourceInfo, type SourceMount } from './source/info';
export { blockDeviceInfo, type BlockDeviceInfo, blockDeviceInfoByNumber, type PartitionInfo } from './source/device';
export {
  type DeviceTransport, diskIdentity, type Identity, type MmcCardInfo, type UsbDeviceInfo, vpdSerial,
} from './source/device-identity';
export { deviceFamily, type DeviceFamily, protectSource } from './source/evidence';
export {
  type CheckStatus, type DcoCheck, detectHiddenAreas, type HiddenAreas, hiddenAreasOfFile, type HiddenAreaStatus, type HpaCheck,
  type NvmeCapacityCheck,
} from './source/hidden-areas';
export { parseDcoIdentify, parseHdparmN, parseIdentifyDcoSupport } from './source/hdparm';
export { parseNvmeIdCtrl, parseNvmeIdNs } from './source/nvme-cli';
export {
  type CommandResult, type CommandRunner, failedRun, firstMessage, MAX_TOOL_OUTPUT, notParsed, type Parsed, safeCount, systemRunner,
  TOOL_TIMEOUT_MS,
} from './source/drive-tools';
export { currentMounts, type MountEntry, parseMountInfo, parseSwaps } from './source/mounts';
export { type ReaderOptions, SourceReader } from './source/reader';
export { describeErrno, DisconnectWatch, errnoName, isDisconnectError, isMediaError, type WatchOptions } from './source/disconnect';
export { applyWriteBlock, type Blockdev, readOnlyNow, systemBlockdev, type WriteBlockRecord } from './source/writeblock';

// The stream engine
export { MAX_ALIGNMENT, SlotRing } from './stream/ring';
export {
  alignmentError, DEFAULT_CHUNK_SIZE, hashStream, type HashStreamOptions, type PipelineOptions, type PipelineProgress, type PipelineResult,
  runPipeline,
} from './stream/pipeline';
export { digest, type Digest, type DigestOptions } from './stream/digest';

// Image formats
export {
  addRange, type ByteRange, type ByteSource, type CaseFields, type CreateOptions, type DamagedRange, type FormatName, type ImageFormat,
  type ImageLayout, type ImagePart, type ImageSummary, type ImageWriter, type MediaImage, type OpenOptions, type OutputFile,
} from './formats/types';
export { detectFormat, FORMAT_NAMES, formatByName, FORMATS, openImage } from './formats/registry';
export {
  checkSegmentSize, imageFileNames, MAX_IMAGE_FILES, MIN_SEGMENT_BYTES, PARTIAL_SUFFIX, RawImageWriter, segmentCount,
} from './formats/files';
export { ImageSource } from './formats/image-source';
export { findSegments } from './formats/split-naming';
export { caseFieldsOf, e01Format } from './formats/e01';
export { decodeHeader, type E01Info, E01Source, type E01SourceOptions, findE01Segments, MAX_DAMAGE_RECORDS } from './formats/e01/reader';
export { DEFAULT_SEGMENT_SIZE, type E01Layout, type E01Summary, E01Writer } from './formats/e01/writer';

// Records
export {
  type AcquisitionManifest, type AcquisitionSession, type CaseMetadata, type ReadErrorRecord, readManifest, type VerificationCheck,
  writeManifest,
} from './manifest/manifest';
export { loadCaseFile, resolveCase } from './manifest/case';

// Acquisition
export {
  acquire, type AcquireOptions, type AcquireResult, DEFAULT_SPLIT_SIZE, defaultBaseName, MAX_HASH_WINDOWS, type ResumeCheck, safeName,
} from './acquire/acquire';
export {
  Checkpoints, type JournalSettings, type JournalSource, loadJournal, rangesBelow, removeJournal, type ResumeJournal, saveJournal,
  sourceIdentity,
} from './acquire/journal';
export {
  formatBytes, formatDuration, formatProgressLine, formatRate, PROGRESS_MODES, ProgressDisplay, type ProgressFigures, type ProgressJson,
  type ProgressMode, type ProgressOptions, RateSampler,
} from './acquire/progress';

// Verification
export {
  allMatch, compareHashes, type HashComparison, hashImage, hashSourceAgain, type ImageHashResult, manifestBeside, MAX_LISTED_WINDOWS,
  parseExpected, type ProgressHooks, type SourceHashResult, type VerifyOptions, type VerifyResult, verifyTarget,
} from './verify/verify';
export {
  type FileHashes, formatHashLines, hashedSize, hashFile, hashFiles, type HashFilesOptions, type HashLineStyle,
} from './verify/hash-files';
export {
  decodeRecordText, EXPECT_FORMATS, type ExpectFormat, type ExpectPiece, type ExpectRecord, type ExpectSource, MAX_EXPECT_FILE_BYTES,
  MAX_EXPECT_LINE_LENGTH, MAX_EXPECT_LINES, parseExpectText, readExpectFile, resolveExpected,
} from './verify/records';

// Conversion
export { convert, type ConvertOptions, type ConvertResult } from './convert/convert';

// Chain of custody
export {
  acceptCustody, appendEntry, canonicalBytes, certFingerprint, certPublicKey, CERTS_DIR, certValidAt, createIdentity,
  type CreateIdentityOptions, custosHome, describeCert, entryBytes, entryHash, type EntryInput, expectedHead, exportForOpenssl,
  findIdentity, genesisHash, type IdentityRecord, importIdentity, initCase, keepCertPem, LEDGER_FILE, type LedgerAction, type LedgerEntry,
  type LedgerProblem, type LedgerReport, listIdentities, loadSigner, MAX_ENTRY_BYTES, parseCert, protectCaseRecords, readEntries,
  repairLedger, sha256Hex, signedHead, type SignedHead, type Signer, signHead, transferCustody, verifyLedger,
} from './custody';

// Services: one function per user action
export { type Custody, failure, listed, listedFiles, MAX_LISTED, openCustody, record } from './services/session';
export { acquireRecorded, acquisitionDetails, acquisitionOutcome } from './services/acquire';
export { verificationOutcome, verifyRecorded } from './services/verify';
export { hashRecorded } from './services/hash';
export { describeAny, type Described, infoRecorded } from './services/info';
export { convertRecorded } from './services/convert';
export { reportAcquisition, reportCustody, type ReportTarget, reportVerification } from './services/report';
export {
  ledgerAccept, ledgerExport, ledgerHead, ledgerNote, ledgerRepair, ledgerShow, type LedgerTimeline, ledgerTransfer, ledgerVerify,
  type SignedAction, type Unlock,
} from './services/custody';
export { caseInit, type CaseInitOptions } from './services/case';
export { identityCreate, identityImport, identityList, identityShow } from './services/identity';
