/**
 * The tracks plugin's format sniffing and inspection (plugins/tracks/sniff-stream.ts, inspect/),
 * on the stream itself: every fixture format gives the same duration whatever the chunking (one
 * byte at a time included: a client's TCP segments decide it), and hostile files are refused or
 * read without the plugin holding more than a few bytes of them: a FLAC tag bomb, a WAV chunk
 * declaring 4 GiB, ID3 tags and zero padding in one-byte chunks, lone headers, and headers that
 * claim more audio than the file holds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HttpProblem } from '../core/index.ts';
import { sniffAudio } from '../plugins/tracks/sniff-stream.ts';
import { audioFile, fileDurationSeconds, type AudioFormat } from './support/audio-fixtures.ts';

/** `bytes` as a stream of `size`-byte chunks (the last one shorter). */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** Sniffs and reads the whole stream; the format and duration, or the 415 it ended with. */
async function inspect(bytes: Uint8Array, chunk = 64 * 1024): Promise<{ format: string; duration: number | null; bytes: number } | HttpProblem> {
  try {
    const sniffed = await sniffAudio(chunked(bytes, chunk));
    let total = 0;
    const reader = sniffed.stream.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) total += next.value.byteLength;
    return { format: sniffed.format, duration: sniffed.durationSeconds(), bytes: total };
  } catch (err) {
    if (err instanceof HttpProblem) return err;
    throw err;
  }
}

const refused = (result: Awaited<ReturnType<typeof inspect>>, why: RegExp): void => {
  assert.ok(result instanceof HttpProblem, `refused, got ${JSON.stringify(result)}`);
  assert.equal(result.status, 415);
  assert.match(result.detail ?? '', why);
};

const ascii = (text: string) => Buffer.from(text, 'latin1');
const u32le = (n: number) => Buffer.from(Uint32Array.of(n).buffer);
const u32be = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe('tracks: sniffing and inspection', () => {
  const formats: readonly [AudioFormat, string][] = [
    ['wav', 'wav'],
    ['rf64', 'wav'],
    ['aiff', 'aiff'],
    ['aifc', 'aiff'],
    ['flac', 'flac'],
    ['mp3', 'mp3'],
  ];
  for (const [file, format] of formats) {
    it(`reads a ${file}'s duration whatever the chunking (1, 7, 4096 bytes, whole)`, async () => {
      const bytes = audioFile(file, { seconds: 1 });
      const expected = fileDurationSeconds(file, { seconds: 1 });
      for (const size of [1, 7, 4096, bytes.length]) {
        const result = await inspect(bytes, size);
        assert.ok(!(result instanceof HttpProblem), `${file} in ${size}-byte chunks: ${String(result)}`);
        assert.equal(result.format, format);
        assert.equal(result.bytes, bytes.length, 'every byte passes through');
        assert.ok(Math.abs(result.duration! - expected) < 0.001, `${file} in ${size}-byte chunks: ${result.duration} ≠ ${expected}`);
      }
    });
  }

  it('reads an MP3 behind two ID3 tags and zero padding, sent one byte at a time', async () => {
    const frames = audioFile('mp3', { seconds: 1 });
    const tag = audioFile('mp3', { id3Bytes: 2048, seconds: 1 }).subarray(0, 2048);
    const bytes = Buffer.concat([tag, tag, Buffer.alloc(1000), frames]);
    const result = await inspect(bytes, 1);
    assert.ok(!(result instanceof HttpProblem), String(result));
    assert.ok(Math.abs(result.duration! - fileDurationSeconds('mp3', { seconds: 1 })) < 0.001);
  });

  it('reads no further than STREAMINFO in a FLAC: a 16 MiB comment block costs nothing, an unknown length is null', async () => {
    const streaminfo = Buffer.from(audioFile('flac', { seconds: 1 }).subarray(0, 42));
    streaminfo[4] = 0x00; // STREAMINFO, not the last block
    streaminfo.fill(0, 21, 26); // total samples 0: "unknown"
    streaminfo[21] = streaminfo[21]! & 0xf0;
    const comments = Buffer.alloc(16 * 1024 * 1024 - 1, 0x41);
    const block = Buffer.concat([Buffer.from([0x84, 0xff, 0xff, 0xff]), comments]); // last block, VORBIS_COMMENT
    const frames = audioFile('flac', { seconds: 1 }).subarray(42);
    const result = await inspect(Buffer.concat([streaminfo, block, frames]));
    assert.ok(!(result instanceof HttpProblem), String(result));
    assert.equal(result.format, 'flac');
    assert.equal(result.duration, null);
  });

  it('refuses a WAV whose only chunk declares 4 GiB (no fmt, no data) without reading it', async () => {
    const bytes = Buffer.concat([ascii('RIFF'), u32le(0xffffffff), ascii('WAVE'), ascii('id3 '), u32le(0xfffffff0), randomBytes(1024 * 1024)]);
    refused(await inspect(bytes), /no fmt and data chunks/);
  });

  it('caps a duration the header overstates at the audio the file holds', async () => {
    const wav = Buffer.from(audioFile('wav', { seconds: 1 }));
    const dataAt = wav.indexOf('data');
    wav.writeUInt32LE(44_100 * 4 * 600, dataAt + 4); // "10 minutes"
    const result = await inspect(wav);
    assert.ok(!(result instanceof HttpProblem));
    assert.ok(Math.abs(result.duration! - 1) < 0.01, `${result.duration}`);
    const aiff = Buffer.from(audioFile('aiff', { seconds: 1 }));
    const comm = aiff.indexOf('COMM');
    aiff.writeUInt32BE(44_100 * 600, comm + 8 + 2); // numSampleFrames
    const capped = await inspect(aiff);
    assert.ok(!(capped instanceof HttpProblem));
    assert.ok(Math.abs(capped.duration! - 1) < 0.01, `${capped.duration}`);
  });

  it('refuses lone headers and lookalikes', async () => {
    refused(await inspect(Uint8Array.from([0xff, 0xfb, 0x90, 0x00])), /WAV, AIFF, FLAC or MP3/);
    refused(await inspect(Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x00]), ascii('<html>hello</html>')])), /WAV, AIFF, FLAC or MP3/);
    refused(await inspect(Buffer.concat([ascii('RIFF'), u32le(4), ascii('WAVE')])), /no fmt and data/);
    refused(await inspect(Buffer.concat([ascii('FORM'), u32be(4), ascii('AIFF')])), /no COMM/);
    refused(await inspect(ascii('fLaC')), /first audio frame/);
    refused(await inspect(Buffer.concat([ascii('fLaC'), randomBytes(100)])), /STREAMINFO/);
    // An ID3 tag followed by nothing, by one frame header, or by 64 KiB + 1 of zeros.
    const tag = audioFile('mp3', { id3Bytes: 1024, seconds: 1 }).subarray(0, 1024);
    refused(await inspect(tag), /no MPEG audio frames/);
    refused(await inspect(Buffer.concat([tag, Buffer.from([0xff, 0xfb, 0x90, 0x00])])), /MPEG/);
    refused(await inspect(Buffer.concat([tag, Buffer.alloc(64 * 1024 + 1), audioFile('mp3')]), 1024), /padding/);
  });

  it('refuses what only looks like audio and never trusts a stated length beyond the audio held', async () => {
    // MP3: a Xing header claiming 2^32-1 frames in a two-frame file; frames followed by 5 MB of junk.
    const mp3 = Buffer.from(audioFile('mp3', { seconds: 1 }));
    const two = Buffer.from(mp3.subarray(0, 417 + 418));
    two.write('Xing', 4 + 32, 'latin1');
    two.writeUInt32BE(1, 4 + 36);
    two.writeUInt32BE(0xffffffff, 4 + 40);
    const xing = await inspect(two);
    assert.ok(!(xing instanceof HttpProblem) && xing.duration! < 0.1, `one audio frame, not years: ${JSON.stringify(xing)}`);
    refused(await inspect(Buffer.concat([mp3, Buffer.alloc(5 * 1024 * 1024, 0x41)])), /not MPEG frames after the audio/);
    // FLAC: STREAMINFO and no frame after it.
    const flac = Buffer.from(audioFile('flac', { seconds: 1 }));
    refused(await inspect(Buffer.concat([flac.subarray(0, 42), Buffer.alloc(1024 * 1024, 0x41)])), /no audio frame/);
    // WAV: a fmt with no channels; a byte rate that is not rate × block align.
    const wav = audioFile('wav', { seconds: 1 });
    const fmt = Buffer.from(wav).indexOf('fmt ');
    const noChannels = Buffer.from(wav);
    noChannels.writeUInt16LE(0, fmt + 8 + 2);
    refused(await inspect(noChannels), /no channels/);
    const fastRate = Buffer.from(wav);
    fastRate.writeUInt32LE(1, fmt + 8 + 8);
    refused(await inspect(fastRate), /byte rate/);
    // WAV: a data size of 0 (never finalised) runs to the end of the file.
    const open = Buffer.from(wav);
    open.writeUInt32LE(0, open.indexOf('data') + 4);
    const unfinished = await inspect(open);
    assert.ok(!(unfinished instanceof HttpProblem) && Math.abs(unfinished.duration! - 1) < 0.01, JSON.stringify(unfinished));
    // AIFF: frames announced without any SSND; a sample rate of 0.001 Hz.
    const aiff = Buffer.from(audioFile('aiff', { seconds: 1 }));
    const ssnd = aiff.indexOf('SSND');
    refused(await inspect(aiff.subarray(0, ssnd)), /no SSND/);
    const slow = Buffer.from(aiff);
    slow.set([0x3f, 0xf5, 0x83, 0x12, 0x6e, 0x97, 0x8d, 0x4f, 0xe0, 0x00], aiff.indexOf('COMM') + 8 + 8); // 0.001 as an 80-bit float
    refused(await inspect(slow), /plausible sample rate/);
  });
});
