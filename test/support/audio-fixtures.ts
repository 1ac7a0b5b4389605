/**
 * Valid audio files made by code (no binary blobs, no external tools), for tests that sniff a
 * format from its first bytes and read its duration with `music-metadata`.
 *
 * Every format carries 16-bit stereo at 44 100 Hz. PCM containers and FLAC carry a quiet 441 Hz
 * sine (−40 dBFS, the same on both channels); MP3 carries silent frames (all-zero side
 * information and main data, which every decoder plays as silence).
 *
 * - `audioFile(format, { seconds })`: a whole file in memory; its length in time is `seconds`
 *   rounded to a whole sample (PCM, FLAC) or a whole 1152-sample frame (MP3): see
 *   `fileDurationSeconds`.
 * - `audioStream(format, totalBytes)`: a pull-based web stream of exactly `totalBytes` bytes,
 *   made 64 KiB at a time, so a 1 GiB upload never sits in memory. Its headers announce the
 *   sizes of what follows; `expectedDurationSeconds` tells the duration those bytes hold.
 *
 * The product reports `rf64` as format 'wav' and `aifc` as 'aiff'. `music-metadata` 12.1.0 does
 * not read RF64: left to guess, it takes the file for MPEG (the size field 0xFFFFFFFF looks like
 * a frame sync) and finds no duration; told it is WAVE, its parser stops at a first chunk other
 * than 'RIFF'. Whoever needs an RF64 duration reads the ds64 chunk (data size / 4 / 44100 here).
 */

export type AudioFormat = 'wav' | 'rf64' | 'aiff' | 'aifc' | 'flac' | 'mp3';

export interface AudioFileOptions {
  /** Length in seconds (default 1), rounded as `fileDurationSeconds` says. */
  seconds?: number;
  /** mp3 only: put an ID3v2.4 tag of this many bytes (header included) before the frames. */
  id3Bytes?: number;
  /** mp3 only: the TIT2 title of that tag (default `FIXTURE_TITLE`). */
  title?: string;
}

export interface AudioStreamOptions {
  /** mp3 only: the stream starts with an ID3v2.4 tag of this many bytes, counted in `totalBytes`. */
  id3Bytes?: number;
  /** mp3 only: the TIT2 title of that tag (default `FIXTURE_TITLE`). */
  title?: string;
}

export const SAMPLE_RATE = 44_100;
export const CHANNELS = 2;
export const BITS_PER_SAMPLE = 16;
/** The title that the ID3 tag of an mp3 fixture carries unless told otherwise. */
export const FIXTURE_TITLE = 'Empulse fixture tone';
/** The size of every chunk of an `audioStream` but the last. */
export const STREAM_CHUNK_BYTES = 64 * 1024;

const BLOCK_ALIGN = (CHANNELS * BITS_PER_SAMPLE) / 8; // bytes per stereo sample frame
const FLAC_BLOCK_SIZE = 4096;
const MP3_SAMPLES_PER_FRAME = 1152;
const MP3_FRAME_BYTES = 417; // floor(144 * 128000 / 44100); a padded frame has one byte more
// 144 * 128000 / 44100 = 417 + 47/49: 47 frames in every 49 carry the padding byte.
const MP3_PADDING = { numerator: 47, denominator: 49 } as const;

/** Builds a whole file in memory. */
export function audioFile(format: AudioFormat, options: AudioFileOptions = {}): Uint8Array {
  const plan = planFile(format, options);
  const out = new Uint8Array(plannedBytes(plan));
  let offset = 0;
  for (const piece of pieces(plan)) {
    out.set(piece, offset);
    offset += piece.length;
  }
  if (offset !== out.length) throw new Error(`audio fixture: wrote ${offset} bytes of ${out.length}`);
  return out;
}

/**
 * A web stream of a valid file of exactly `totalBytes` bytes, made as it is read (64 KiB chunks,
 * one per pull). What absorbs the bytes that whole samples or frames cannot fill:
 * - wav, rf64, aiff, aifc: after the sound data, a filler chunk ('JUNK', or 'FLLR' for AIFF) of
 *   9 to 11 bytes when the size is not header + a multiple of 4. RIFF and IFF chunks are 2-byte
 *   aligned, so an odd `totalBytes` can only be met by leaving out that last chunk's pad byte:
 *   readers stop at the end of the file anyway. wav and aiff/aifc stop at 4 GiB (32-bit sizes).
 * - flac: a last, shorter frame, then a PADDING metadata block (at most 16 bytes of padding).
 * - mp3: the number of 417/418-byte frames; the padding bits are spread evenly, so the bitrate is
 *   128 kbit/s give or take less than half a frame over the whole file. Every `totalBytes` of at
 *   least 174 306 (after the tag) works; a smaller one works only if 417/418-byte frames can sum
 *   to it, and throws otherwise.
 */
export function audioStream(format: AudioFormat, totalBytes: number, options: AudioStreamOptions = {}): ReadableStream<Uint8Array> {
  const plan = planStream(format, totalBytes, options);
  const source = pieces(plan)[Symbol.iterator]();
  let piece: Uint8Array = new Uint8Array(0);
  let pieceOffset = 0;
  let remaining = totalBytes;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = new Uint8Array(Math.min(STREAM_CHUNK_BYTES, remaining));
      let filled = 0;
      while (filled < chunk.length) {
        if (pieceOffset === piece.length) {
          const next = source.next();
          if (next.done) throw new Error(`audio fixture: stream ran out ${remaining - filled} bytes early`);
          piece = next.value;
          pieceOffset = 0;
          continue;
        }
        const take = Math.min(piece.length - pieceOffset, chunk.length - filled);
        chunk.set(piece.subarray(pieceOffset, pieceOffset + take), filled);
        pieceOffset += take;
        filled += take;
      }
      remaining -= chunk.length;
      if (chunk.length > 0) controller.enqueue(chunk);
      if (remaining === 0) controller.close();
    },
    cancel() {
      source.return?.();
    },
  });
}

/** The duration in seconds of `audioStream(format, totalBytes, options)`, exact. */
export function expectedDurationSeconds(format: AudioFormat, totalBytes: number, options: AudioStreamOptions = {}): number {
  return plannedDuration(planStream(format, totalBytes, options));
}

/** The duration in seconds of `audioFile(format, options)`, exact. */
export function fileDurationSeconds(format: AudioFormat, options: AudioFileOptions = {}): number {
  return plannedDuration(planFile(format, options));
}

// ---------------------------------------------------------------------------------------------
// Plans: what a file holds, decided before any byte is made, so sizes and durations are known.

type PcmFormat = 'wav' | 'rf64' | 'aiff' | 'aifc';

type Plan =
  | { kind: 'pcm'; format: PcmFormat; frames: number; fillerBytes: number }
  | { kind: 'flac'; totalSamples: number; paddingBytes: number | null }
  | { kind: 'mp3'; tag: Id3Plan | null; frames: number; padding: { numerator: number; denominator: number } };

interface Id3Plan {
  totalBytes: number;
  title: string;
}

function planFile(format: AudioFormat, options: AudioFileOptions): Plan {
  const seconds = options.seconds ?? 1;
  if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new RangeError(`seconds must be a finite number >= 0, got ${seconds}`);
  const samples = Math.round(seconds * SAMPLE_RATE);
  if (format === 'mp3') {
    const tag = id3Plan(options.id3Bytes ?? 0, options.title);
    return { kind: 'mp3', tag, frames: Math.round(samples / MP3_SAMPLES_PER_FRAME), padding: MP3_PADDING };
  }
  refuseTag(format, options);
  if (format === 'flac') return { kind: 'flac', totalSamples: samples, paddingBytes: null };
  return pcmPlan(format, samples, 0);
}

function planStream(format: AudioFormat, totalBytes: number, options: AudioStreamOptions): Plan {
  if (!Number.isSafeInteger(totalBytes) || totalBytes < 0) throw new RangeError(`totalBytes must be a whole number >= 0, got ${totalBytes}`);
  if (format === 'mp3') return planMp3Stream(totalBytes, options);
  refuseTag(format, options);
  if (format === 'flac') return planFlacStream(totalBytes);
  return planPcmStream(format, totalBytes);
}

function refuseTag(format: AudioFormat, options: AudioStreamOptions): void {
  if ((options.id3Bytes ?? 0) > 0 || options.title !== undefined) throw new RangeError(`id3Bytes and title apply to mp3, not ${format}`);
}

function plannedBytes(plan: Plan): number {
  switch (plan.kind) {
    case 'pcm':
      return PCM_HEADER_BYTES[plan.format] + plan.frames * BLOCK_ALIGN + plan.fillerBytes;
    case 'flac': {
      let bytes = FLAC_METADATA_BYTES + (plan.paddingBytes === null ? 0 : 4 + plan.paddingBytes);
      for (const frame of flacFrames(plan.totalSamples)) bytes += flacFrameBytes(frame.index, frame.blockSize);
      return bytes;
    }
    case 'mp3': {
      const padded = paddedFramesBefore(plan.frames, plan.padding);
      return (plan.tag?.totalBytes ?? 0) + plan.frames * MP3_FRAME_BYTES + padded;
    }
  }
}

function plannedDuration(plan: Plan): number {
  switch (plan.kind) {
    case 'pcm':
      return plan.frames / SAMPLE_RATE;
    case 'flac':
      return plan.totalSamples / SAMPLE_RATE;
    case 'mp3':
      return (plan.frames * MP3_SAMPLES_PER_FRAME) / SAMPLE_RATE;
  }
}

function pieces(plan: Plan): Iterable<Uint8Array> {
  switch (plan.kind) {
    case 'pcm':
      return pcmPieces(plan.format, plan.frames, plan.fillerBytes);
    case 'flac':
      return flacPieces(plan.totalSamples, plan.paddingBytes);
    case 'mp3':
      return mp3Pieces(plan.tag, plan.frames, plan.padding);
  }
}

// ---------------------------------------------------------------------------------------------
// The signal: one period (100 samples) of a 441 Hz sine at −40 dBFS.

const PERIOD_FRAMES = 100;
const AMPLITUDE = 328; // ≈ 0.01 × 32767
const sinePeriod: Int16Array = Int16Array.from({ length: PERIOD_FRAMES }, (_, n) => Math.round(AMPLITUDE * Math.sin((2 * Math.PI * n) / PERIOD_FRAMES)));

function sample(frameIndex: number): number {
  return sinePeriod[frameIndex % PERIOD_FRAMES]!;
}

/** Interleaved stereo PCM repeated past one chunk plus one period, so any chunk is one subarray. */
const tiles = new Map<'le' | 'be', Uint8Array>();
function pcmTile(endian: 'le' | 'be'): Uint8Array {
  let tile = tiles.get(endian);
  if (!tile) {
    const periodBytes = PERIOD_FRAMES * BLOCK_ALIGN;
    const periods = Math.ceil(STREAM_CHUNK_BYTES / periodBytes) + 1;
    tile = new Uint8Array(periods * periodBytes);
    const view = new DataView(tile.buffer);
    for (let frame = 0; frame < periods * PERIOD_FRAMES; frame++) {
      for (let channel = 0; channel < CHANNELS; channel++) view.setInt16(frame * BLOCK_ALIGN + channel * 2, sample(frame), endian === 'le');
    }
    tiles.set(endian, tile);
  }
  return tile;
}

const zeros = new Uint8Array(STREAM_CHUNK_BYTES);
function* zeroPieces(length: number): Generator<Uint8Array> {
  for (let offset = 0; offset < length; offset += zeros.length) yield zeros.subarray(0, Math.min(zeros.length, length - offset));
}

// ---------------------------------------------------------------------------------------------
// PCM containers: WAVE (RIFF), RF64 (EBU Tech 3306), AIFF and AIFF-C (big-endian IFF).

const PCM_HEADER_BYTES: Record<PcmFormat, number> = {
  wav: 12 + (8 + 16) + 8, // RIFF/WAVE, fmt, data header
  rf64: 12 + (8 + 28) + (8 + 16) + 8, // RF64/WAVE, ds64, fmt, data header
  aiff: 12 + (8 + 18) + (8 + 8), // FORM/AIFF, COMM, SSND header with offset and block size
  aifc: 12 + (8 + 4) + (8 + 38) + (8 + 8), // FORM/AIFC, FVER, COMM with compression, SSND
};
const UINT32_MAX = 0xffff_ffff;

function planPcmStream(format: PcmFormat, totalBytes: number): Plan {
  const header = PCM_HEADER_BYTES[format];
  const room = totalBytes - header;
  let frames = Math.floor(room / BLOCK_ALIGN);
  let fillerBytes = room - frames * BLOCK_ALIGN;
  if (fillerBytes > 0) {
    frames -= 2; // a filler chunk has an 8-byte header: give it two sample frames
    fillerBytes += 2 * BLOCK_ALIGN;
  }
  if (room < 0 || frames < 0) throw new RangeError(`a ${format} stream needs at least ${header} bytes (or ${header + 9} unless header + a multiple of 4), got ${totalBytes}`);
  return pcmPlan(format, frames, fillerBytes);
}

function pcmPlan(format: PcmFormat, frames: number, fillerBytes: number): Plan {
  const totalBytes = PCM_HEADER_BYTES[format] + frames * BLOCK_ALIGN + fillerBytes;
  // RIFF and IFF sizes are 32-bit (so is AIFF's count of sample frames); RF64 exists for the rest
  if (format !== 'rf64' && totalBytes - 8 > UINT32_MAX) throw new RangeError(`${format} sizes are 32-bit: ${totalBytes} bytes need rf64`);
  return { kind: 'pcm', format, frames, fillerBytes };
}

function* pcmPieces(format: PcmFormat, frames: number, fillerBytes: number): Generator<Uint8Array> {
  const dataBytes = frames * BLOCK_ALIGN;
  const totalBytes = PCM_HEADER_BYTES[format] + dataBytes + fillerBytes;
  const bigEndian = format === 'aiff' || format === 'aifc';
  yield bigEndian ? aiffHeader(format === 'aifc', totalBytes, frames, dataBytes) : waveHeader(format === 'rf64', totalBytes, frames, dataBytes);

  const tile = pcmTile(bigEndian ? 'be' : 'le');
  const periodBytes = PERIOD_FRAMES * BLOCK_ALIGN;
  for (let offset = 0; offset < dataBytes; offset += STREAM_CHUNK_BYTES) {
    const start = offset % periodBytes;
    yield tile.subarray(start, start + Math.min(STREAM_CHUNK_BYTES, dataBytes - offset));
  }

  if (fillerBytes > 0) {
    // 9 to 11 bytes: a chunk of 1 to 3 bytes; with 1 or 3 its pad byte is left out (odd total)
    const filler = new ByteWriter(fillerBytes);
    const contentBytes = fillerBytes - 8;
    if (bigEndian) filler.ascii('FLLR').u32be(contentBytes);
    else filler.ascii('JUNK').u32le(contentBytes);
    yield filler.zeros(contentBytes).done();
  }
}

/** RIFF/WAVE or RF64/WAVE up to the data chunk's header. */
function waveHeader(rf64: boolean, totalBytes: number, frames: number, dataBytes: number): Uint8Array {
  const out = new ByteWriter(PCM_HEADER_BYTES[rf64 ? 'rf64' : 'wav']);
  if (rf64) {
    // EBU Tech 3306: the 32-bit sizes say 0xFFFFFFFF and the real ones are in ds64, first chunk
    out.ascii('RF64').u32le(UINT32_MAX).ascii('WAVE');
    out.ascii('ds64').u32le(28).u64le(totalBytes - 8).u64le(dataBytes).u64le(frames).u32le(0); // no table
  } else {
    out.ascii('RIFF').u32le(totalBytes - 8).ascii('WAVE');
  }
  out.ascii('fmt ').u32le(16);
  out.u16le(1); // WAVE_FORMAT_PCM
  out.u16le(CHANNELS).u32le(SAMPLE_RATE).u32le(SAMPLE_RATE * BLOCK_ALIGN).u16le(BLOCK_ALIGN).u16le(BITS_PER_SAMPLE);
  out.ascii('data').u32le(rf64 ? UINT32_MAX : dataBytes);
  return out.done();
}

/** FORM/AIFF or FORM/AIFC up to the first sample of the SSND chunk. */
function aiffHeader(aifc: boolean, totalBytes: number, frames: number, dataBytes: number): Uint8Array {
  const out = new ByteWriter(PCM_HEADER_BYTES[aifc ? 'aifc' : 'aiff']);
  out.ascii('FORM').u32be(totalBytes - 8).ascii(aifc ? 'AIFC' : 'AIFF');
  if (aifc) out.ascii('FVER').u32be(4).u32be(0xa280_5140); // AIFC version 1, the only one
  out.ascii('COMM').u32be(aifc ? 38 : 18);
  out.u16be(CHANNELS).u32be(frames).u16be(BITS_PER_SAMPLE).bytes(extended80(SAMPLE_RATE));
  if (aifc) out.ascii('NONE').bytes(pascalString('not compressed'));
  out.ascii('SSND').u32be(8 + dataBytes).u32be(0).u32be(0); // offset 0, block size 0
  return out.done();
}

/** An 80-bit IEEE 754 extended float (AIFF's sample rate), for a positive safe integer. */
export function extended80(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`extended80 takes a positive whole number, got ${value}`);
  const exponent = value.toString(2).length - 1; // exact, unlike Math.log2 near powers of 2
  const mantissa = BigInt(value) << BigInt(63 - exponent); // explicit integer bit at the top
  const out = new ByteWriter(10);
  out.u16be(16_383 + exponent);
  out.u32be(Number(mantissa >> 32n)).u32be(Number(mantissa & 0xffff_ffffn));
  return out.done();
}

/** A Pascal string (count byte, text), padded to an even length as IFF wants. */
function pascalString(text: string): Uint8Array {
  const length = 1 + text.length;
  const out = new ByteWriter(length + (length % 2));
  return out.u8(text.length).ascii(text).zeros(length % 2).done();
}

// ---------------------------------------------------------------------------------------------
// FLAC: STREAMINFO, optionally PADDING, then frames of VERBATIM subframes (fixed block size).

const FLAC_METADATA_BYTES = 4 + 4 + 34; // 'fLaC', STREAMINFO header and body

interface FlacFrame {
  index: number;
  firstSample: number;
  blockSize: number;
}

function* flacFrames(totalSamples: number): Generator<FlacFrame> {
  for (let index = 0, firstSample = 0; firstSample < totalSamples; index++, firstSample += FLAC_BLOCK_SIZE) {
    yield { index, firstSample, blockSize: Math.min(FLAC_BLOCK_SIZE, totalSamples - firstSample) };
  }
}

/** Header (sync..CRC-8), two VERBATIM subframes (1-byte header + 16-bit samples), CRC-16. */
function flacFrameBytes(index: number, blockSize: number): number {
  return flacHeaderBytes(index, blockSize) + CHANNELS * (1 + 2 * blockSize) + 2;
}

function flacHeaderBytes(index: number, blockSize: number): number {
  return 4 + utf8CodedLength(index) + (blockSize === FLAC_BLOCK_SIZE ? 0 : 2) + 1;
}

function planFlacStream(totalBytes: number): Plan {
  // Whole frames while they fit, then one shorter frame, then the rest as PADDING.
  let room = totalBytes - FLAC_METADATA_BYTES - 4;
  if (room < 0) throw new RangeError(`a flac stream needs at least ${FLAC_METADATA_BYTES + 4} bytes, got ${totalBytes}`);
  let index = 0;
  while (room >= flacFrameBytes(index, FLAC_BLOCK_SIZE)) room -= flacFrameBytes(index++, FLAC_BLOCK_SIZE);
  const lastBlock = Math.min(FLAC_BLOCK_SIZE - 1, Math.floor((room - flacFrameBytes(index, 0)) / (2 * CHANNELS)));
  if (lastBlock > 0) room -= flacFrameBytes(index, lastBlock);
  return { kind: 'flac', totalSamples: index * FLAC_BLOCK_SIZE + Math.max(0, lastBlock), paddingBytes: room };
}

function* flacPieces(totalSamples: number, paddingBytes: number | null): Generator<Uint8Array> {
  let minFrame = Infinity;
  let maxFrame = 0;
  for (const frame of flacFrames(totalSamples)) {
    const bytes = flacFrameBytes(frame.index, frame.blockSize);
    minFrame = Math.min(minFrame, bytes);
    maxFrame = Math.max(maxFrame, bytes);
  }
  const head = new ByteWriter(FLAC_METADATA_BYTES);
  head.ascii('fLaC');
  head.u8(paddingBytes === null ? 0x80 : 0x00).u24be(34); // STREAMINFO, last block unless PADDING follows
  head.u16be(FLAC_BLOCK_SIZE).u16be(FLAC_BLOCK_SIZE); // min/max block size: fixed (a last block may be shorter)
  head.u24be(maxFrame === 0 ? 0 : minFrame).u24be(maxFrame); // 0 = unknown, for an empty stream
  // sample rate (20 bits), channels − 1 (3), bits per sample − 1 (5), total samples (36)
  head.u64be((BigInt(SAMPLE_RATE) << 44n) | (BigInt(CHANNELS - 1) << 41n) | (BigInt(BITS_PER_SAMPLE - 1) << 36n) | BigInt(totalSamples));
  head.bytes(new Uint8Array(16)); // MD5 of the audio: all zero means not computed
  yield head.done();
  if (paddingBytes !== null) {
    yield new ByteWriter(4).u8(0x80 | 1).u24be(paddingBytes).done(); // PADDING, last metadata block
    yield* zeroPieces(paddingBytes);
  }
  for (const frame of flacFrames(totalSamples)) yield flacFrame(frame);
}

function flacFrame({ index, firstSample, blockSize }: FlacFrame): Uint8Array {
  const body = flacBody(firstSample, blockSize);
  const headerBytes = flacHeaderBytes(index, blockSize);
  const out = new ByteWriter(headerBytes + body.bytes.length + 2);
  out.u8(0xff).u8(0xf8); // sync 0b11111111111110, reserved 0, fixed block size
  // block size 0b1100 = 4096, or 0b0111 = 16-bit (size − 1) after the frame number; 0b1001 = 44.1 kHz
  out.u8(((blockSize === FLAC_BLOCK_SIZE ? 0b1100 : 0b0111) << 4) | 0b1001);
  out.u8((0b0001 << 4) | (0b100 << 1)); // 2 independent channels, 16 bits per sample, reserved 0
  out.bytes(utf8CodedNumber(index));
  if (blockSize !== FLAC_BLOCK_SIZE) out.u16be(blockSize - 1);
  out.u8(crc8(out.written()));
  // CRC-16 of header + body, without running over the body again (see crc16AfterZeros)
  const crc = body.crc ^ crc16AfterZeros(crc16(out.written()), body.bytes.length);
  return out.bytes(body.bytes).u16be(crc).done(); // the subframes end byte-aligned: no pad bits
}

interface FlacBody {
  bytes: Uint8Array;
  /** CRC-16 of `bytes` alone, from 0. */
  crc: number;
}

/** A full block's subframes depend only on where it starts in the sine's period: 25 kinds. */
const fullBodies = new Map<number, FlacBody>();

function flacBody(firstSample: number, blockSize: number): FlacBody {
  const phase = firstSample % PERIOD_FRAMES;
  const cached = blockSize === FLAC_BLOCK_SIZE ? fullBodies.get(phase) : undefined;
  if (cached) return cached;
  const bytes = new Uint8Array(CHANNELS * (1 + 2 * blockSize));
  const view = new DataView(bytes.buffer);
  for (let channel = 0, offset = 0; channel < CHANNELS; channel++) {
    bytes[offset++] = 0b0_000001_0; // zero pad bit, VERBATIM, no wasted bits
    for (let n = 0; n < blockSize; n++, offset += 2) view.setInt16(offset, sample(phase + n));
  }
  const body = { bytes, crc: crc16(bytes) };
  if (blockSize === FLAC_BLOCK_SIZE) fullBodies.set(phase, body);
  return body;
}

/** FLAC's frame number coding: UTF-8's scheme stretched to 36 bits (up to 7 bytes). */
function utf8CodedNumber(value: number): Uint8Array {
  const length = utf8CodedLength(value);
  if (length === 1) return Uint8Array.of(value);
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i > 0; i--) {
    out[i] = 0x80 | (rest & 0x3f);
    rest = Math.floor(rest / 64);
  }
  out[0] = ((0xff << (8 - length)) & 0xff) | rest; // `length` leading ones, then the top bits
  return out;
}

function utf8CodedLength(value: number): number {
  if (value < 0x80) return 1;
  let length = 2;
  while (value >= 2 ** (5 * length + 1)) length++; // n bytes hold 5n + 1 bits
  return length;
}

const CRC8_TABLE = crcTable(0x07, 8);
const CRC16_TABLE = crcTable(0x8005, 16);

/** FLAC's frame-header CRC-8: polynomial x^8 + x^2 + x + 1, initial 0, not reflected. */
export function crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = CRC8_TABLE[crc ^ bytes[i]!]!;
  return crc;
}

/** FLAC's frame CRC-16: polynomial x^16 + x^15 + x^2 + 1, initial 0 (or `crc` to go on), not reflected. */
export function crc16(bytes: Uint8Array, crc = 0): number {
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[(crc >> 8) ^ bytes[i]!]!;
  return crc;
}

/**
 * `crc16(zeros(length), crc)`, in 16 steps instead of `length`. A CRC without final XOR is linear,
 * so crc16(body, s) = crc16(body, 0) ^ crc16(zeros, s), and the last term is linear in s: XOR the
 * images of s's set bits. This keeps a 1 GiB FLAC stream from spending seconds on CRCs.
 */
function crc16AfterZeros(crc: number, length: number): number {
  let basis = zeroRunBases.get(length);
  if (!basis) {
    const zeroRun = new Uint8Array(length);
    basis = Uint16Array.from({ length: 16 }, (_, bit) => crc16(zeroRun, 1 << bit));
    zeroRunBases.set(length, basis);
  }
  let result = 0;
  for (let bit = 0; bit < 16; bit++) if (crc & (1 << bit)) result ^= basis[bit]!;
  return result;
}
const zeroRunBases = new Map<number, Uint16Array>();

function crcTable(polynomial: number, width: 8 | 16): Uint16Array {
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  return Uint16Array.from({ length: 256 }, (_, byte) => {
    let crc = byte << (width - 8);
    for (let bit = 0; bit < 8; bit++) crc = crc & top ? ((crc << 1) ^ polynomial) & mask : (crc << 1) & mask;
    return crc;
  });
}

// ---------------------------------------------------------------------------------------------
// MP3: MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo, no CRC, silent; optional ID3v2.4.

function planMp3Stream(totalBytes: number, options: AudioStreamOptions): Plan {
  const tag = id3Plan(options.id3Bytes ?? 0, options.title);
  const audioBytes = totalBytes - (tag?.totalBytes ?? 0);
  // N frames of 417 or 418 bytes sum to anything in [417 N, 418 N]: take the N nearest to the
  // nominal bitrate (417 + 47/49 bytes a frame) inside that range.
  const fewest = Math.ceil(audioBytes / (MP3_FRAME_BYTES + 1));
  const most = Math.floor(audioBytes / MP3_FRAME_BYTES);
  const nominal = Math.round((audioBytes * MP3_PADDING.denominator) / (MP3_FRAME_BYTES * MP3_PADDING.denominator + MP3_PADDING.numerator));
  const frames = Math.min(most, Math.max(fewest, nominal));
  if (audioBytes < 0 || frames < fewest) {
    throw new RangeError(`no whole number of 417/418-byte mp3 frames makes ${audioBytes} bytes (any size from 174306 on works)`);
  }
  const padded = audioBytes - frames * MP3_FRAME_BYTES;
  return { kind: 'mp3', tag, frames, padding: { numerator: padded, denominator: Math.max(frames, 1) } };
}

/** How many of the first `frames` frames carry the padding byte: spread evenly, Bresenham-like. */
function paddedFramesBefore(frames: number, padding: { numerator: number; denominator: number }): number {
  return Math.floor((frames * padding.numerator) / padding.denominator);
}

function* mp3Pieces(tag: Id3Plan | null, frames: number, padding: { numerator: number; denominator: number }): Generator<Uint8Array> {
  if (tag) yield* id3Pieces(tag);
  const plain = mp3Frame(false);
  const padded = mp3Frame(true);
  for (let i = 0; i < frames; i++) {
    yield paddedFramesBefore(i + 1, padding) > paddedFramesBefore(i, padding) ? padded : plain;
  }
}

function mp3Frame(padded: boolean): Uint8Array {
  const frame = new Uint8Array(MP3_FRAME_BYTES + (padded ? 1 : 0));
  // sync, MPEG-1, Layer III, no CRC | 128 kbit/s, 44.1 kHz, padding | joint stereo, original
  frame.set([0xff, 0xfb, 0x90 | (padded ? 0x02 : 0), 0x64]);
  return frame; // side information and main data all zero: no Huffman bits, so silence
}

const ID3_MAX_BYTES = 10 + 0x0fff_ffff; // a syncsafe size has 28 bits
const PRIV_OWNER = 'https://empulse.invalid/audio-fixture\0';

function id3Plan(id3Bytes: number, title: string | undefined): Id3Plan | null {
  if (!Number.isSafeInteger(id3Bytes) || id3Bytes < 0) throw new RangeError(`id3Bytes must be a whole number >= 0, got ${id3Bytes}`);
  if (id3Bytes === 0) {
    if (title !== undefined) throw new RangeError('title needs an ID3 tag: give id3Bytes too');
    return null;
  }
  const resolvedTitle = title ?? FIXTURE_TITLE;
  const smallest = 10 + titleFrameBytes(resolvedTitle);
  if (id3Bytes < smallest) throw new RangeError(`an ID3 tag titled ${JSON.stringify(resolvedTitle)} takes at least ${smallest} bytes, got ${id3Bytes}`);
  if (id3Bytes > ID3_MAX_BYTES) throw new RangeError(`an ID3v2 tag holds at most ${ID3_MAX_BYTES} bytes, got ${id3Bytes}`);
  return { totalBytes: id3Bytes, title: resolvedTitle };
}

function titleFrameBytes(title: string): number {
  return 10 + 1 + new TextEncoder().encode(title).length;
}

/**
 * An ID3v2.4 tag of exactly `totalBytes`: header, TIT2 (UTF-8), then a PRIV frame of zeros that
 * fills the rest (or plain padding when the rest is too small for a PRIV frame).
 */
function* id3Pieces({ totalBytes, title }: Id3Plan): Generator<Uint8Array> {
  const text = new TextEncoder().encode(title);
  const rest = totalBytes - 10 - titleFrameBytes(title);
  const privHeaderBytes = 10 + PRIV_OWNER.length;
  const usePriv = rest >= privHeaderBytes;
  const head = new ByteWriter(10 + titleFrameBytes(title) + (usePriv ? privHeaderBytes : 0));
  head.ascii('ID3').u8(4).u8(0).u8(0).bytes(syncsafe(totalBytes - 10)); // v2.4.0, no flags
  head.ascii('TIT2').bytes(syncsafe(1 + text.length)).u16be(0).u8(3).bytes(text); // 3 = UTF-8
  if (usePriv) head.ascii('PRIV').bytes(syncsafe(rest - 10)).u16be(0).ascii(PRIV_OWNER);
  yield head.done();
  yield* zeroPieces(usePriv ? rest - privHeaderBytes : rest);
}

/** A 28-bit number in four bytes of 7 bits each (ID3v2's "syncsafe" integer). */
export function syncsafe(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0x0fff_ffff) throw new RangeError(`syncsafe takes 0..2^28-1, got ${value}`);
  return Uint8Array.of((value >> 21) & 0x7f, (value >> 14) & 0x7f, (value >> 7) & 0x7f, value & 0x7f);
}

// ---------------------------------------------------------------------------------------------

/** Writes into a buffer of a known size, and checks on `done` that it was filled exactly. */
class ByteWriter {
  private readonly buffer: Uint8Array;
  private readonly view: DataView;
  private offset = 0;

  constructor(size: number) {
    this.buffer = new Uint8Array(size);
    this.view = new DataView(this.buffer.buffer);
  }

  written(): Uint8Array {
    return this.buffer.subarray(0, this.offset);
  }

  done(): Uint8Array {
    if (this.offset !== this.buffer.length) throw new Error(`audio fixture: wrote ${this.offset} of ${this.buffer.length} bytes`);
    return this.buffer;
  }

  ascii(text: string): this {
    for (let i = 0; i < text.length; i++) this.buffer[this.offset++] = text.charCodeAt(i);
    return this;
  }

  bytes(bytes: Uint8Array): this {
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.length;
    return this;
  }

  zeros(count: number): this {
    this.offset += count; // the buffer starts zeroed
    return this;
  }

  u8(value: number): this {
    this.view.setUint8(this.offset++, value);
    return this;
  }

  u16le(value: number): this {
    return this.step(2, () => this.view.setUint16(this.offset, value, true));
  }

  u16be(value: number): this {
    return this.step(2, () => this.view.setUint16(this.offset, value));
  }

  i16be(value: number): this {
    return this.step(2, () => this.view.setInt16(this.offset, value));
  }

  u24be(value: number): this {
    return this.u8(value >>> 16).u8((value >>> 8) & 0xff).u8(value & 0xff);
  }

  u32le(value: number): this {
    return this.step(4, () => this.view.setUint32(this.offset, value, true));
  }

  u32be(value: number): this {
    return this.step(4, () => this.view.setUint32(this.offset, value));
  }

  u64le(value: number): this {
    return this.step(8, () => this.view.setBigUint64(this.offset, BigInt(value), true));
  }

  u64be(value: bigint): this {
    return this.step(8, () => this.view.setBigUint64(this.offset, value));
  }

  private step(size: number, write: () => void): this {
    write();
    this.offset += size;
    return this;
  }
}
