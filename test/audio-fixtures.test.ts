/**
 * The audio fixtures are what they claim to be. music-metadata, a parser written by others, reads
 * each format's container, codec and duration; RF64, which music-metadata 12.1.0 does not read
 * (it takes the file for MPEG), is walked here from EBU Tech 3306 and compared with the WAVE file;
 * the FLAC and MP3 frame layers, which music-metadata skims, are walked here frame by frame, with
 * bitwise CRCs checked against the catalogue's check values. Streams have exactly the bytes asked
 * for, in 64 KiB chunks, the same bytes every time, and a 1 GiB one starts at once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseBuffer, parseWebStream, type IAudioMetadata } from 'music-metadata';
import {
  audioFile,
  audioStream,
  crc16,
  crc8,
  expectedDurationSeconds,
  extended80,
  FIXTURE_TITLE,
  fileDurationSeconds,
  STREAM_CHUNK_BYTES,
  syncsafe,
  type AudioFormat,
} from './support/audio-fixtures.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** What music-metadata says of each format it reads (rf64 it does not: see readRf64). */
const EXPECTED = {
  wav: { container: 'WAVE', codec: 'PCM', magic: 'RIFF' },
  aiff: { container: 'AIFF', codec: 'PCM', magic: 'FORM' },
  aifc: { container: 'AIFF-C', codec: 'not compressed', magic: 'FORM' },
  flac: { container: 'FLAC', codec: 'FLAC', magic: 'fLaC' },
  mp3: { container: 'MPEG', codec: 'MPEG 1 Layer 3', magic: '\xff\xfb' },
} as const;
type ParsedFormat = keyof typeof EXPECTED;
const PARSED_FORMATS = Object.keys(EXPECTED) as ParsedFormat[];
const ALL_FORMATS: AudioFormat[] = [...PARSED_FORMATS, 'rf64'];

describe('audioFile', () => {
  for (const format of PARSED_FORMATS) {
    it(`${format}: music-metadata reads its format and a duration of 2 s`, async () => {
      const file = audioFile(format, { seconds: 2 });
      assert.equal(latin1(file.subarray(0, EXPECTED[format].magic.length)), EXPECTED[format].magic);
      const { format: found } = await parseBuffer(file, undefined, { duration: true });
      assert.equal(found.container, EXPECTED[format].container);
      assert.equal(found.codec, EXPECTED[format].codec);
      assert.equal(found.sampleRate, 44_100);
      assert.equal(found.numberOfChannels, 2);
      if (format !== 'mp3') assert.equal(found.bitsPerSample, 16);
      assert.ok(Math.abs((found.duration ?? 0) - 2) < 0.05, `duration ${found.duration}`);
      // whole samples, or whole 1152-sample frames for mp3 (77 frames = 2.0114 s)
      assert.ok(Math.abs((found.duration ?? 0) - fileDurationSeconds(format, { seconds: 2 })) < 1e-9);
    });
  }

  it('rf64: a ds64 chunk carries the sizes, around the same fmt and PCM as the wav file', () => {
    const rf64 = audioFile('rf64', { seconds: 2 });
    const wav = audioFile('wav', { seconds: 2 });
    const header = readRf64(rf64);
    assert.equal(header.riffSize, BigInt(rf64.length - 8));
    assert.equal(header.dataOffset + Number(header.dataSize), rf64.length);
    assert.equal(header.sampleCount, header.dataSize / BigInt(header.blockAlign));
    assert.equal(rf64DurationSeconds(header), 2);
    // music-metadata vouched for the wav (above); RF64 is that file with other size fields
    assert.deepEqual(rf64.subarray(header.fmtOffset, header.fmtOffset + 24), wav.subarray(12, 36));
    assert.deepEqual(rf64.subarray(header.dataOffset), wav.subarray(44));
  });

  it('flac: every frame has its sync code, header CRC-8 and frame CRC-16; the samples add up', () => {
    const walk = walkFlac(audioFile('flac', { seconds: 2 }));
    assert.equal(walk.samples, 88_200); // 21 frames of 4096, then one of 2184
    assert.deepEqual(walk.blockSizes.slice(-2), [4096, 2184]);
  });

  it('mp3: 417/418-byte frames back to back, padded 47 times in 49 as 128 kbit/s at 44.1 kHz wants', () => {
    const walk = walkMp3(audioFile('mp3', { seconds: 60 }));
    assert.equal(walk.frames, 2297); // round(60 × 44100 / 1152)
    assert.equal(walk.bytes, Math.floor((2297 * 144 * 128_000) / 44_100));
  });

  it('mp3 with a 3 MiB ID3v2 tag: the title is read, the duration is unchanged', async () => {
    const plain = audioFile('mp3', { seconds: 2 });
    const tagged = audioFile('mp3', { seconds: 2, id3Bytes: 3 * MiB });
    assert.equal(latin1(tagged.subarray(0, 4)), 'ID3\x04');
    assert.equal(tagged.length, 3 * MiB + plain.length); // the tag is exactly id3Bytes long
    assert.deepEqual(tagged.subarray(3 * MiB), plain);
    const parsed = await parseBuffer(tagged, undefined, { duration: true });
    assert.equal(parsed.common.title, FIXTURE_TITLE);
    assert.ok(parsed.format.tagTypes.includes('ID3v2.4'));
    assert.equal(parsed.format.container, 'MPEG');
    assert.equal(parsed.format.duration, (await parseBuffer(plain, undefined, { duration: true })).format.duration);
  });
});

describe('audioStream', () => {
  const size = 5 * MiB;

  for (const format of ALL_FORMATS) {
    describe(format, () => {
      it(`${size} bytes exactly, in 64 KiB chunks, the same bytes each time`, async () => {
        const first = await readAll(audioStream(format, size));
        assert.equal(first.bytes.length, size);
        assert.ok(first.chunkSizes.slice(0, -1).every((chunk) => chunk === STREAM_CHUNK_BYTES));
        assert.ok(first.chunkSizes.at(-1)! <= STREAM_CHUNK_BYTES);
        const again = await readAll(audioStream(format, size));
        assert.equal(sha256(again.bytes), sha256(first.bytes));
        const expected = expectedDurationSeconds(format, size);
        if (format === 'flac') assert.equal(walkFlac(first.bytes).samples, Math.round(expected * 44_100));
        if (format === 'mp3') assert.equal(walkMp3(first.bytes).frames, Math.round((expected * 44_100) / 1152));
      });

      it('holds the duration that expectedDurationSeconds tells, read from the stream', async () => {
        assert.equal(await streamDurationSeconds(format, audioStream(format, size)), expectedDurationSeconds(format, size));
      });

      it('meets sizes that whole samples or frames cannot fill, odd ones included', async () => {
        for (const extra of [1, 2, 3, 5]) {
          const total = 256 * 1024 + extra;
          const { bytes } = await readAll(audioStream(format, total));
          assert.equal(bytes.length, total, `${total} bytes`);
          assert.equal(await streamDurationSeconds(format, streamOf(bytes)), expectedDurationSeconds(format, total), `${total} bytes`);
        }
      });
    });
  }

  it('mp3 with a 3 MiB ID3v2 tag, counted in the total: title and duration read from the stream', async () => {
    const options = { id3Bytes: 3 * MiB };
    const parsed = await parseWebStream(audioStream('mp3', size, options), undefined, { duration: true });
    assert.equal(parsed.common.title, FIXTURE_TITLE);
    assert.equal(parsed.format.duration, expectedDurationSeconds('mp3', size, options));
    assert.equal((await readAll(audioStream('mp3', size, options))).bytes.length, size);
  });

  it('a 1 GiB stream is made as it is read: its first chunk comes at once and announces the full size', async () => {
    for (const format of ALL_FORMATS) {
      const reader = audioStream(format, GiB).getReader();
      const first = await reader.read();
      await reader.cancel();
      assert.equal(first.value?.length, STREAM_CHUNK_BYTES, format);
    }
    const wav = await firstChunk(audioStream('wav', GiB));
    assert.equal(new DataView(wav.buffer).getUint32(4, true), GiB - 8); // RIFF size
    const rf64 = readRf64(await firstChunk(audioStream('rf64', 5 * GiB))); // past RIFF's 4 GiB
    assert.equal(rf64.riffSize, BigInt(5 * GiB - 8));
    assert.equal(rf64DurationSeconds(rf64), expectedDurationSeconds('rf64', 5 * GiB));
  });

  it('refuses what it cannot make', () => {
    assert.throws(() => audioStream('wav', 5 * GiB), /need rf64/);
    assert.throws(() => audioStream('wav', 20), RangeError);
    assert.throws(() => audioStream('flac', MiB, { id3Bytes: 1000 }), /apply to mp3/);
    assert.throws(() => audioFile('mp3', { id3Bytes: 5 }), /at least/);
  });
});

describe('helpers', () => {
  it('CRC-8 and CRC-16 match the bitwise reference and the catalogue check values', () => {
    const check = new TextEncoder().encode('123456789');
    assert.equal(bitwiseCrc(check, 0x07, 8), 0xf4); // CRC-8 (SMBus) check value
    assert.equal(bitwiseCrc(check, 0x8005, 16), 0xfee8); // CRC-16/UMTS (BUYPASS) check value
    assert.equal(crc8(check), 0xf4);
    assert.equal(crc16(check), 0xfee8);
  });

  it('80-bit extended floats and syncsafe integers', () => {
    assert.deepEqual([...extended80(44_100)], [0x40, 0x0e, 0xac, 0x44, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...extended80(48_000)], [0x40, 0x0e, 0xbb, 0x80, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...syncsafe(3 * MiB)], [0x01, 0x40, 0x00, 0x00]);
    assert.deepEqual([...syncsafe(0x0fff_ffff)], [0x7f, 0x7f, 0x7f, 0x7f]);
    assert.throws(() => syncsafe(0x1000_0000), RangeError);
  });
});

// ---------------------------------------------------------------------------------------------

async function streamDurationSeconds(format: AudioFormat, stream: ReadableStream<Uint8Array>): Promise<number | undefined> {
  if (format === 'rf64') {
    const { bytes } = await readAll(stream);
    return rf64DurationSeconds(readRf64(bytes));
  }
  const parsed: IAudioMetadata = await parseWebStream(stream, undefined, { duration: true });
  assert.equal(parsed.format.container, EXPECTED[format].container);
  return parsed.format.duration;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<{ bytes: Uint8Array; chunkSizes: number[] }> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
  return { bytes: Buffer.concat(chunks), chunkSizes: chunks.map((chunk) => chunk.length) };
}

async function firstChunk(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  assert.ok(value);
  return value;
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}

interface Rf64Header {
  riffSize: bigint;
  dataSize: bigint;
  sampleCount: bigint;
  sampleRate: number;
  blockAlign: number;
  fmtOffset: number;
  dataOffset: number;
}

/**
 * EBU Tech 3306, as far as the data chunk: 'RF64', a RIFF size of 0xFFFFFFFF, 'WAVE', a ds64 chunk
 * first (RIFF size, data size, sample count, 64-bit each), a PCM fmt chunk, and a data chunk whose
 * 32-bit size is 0xFFFFFFFF. Checks what follows the data when the whole file is given.
 */
function readRf64(bytes: Uint8Array): Rf64Header {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = (offset: number): string => latin1(bytes.subarray(offset, offset + 4));
  assert.equal(id(0), 'RF64');
  assert.equal(view.getUint32(4, true), 0xffff_ffff);
  assert.equal(id(8), 'WAVE');
  assert.equal(id(12), 'ds64', 'ds64 comes first');
  const ds64Size = view.getUint32(16, true);
  assert.ok(ds64Size >= 28);
  const riffSize = view.getBigUint64(20, true);
  const dataSize = view.getBigUint64(28, true);
  const sampleCount = view.getBigUint64(36, true);
  let offset = 20 + ds64Size + (ds64Size % 2);
  let format: { sampleRate: number; blockAlign: number; fmtOffset: number } | undefined;
  for (;;) {
    const chunkSize = view.getUint32(offset + 4, true);
    if (id(offset) === 'fmt ') {
      assert.equal(view.getUint16(offset + 8, true), 1, 'PCM');
      format = { sampleRate: view.getUint32(offset + 12, true), blockAlign: view.getUint16(offset + 20, true), fmtOffset: offset };
    } else if (id(offset) === 'data') {
      assert.equal(chunkSize, 0xffff_ffff, 'the data size is in ds64');
      break;
    }
    offset += 8 + chunkSize + (chunkSize % 2);
  }
  assert.ok(format, 'fmt before data');
  const header = { riffSize, dataSize, sampleCount, ...format, dataOffset: offset + 8 };
  if (riffSize === BigInt(bytes.length - 8)) {
    // the whole file: after the data, nothing or one filler chunk running to the end
    const after = header.dataOffset + Number(dataSize);
    if (after < bytes.length) {
      assert.equal(id(after), 'JUNK');
      assert.equal(after + 8 + view.getUint32(after + 4, true), bytes.length);
    }
  }
  return header;
}

function rf64DurationSeconds(header: Rf64Header): number {
  return Number(header.dataSize) / header.blockAlign / header.sampleRate;
}

/**
 * Walks a FLAC file of fixed-size blocks, 2 independent 16-bit channels, VERBATIM subframes: checks
 * each frame's sync code, coded number, CRC-8 and CRC-16, and STREAMINFO's totals against them.
 */
function walkFlac(bytes: Uint8Array): { samples: number; blockSizes: number[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(latin1(bytes.subarray(0, 4)), 'fLaC');
  let offset = 4;
  let streamInfo: { totalSamples: number; minFrame: number; maxFrame: number } | undefined;
  for (let last = false; !last; ) {
    last = (bytes[offset]! & 0x80) !== 0;
    const type = bytes[offset]! & 0x7f;
    const length = view.getUint32(offset) & 0xff_ffff;
    if (type === 0) {
      const body = offset + 4;
      const totalSamples = (bytes[body + 13]! & 0x0f) * 2 ** 32 + view.getUint32(body + 14);
      streamInfo = { totalSamples, minFrame: view.getUint32(body + 3) & 0xff_ffff, maxFrame: view.getUint32(body + 6) & 0xff_ffff };
    }
    offset += 4 + length;
  }
  assert.ok(streamInfo, 'STREAMINFO');
  const blockSizes: number[] = [];
  const frameSizes: number[] = [];
  while (offset < bytes.length) {
    const start = offset;
    assert.equal(view.getUint16(offset), 0xfff8, `sync code of frame ${blockSizes.length}`);
    const blockCode = bytes[offset + 2]! >> 4;
    offset += 4;
    const leadingOnes = Math.clz32(~(bytes[offset]! << 24));
    let frameNumber = leadingOnes === 0 ? bytes[offset]! : bytes[offset]! & (0x7f >> leadingOnes);
    for (let i = 1; i < Math.max(1, leadingOnes); i++) frameNumber = frameNumber * 64 + (bytes[offset + i]! & 0x3f);
    offset += Math.max(1, leadingOnes);
    assert.equal(frameNumber, blockSizes.length, 'frame numbers count up');
    let blockSize = 4096;
    if (blockCode === 0b0111) {
      blockSize = view.getUint16(offset) + 1;
      offset += 2;
    } else assert.equal(blockCode, 0b1100);
    assert.equal(bytes[offset], referenceCrc8(bytes.subarray(start, offset)), 'header CRC-8');
    offset += 1 + 2 * (1 + 2 * blockSize); // two VERBATIM subframes
    assert.equal(view.getUint16(offset), referenceCrc16(bytes.subarray(start, offset)), 'frame CRC-16');
    offset += 2;
    blockSizes.push(blockSize);
    frameSizes.push(offset - start);
  }
  const samples = blockSizes.reduce((sum, size) => sum + size, 0);
  assert.equal(samples, streamInfo.totalSamples);
  assert.equal(streamInfo.minFrame, Math.min(...frameSizes));
  assert.equal(streamInfo.maxFrame, Math.max(...frameSizes));
  return { samples, blockSizes };
}

/** Walks MPEG-1 Layer III 128 kbit/s 44.1 kHz frames after an optional ID3v2 tag, to the last byte. */
function walkMp3(bytes: Uint8Array): { frames: number; bytes: number } {
  let offset = 0;
  if (latin1(bytes.subarray(0, 3)) === 'ID3') offset = 10 + bytes.subarray(6, 10).reduce((size, byte) => size * 128 + byte, 0);
  const audioStart = offset;
  let frames = 0;
  while (offset < bytes.length) {
    const header = (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    const padded = (header >> 9) & 1;
    if ((header & ~0x200) !== (0xff_fb_90_64 | 0)) assert.fail(`header of frame ${frames}: ${(header >>> 0).toString(16)}`);
    offset += 417 + padded;
    frames++;
  }
  assert.equal(offset, bytes.length, 'the last frame ends the file');
  return { frames, bytes: offset - audioStart };
}

/** Table-driven CRCs for walking megabytes, their tables made by the bitwise CRC of each byte. */
const referenceCrc8 = tableCrc(0x07, 8);
const referenceCrc16 = tableCrc(0x8005, 16);

function tableCrc(polynomial: number, width: 8 | 16): (bytes: Uint8Array) => number {
  const table = Array.from({ length: 256 }, (_, byte) => bitwiseCrc(Uint8Array.of(byte), polynomial, width));
  const mask = (1 << width) - 1;
  return (bytes) => {
    let crc = 0;
    for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) & mask) ^ table[((crc >> (width - 8)) ^ bytes[i]!) & 0xff]!;
    return crc;
  };
}

/** The textbook CRC, one bit at a time (no table), to check the fixtures' table-driven ones. */
function bitwiseCrc(bytes: Uint8Array, polynomial: number, width: 8 | 16): number {
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << (width - 8);
    for (let bit = 0; bit < 8; bit++) crc = crc & top ? ((crc << 1) ^ polynomial) & mask : (crc << 1) & mask;
  }
  return crc;
}
