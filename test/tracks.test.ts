/**
 * The tracks plugin through HTTP (inject), on real PostgreSQL with the real auth, artists, audit,
 * email (SMTP to a test mailbox) and storage (local driver) plugins: uploads of every format, the
 * format sniffed from the bytes whatever the client declares, every refusal (401, 403, 415, 422,
 * 400, 413 by length, a storage error) leaving no row and no file, parts in either order, the
 * listing with its filters and cursors, detail / edit / delete with their owner rules, downloads
 * through a signed URL, admin review with its email and audit entry, and the upload rate-limit
 * group. Streaming over a socket (200 MiB, 413 while streaming, disconnects) is in
 * tracks-stream.test.ts; the S3 driver against radosgw in tracks-s3.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configure } from '../core/index.ts';
import { ratelimitPlugin } from '../plugins/ratelimit/index.ts';
import type { Track } from '../plugins/tracks/contract.ts';
import { audioFile, fileDurationSeconds, type AudioFormat } from './support/audio-fixtures.ts';
import { expectProblem, type ProblemJson } from './support/expect-problem.ts';
import { metadata, multipart, startWorld, trackParts, uploadHeaders, type Part, type User, type World } from './support/tracks-world.ts';
import { until } from './support/until.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const SIGNING_KEY = 'tracks-test-signing-key-0123456789-abcdefghij';
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(4096)]);

async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('tracks plugin', () => {
  let dir: string;
  let w: World;
  let artist: User;
  let other: User;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'empulse-tracks-'));
    w = await startWorld({
      storage: { driver: 'local', dir, signingKey: SIGNING_KEY },
      tracks: { maxBytes: 4 * 1024 * 1024 },
      // This file's artists upload more than the declared 30 an hour; the limit itself is tested below.
      extra: [configure(ratelimitPlugin, { backend: 'memory', policies: { 'tracks.upload': { limit: 1000 } } })],
    });
    artist = await w.newArtist('artist');
    other = await w.newArtist('other');
  });
  after(async () => {
    await w?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (user: User, parts: readonly Part[], headers: Record<string, string> = {}) =>
    w.t.inject({ method: 'POST', url: '/v1/tracks', headers: uploadHeaders(user, headers), payload: multipart(parts) });
  const upload = async (user: User, audio: Uint8Array = audioFile('wav'), meta: object = metadata()): Promise<Track> => {
    const res = await post(user, trackParts(audio, meta));
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as Track;
  };

  /** Runs `refused` and checks the store is as it was: same rows, same files (temporary ones included). */
  async function leavesNothing(refused: () => Promise<ProblemJson | void>): Promise<ProblemJson | void> {
    const rows = (await w.rows()).length;
    const files = await filesIn(dir);
    const result = await refused();
    await until('the store to be as before', async () => (await filesIn(dir)).length === files.length, 5000);
    assert.deepEqual(await filesIn(dir), files);
    assert.equal((await w.rows()).length, rows);
    return result;
  }

  /** Runs `run` while PostgreSQL refuses inserts into `table` that match `when` (a trigger raising). */
  async function refusingInserts(table: string, when: string, run: () => Promise<void>): Promise<void> {
    await w.sql().execute(`create function tracks_test_refuse() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`);
    await w.sql().execute(`create trigger tracks_test_refuse before insert on ${table} for each row when (${when}) execute function tracks_test_refuse()`);
    try {
      await run();
    } finally {
      await w.sql().execute(`drop trigger tracks_test_refuse on ${table}`);
      await w.sql().execute('drop function tracks_test_refuse()');
    }
  }

  describe('POST /v1/tracks', () => {
    const cases: readonly { file: AudioFormat; format: Track['format']; contentType: string; options?: { id3Bytes: number } }[] = [
      { file: 'wav', format: 'wav', contentType: 'audio/wav' },
      { file: 'rf64', format: 'wav', contentType: 'audio/wav' },
      { file: 'aiff', format: 'aiff', contentType: 'audio/aiff' },
      { file: 'aifc', format: 'aiff', contentType: 'audio/aiff' },
      { file: 'flac', format: 'flac', contentType: 'audio/flac' },
      { file: 'mp3', format: 'mp3', contentType: 'audio/mpeg' },
      // A tag far larger than the first read (cover art): the frames are found where it ends.
      { file: 'mp3', format: 'mp3', contentType: 'audio/mpeg', options: { id3Bytes: 3 * 1024 * 1024 } },
    ];
    for (const c of cases) {
      it(`stores a ${c.file}${c.options ? ' with a 3 MiB ID3 tag' : ''} as ${c.format}, with its size, SHA-256 and duration`, async () => {
        const audio = audioFile(c.file, { seconds: 2, ...c.options });
        // Declared as something else entirely: only the bytes count.
        const res = await post(artist, [
          { name: 'metadata', value: JSON.stringify(metadata()) },
          { name: 'audio', filename: 'master.bin', data: audio, contentType: 'image/png' },
        ]);
        assert.equal(res.statusCode, 201, res.body);
        const track = res.json() as Track;
        assert.equal(res.headers.location, `/v1/tracks/${track.id}`);
        assert.equal(track.format, c.format);
        assert.equal(track.contentType, c.contentType);
        assert.equal(track.sizeBytes, audio.byteLength);
        assert.equal(track.sha256, sha256(audio));
        assert.equal(track.status, 'submitted');
        assert.equal(track.artistId, artist.id);
        assert.equal(track.isrc, 'USS1Z2600001', 'hyphens and lower case dropped');
        assert.deepEqual(
          { title: track.title, artists: track.artists, genre: track.genre, explicit: track.explicit, releaseDate: track.releaseDate },
          { title: 'Night Drive', artists: ['Stage artist', 'Guest'], genre: 'Electronic', explicit: false, releaseDate: '2027-03-01' },
        );
        assert.ok(Math.abs(track.durationSeconds! - fileDurationSeconds(c.file, { seconds: 2, ...c.options })) < 0.01, `duration ${track.durationSeconds}`);
        // The stored file holds exactly the bytes sent.
        const stored = (await w.rows()).find((r) => r.id === track.id)!;
        assert.match(stored.storage_key, new RegExp(`^tracks/${artist.id}/[0-9a-f-]+\\.${c.format}$`));
      });
    }

    it('takes the audio before the metadata as well', async () => {
      const audio = audioFile('flac');
      const res = await post(artist, [...trackParts(audio)].reverse());
      assert.equal(res.statusCode, 201, res.body);
      assert.equal((res.json() as Track).sha256, sha256(audio));
    });

    it('takes a metadata part sent as a file (curl -F metadata=@track.json)', async () => {
      const res = await post(artist, [
        { name: 'metadata', filename: 'track.json', data: Buffer.from(JSON.stringify(metadata({ isrc: null }), null, 2)), contentType: 'application/json' },
        { name: 'audio', filename: 'a.wav', data: audioFile('wav') },
      ]);
      assert.equal(res.statusCode, 201, res.body);
      assert.equal((res.json() as Track).isrc, null);
    });

    it('checks X-Content-SHA256: the right digest passes, another is 400 checksum_mismatch and stores nothing', async () => {
      const audio = audioFile('wav');
      const ok = await post(artist, trackParts(audio), { 'x-content-sha256': sha256(audio).toUpperCase() });
      assert.equal(ok.statusCode, 201, ok.body);
      await leavesNothing(async () => {
        expectProblem(await post(artist, trackParts(audio), { 'x-content-sha256': sha256(Buffer.from('other')) }), 400, 'checksum_mismatch');
      });
      const malformed = expectProblem(await post(artist, trackParts(audio), { 'x-content-sha256': 'abc' }), 422, 'validation_failed');
      assert.equal(malformed.errors?.[0]?.path, 'X-Content-SHA256');
    });

    it('refuses a file that is not audio (by its bytes) with 415, storing nothing', async () => {
      await leavesNothing(async () => {
        const res = await post(artist, trackParts(PNG, metadata(), 'song.wav'));
        expectProblem(res, 415, 'unsupported_media_type');
      });
      // Random bytes after a RIFF header that is not WAVE, and an empty file.
      const riffAvi = Uint8Array.from([...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('AVI '), ...randomBytes(64)]);
      for (const bytes of [riffAvi, new Uint8Array(0)]) {
        await leavesNothing(async () => void expectProblem(await post(artist, trackParts(bytes)), 415, 'unsupported_media_type'));
      }
    });

    it('refuses an ID3 tag not followed by MPEG frames with 415 once it ends, removing what was stored meanwhile', async () => {
      const mp3 = audioFile('mp3', { id3Bytes: 1024 * 1024 });
      const tagEnd = mp3.byteLength - audioFile('mp3').byteLength;
      const forged = Buffer.concat([mp3.subarray(0, tagEnd), randomBytes(64 * 1024)]);
      await leavesNothing(async () => void expectProblem(await post(artist, trackParts(forged)), 415, 'unsupported_media_type'));
    });

    it('refuses a body that is not multipart with 415', async () => {
      const res = await w.t.inject({ method: 'POST', url: '/v1/tracks', headers: artist.headers, payload: metadata() });
      expectProblem(res, 415, 'unsupported_media_type');
    });

    it('refuses bad metadata sent first before looking at the audio (422, not 415 for the PNG that follows)', async () => {
      await leavesNothing(async () => {
        const body = expectProblem(await post(artist, trackParts(PNG, metadata({ isrc: 'NOT-AN-ISRC', title: '' }))), 422, 'validation_failed');
        assert.deepEqual(body.errors?.map((e) => e.path).sort(), ['metadata.isrc', 'metadata.title']);
      });
    });

    it('removes the stored audio when the metadata after it is bad', async () => {
      await leavesNothing(async () => {
        const parts = [...trackParts(audioFile('wav'), metadata({ explicit: 'yes', releasedate: '2027-01-01' }))].reverse();
        const body = expectProblem(await post(artist, parts), 422, 'validation_failed');
        assert.deepEqual(body.errors?.map((e) => e.path).sort(), ['metadata.explicit', 'metadata.releasedate']);
      });
    });

    it('names each missing or malformed part (422), storing nothing', async () => {
      const audio = audioFile('wav');
      const expectations: readonly [Part[], string, RegExp][] = [
        [[{ name: 'audio', filename: 'a.wav', data: audio }], 'metadata', /required/],
        [[{ name: 'metadata', value: JSON.stringify(metadata()) }], 'audio', /required/],
        [[{ name: 'metadata', value: '{"title": ' }, { name: 'audio', filename: 'a.wav', data: audio }], 'metadata', /JSON/],
        [[{ name: 'metadata', value: '[1, 2]' }, { name: 'audio', filename: 'a.wav', data: audio }], 'metadata', /object/],
        [[{ name: 'metadata', value: JSON.stringify(metadata()) }, { name: 'audio', value: 'not a file' }], 'audio', /file part/],
        [[{ name: 'cover', filename: 'c.png', data: PNG }, ...trackParts(audio)], 'cover', /not a part/],
        [[...trackParts(audio), { name: 'audio', filename: 'b.wav', data: audio }], 'audio', /once/],
        [trackParts(audio, metadata({ releaseDate: '2027-02-30' })), 'metadata.releaseDate', /exists/],
        // PostgreSQL has no year 0: refused as a value, not a 500.
        [trackParts(audio, metadata({ releaseDate: '0000-01-01' })), 'metadata.releaseDate', /between 1850 and 2199/],
        [trackParts(audio, metadata({ artists: [] })), 'metadata.artists', /at least one/],
        [trackParts(audio, metadata({ title: 'bell\u0007' })), 'metadata.title', /control/],
      ];
      for (const [parts, path, message] of expectations) {
        await leavesNothing(async () => {
          const body = expectProblem(await post(artist, parts), 422, 'validation_failed');
          const error = body.errors?.find((e) => e.path === path);
          assert.ok(error, `${path} in ${JSON.stringify(body.errors)}`);
          assert.match(error.message, message);
        });
      }
    });

    it('refuses a metadata part over 16 KiB with 413, as a text field or as a file', async () => {
      const long = JSON.stringify(metadata({ genre: 'x'.repeat(17 * 1024) }));
      for (const part of [{ name: 'metadata', value: long }, { name: 'metadata', filename: 'm.json', data: Buffer.from(long) }] as Part[]) {
        await leavesNothing(async () => void expectProblem(await post(artist, [part, { name: 'audio', filename: 'a.wav', data: audioFile('wav') }]), 413, 'payload_too_large'));
      }
    });

    it('refuses a broken multipart body with 400 malformed_body, storing nothing', async () => {
      const whole = multipart(trackParts(audioFile('wav')));
      // Cut short inside the audio part: no closing boundary ever comes.
      const cut = whole.subarray(0, whole.byteLength - 5000);
      await leavesNothing(async () => {
        const res = await w.t.inject({ method: 'POST', url: '/v1/tracks', headers: uploadHeaders(artist), payload: cut });
        expectProblem(res, 400, 'malformed_body');
      });
    });

    it('refuses a body whose declared length is over TRACK_MAX_BYTES with 413 before reading it', async () => {
      const big = new Uint8Array(5 * 1024 * 1024);
      big.set(audioFile('wav').subarray(0, 44));
      await leavesNothing(async () => void expectProblem(await post(artist, trackParts(big)), 413, 'payload_too_large'));
    });

    it('answers 401 without a session and 403 artist_not_approved to users who are not approved artists', async () => {
      expectProblem(await w.t.inject({ method: 'POST', url: '/v1/tracks', headers: { 'content-type': 'multipart/form-data; boundary=x' }, payload: '' }), 401, 'unauthenticated');
      const plain = await w.newUser('plain');
      await leavesNothing(async () => void expectProblem(await post(plain, trackParts(audioFile('wav'))), 403, 'artist_not_approved'));
      const pending = await w.newUser('pending');
      await w.t.inject({ method: 'PUT', url: '/v1/artists/me', headers: pending.headers, payload: { stageName: 'Pending' } });
      await leavesNothing(async () => void expectProblem(await post(pending, trackParts(audioFile('wav'))), 403, 'artist_not_approved'));
    });

    it('leaves no row and no file when the store fails', async () => {
      const victim = await w.newArtist('victim');
      // The artist's folder is a file: the local driver cannot write under it.
      await writeFile(join(dir, 'tracks', victim.id), 'in the way');
      try {
        const rows = (await w.rows()).length;
        const res = await post(victim, trackParts(audioFile('wav')));
        assert.ok(res.statusCode >= 500, `${res.statusCode} ${res.body}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        assert.equal((await w.rows()).length, rows);
      } finally {
        await rm(join(dir, 'tracks', victim.id));
      }
      assert.equal((await post(victim, trackParts(audioFile('wav')))).statusCode, 201);
    });
  });

  it('removes the stored audio when the row cannot be inserted', async () => {
    await leavesNothing(async () => {
      await refusingInserts('tracks_submissions', `new.title = 'Doomed'`, async () => {
        const res = await post(artist, trackParts(audioFile('flac'), metadata({ title: 'Doomed' })));
        const problem = expectProblem(res, 500, 'internal_error');
        assert.doesNotMatch(JSON.stringify(problem), /refused by the test|tracks_submissions/, 'no database message leaks');
      });
    });
  });

  it('undoes an upload whose answer was cut by the time budget while its row committed', async () => {
    const slowDir = await mkdtemp(join(tmpdir(), 'empulse-tracks-slow-'));
    const slow = await startWorld({ storage: { driver: 'local', dir: slowDir, signingKey: SIGNING_KEY }, tracks: { uploadTimeoutMs: 1000 } });
    try {
      const user = await slow.newArtist('slow');
      // The commit takes 1.5 s (a deferred trigger), past the route's 1 s budget.
      await slow.sql().execute(`create function tracks_test_slow() returns trigger language plpgsql as $$ begin perform pg_sleep(1.5); return null; end $$`);
      await slow.sql().execute(
        `create constraint trigger tracks_test_slow after insert on tracks_submissions deferrable initially deferred for each row execute function tracks_test_slow()`,
      );
      const res = await slow.t.inject({ method: 'POST', url: '/v1/tracks', headers: uploadHeaders(user), payload: multipart(trackParts(audioFile('wav'))) });
      expectProblem(res, 503, 'request_timeout');
      await until('the upload to be undone', async () => (await slow.rows()).length === 0 && (await filesIn(slowDir)).length === 0, 10_000);
    } finally {
      await slow.close();
      await rm(slowDir, { recursive: true, force: true });
    }
  });

  describe('reading, editing and deleting', () => {
    it('lists own tracks newest first; admins see all, filtered by artist and status; cursors walk every page once', async () => {
      const a = await w.newArtist('lister-a');
      const b = await w.newArtist('lister-b');
      const mine: Track[] = [];
      for (let i = 0; i < 3; i++) mine.push(await upload(a, audioFile('wav'), metadata({ title: `A${i}` })));
      const theirs = await upload(b);
      const page = async (user: User, query: string) => {
        const res = await w.t.inject({ method: 'GET', url: `/v1/tracks${query}`, headers: user.headers });
        assert.equal(res.statusCode, 200, res.body);
        return res.json() as { items: Track[]; nextCursor: string | null };
      };
      const own = await page(a, '');
      assert.deepEqual(own.items.map((t) => t.id), mine.map((t) => t.id).reverse());
      // An artist asking for another artist's tracks gets none of them.
      assert.deepEqual((await page(a, `?artistId=${b.id}`)).items, []);
      // Cursor walk, one per page.
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const p: { items: Track[]; nextCursor: string | null } = await page(a, `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        walked.push(...p.items.map((t) => t.id));
        cursor = p.nextCursor;
      } while (cursor);
      assert.deepEqual(walked, mine.map((t) => t.id).reverse());
      // A cursor is tied to its filters (and to its reader).
      const first = await page(a, '?limit=1');
      for (const [user, query] of [[a, '&status=approved'], [b, '']] as const) {
        const res = await w.t.inject({ method: 'GET', url: `/v1/tracks?limit=1${query}&cursor=${encodeURIComponent(first.nextCursor!)}`, headers: user.headers });
        assert.equal(expectProblem(res, 422, 'validation_failed').errors?.[0]?.path, 'cursor');
      }
      // Admins: everything, or one artist.
      const all = await page(w.admin, '?limit=100');
      assert.ok(all.items.some((t) => t.id === theirs.id) && all.items.some((t) => t.id === mine[0]!.id));
      assert.deepEqual((await page(w.admin, `?artistId=${b.id}`)).items.map((t) => t.id), [theirs.id]);
      // Status filter.
      const approved = await w.t.inject({ method: 'POST', url: `/v1/admin/tracks/${mine[1]!.id}/approve`, headers: w.admin.headers });
      assert.equal(approved.statusCode, 200, approved.body);
      assert.deepEqual((await page(a, '?status=approved')).items.map((t) => t.id), [mine[1]!.id]);
      assert.deepEqual((await page(a, '?status=submitted')).items.map((t) => t.id), [mine[2]!.id, mine[0]!.id]);
      expectProblem(await w.t.inject({ method: 'GET', url: '/v1/tracks?status=live', headers: a.headers }), 422, 'validation_failed');
      expectProblem(await w.t.inject({ method: 'GET', url: '/v1/tracks' }), 401, 'unauthenticated');
    });

    it("shows a track to its artist and to admins; another artist's is 404, like an unknown id", async () => {
      const track = await upload(artist);
      const get = (user: User, id: string) => w.t.inject({ method: 'GET', url: `/v1/tracks/${id}`, headers: user.headers });
      assert.deepEqual((await get(artist, track.id)).json(), track);
      assert.equal((await get(w.admin, track.id)).statusCode, 200);
      expectProblem(await get(other, track.id), 404, 'not_found');
      expectProblem(await get(other, '00000000-0000-4000-8000-000000000000'), 404, 'not_found');
      expectProblem(await get(other, 'not-a-uuid'), 404, 'not_found');
      expectProblem(await w.t.inject({ method: 'GET', url: `/v1/tracks/${track.id}/audio`, headers: other.headers }), 404, 'not_found');
    });

    it('downloads through a short-lived signed URL with exactly the bytes uploaded', async () => {
      const audio = audioFile('aiff', { seconds: 1 });
      const track = await upload(artist, audio, metadata({ title: 'Süße "Nacht"' }));
      const res = await w.t.inject({ method: 'GET', url: `/v1/tracks/${track.id}/audio`, headers: artist.headers });
      assert.equal(res.statusCode, 302, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const location = new URL(String(res.headers.location));
      const expires = Number(location.searchParams.get('expires'));
      assert.ok(expires - Date.now() / 1000 <= 900 && expires > Date.now() / 1000, `expires ${expires}`);
      const download = await w.t.inject({ method: 'GET', url: `${location.pathname}${location.search}` });
      assert.equal(download.statusCode, 200);
      assert.equal(download.headers['content-type'], 'audio/aiff');
      assert.match(String(download.headers['content-disposition']), /^attachment; filename="S__e _Nacht_\.aiff"; filename\*=UTF-8''S%C3%BC%C3%9Fe%20%22Nacht%22\.aiff$/);
      assert.equal(sha256(download.rawPayload), track.sha256);
      assert.equal(sha256(download.rawPayload), sha256(audio));
      // The admin reviewing it downloads it too.
      assert.equal((await w.t.inject({ method: 'GET', url: `/v1/tracks/${track.id}/audio`, headers: w.admin.headers })).statusCode, 302);
    });

    it('edits metadata while submitted (its artist only), then refuses with 409 once reviewed', async () => {
      const track = await upload(artist);
      const patch = (user: User, payload: object, id = track.id) => w.t.inject({ method: 'PATCH', url: `/v1/tracks/${id}`, headers: user.headers, payload });
      const res = await patch(artist, { title: 'Night Drive (Extended)', isrc: null, releaseDate: null, artists: ['Solo'] });
      assert.equal(res.statusCode, 200, res.body);
      const edited = res.json() as Track;
      assert.deepEqual(
        { title: edited.title, isrc: edited.isrc, releaseDate: edited.releaseDate, artists: edited.artists, genre: edited.genre, sha256: edited.sha256 },
        { title: 'Night Drive (Extended)', isrc: null, releaseDate: null, artists: ['Solo'], genre: 'Electronic', sha256: track.sha256 },
      );
      assert.ok(edited.updatedAt > track.updatedAt);
      expectProblem(await patch(other, { title: 'Mine now' }), 404, 'not_found');
      expectProblem(await patch(w.admin, { title: 'Admin edit' }), 403, 'forbidden');
      const invalid = expectProblem(await patch(artist, { status: 'approved' }), 422, 'validation_failed');
      assert.equal(invalid.errors?.[0]?.path, 'status');
      expectProblem(await patch(artist, {}), 422, 'validation_failed');
      expectProblem(await patch(artist, { isrc: 'XX' }), 422, 'validation_failed');
      assert.equal((await w.t.inject({ method: 'POST', url: `/v1/admin/tracks/${track.id}/approve`, headers: w.admin.headers })).statusCode, 200);
      expectProblem(await patch(artist, { title: 'Too late' }), 409, 'invalid_transition');
      expectProblem(await patch(artist, { title: 'Nobody' }, '00000000-0000-4000-8000-000000000000'), 404, 'not_found');
    });

    it('deletes a submitted track with its file (its artist only); a reviewed one is 409', async () => {
      const track = await upload(artist);
      const key = (await w.rows()).find((r) => r.id === track.id)!.storage_key;
      const del = (user: User, id = track.id) => w.t.inject({ method: 'DELETE', url: `/v1/tracks/${id}`, headers: user.headers });
      expectProblem(await del(other), 404, 'not_found');
      expectProblem(await del(w.admin), 403, 'forbidden');
      assert.ok((await filesIn(dir)).some((f) => f.endsWith(key.split('/').pop()!)));
      const res = await del(artist);
      assert.equal(res.statusCode, 204, res.body);
      assert.ok(!(await w.rows()).some((r) => r.id === track.id));
      assert.ok(!(await filesIn(dir)).some((f) => f.endsWith(key.split('/').pop()!)), 'the file is gone');
      expectProblem(await del(artist), 404, 'not_found');
      const reviewed = await upload(artist);
      const rejected = await w.t.inject({ method: 'POST', url: `/v1/admin/tracks/${reviewed.id}/reject`, headers: w.admin.headers, payload: { reason: 'Clipping' } });
      assert.equal(rejected.statusCode, 200, rejected.body);
      expectProblem(await del(artist, reviewed.id), 409, 'invalid_transition');
    });
  });

  describe('admin review', () => {
    const review = (by: User, id: string, decision: 'approve' | 'reject', payload?: object) =>
      w.t.inject({ method: 'POST', url: `/v1/admin/tracks/${id}/${decision}`, headers: by.headers, ...(payload && { payload }) });
    const auditOf = async (id: string) =>
      (await w.sql().execute('select action, actor_id, target_type, reason, details from audit_entries where target_id = ? order by seq', [id], 'all')) as {
        action: string;
        actor_id: string;
        target_type: string;
        reason: string | null;
        details: Record<string, unknown>;
      }[];

    it('approves with an email to the artist and one audit entry; a second review is 409', async () => {
      const track = await upload(artist, audioFile('wav'), metadata({ title: 'Approve me' }));
      const res = await review(w.admin, track.id, 'approve', { reason: 'Great master' });
      assert.equal(res.statusCode, 200, res.body);
      const approved = res.json() as Track;
      assert.equal(approved.status, 'approved');
      assert.equal(approved.reviewReason, 'Great master');
      const mail = await w.mailbox.waitFor(artist.email, /"Approve me" is approved/);
      assert.match(mail.text ?? '', /Great master/);
      assert.deepEqual(await auditOf(track.id), [
        { action: 'track.approved', actor_id: w.admin.id, target_type: 'track', reason: 'Great master', details: { artistId: artist.id, title: 'Approve me', sha256: track.sha256 } },
      ]);
      expectProblem(await review(w.admin, track.id, 'reject', { reason: 'Changed my mind' }), 409, 'invalid_transition');
      assert.equal((await auditOf(track.id)).length, 1, 'a refused review leaves no entry');
    });

    it('rejects with a required reason, emailed to the artist', async () => {
      const track = await upload(artist, audioFile('wav'), metadata({ title: 'Reject me' }));
      const missing = expectProblem(await review(w.admin, track.id, 'reject', {}), 422, 'validation_failed');
      assert.equal(missing.errors?.[0]?.path, 'reason');
      const res = await review(w.admin, track.id, 'reject', { reason: 'The master clips at 1:02.' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((res.json() as Track).status, 'rejected');
      const mail = await w.mailbox.waitFor(artist.email, /"Reject me" was not approved/);
      assert.match(mail.text ?? '', /The master clips at 1:02\./);
      assert.deepEqual((await auditOf(track.id)).map((e) => [e.action, e.reason]), [['track.rejected', 'The master clips at 1:02.']]);
    });

    it('is for admins only (403 before the body is looked at), and 404 for unknown tracks', async () => {
      const track = await upload(artist);
      expectProblem(await review(artist, track.id, 'approve'), 403, 'forbidden');
      expectProblem(await review(artist, track.id, 'reject', {}), 403, 'forbidden');
      expectProblem(await review(w.admin, '00000000-0000-4000-8000-000000000000', 'approve'), 404, 'not_found');
      expectProblem(await review(w.admin, 'nope', 'approve'), 404, 'not_found');
      assert.deepEqual(await auditOf(track.id), []);
    });

    it('rolls back the approval and its audit entry when the email cannot be queued', async () => {
      const track = await upload(artist, audioFile('wav'), metadata({ title: 'Mail fails' }));
      await refusingInserts('email_outbox', `new.template like 'tracks.%'`, async () => {
        expectProblem(await review(w.admin, track.id, 'approve'), 500, 'internal_error');
      });
      const current = (await w.t.inject({ method: 'GET', url: `/v1/tracks/${track.id}`, headers: artist.headers })).json() as Track;
      assert.equal(current.status, 'submitted');
      assert.deepEqual(await auditOf(track.id), [], 'the entry was written, then rolled back with the approval');
      assert.equal((await review(w.admin, track.id, 'approve')).statusCode, 200, 'nothing is stuck');
      await w.mailbox.waitFor(artist.email, /"Mail fails" is approved/);
    });

    it('rolls back the rejection and sends nothing when the audit entry cannot be written', async () => {
      const track = await upload(artist, audioFile('wav'), metadata({ title: 'Audit fails' }));
      const rejections = async () =>
        ((await w.sql().execute(`select count(*)::int as n from email_outbox where template = 'tracks.rejected' and recipient = ?`, [artist.email], 'get')) as { n: number }).n;
      const before = await rejections();
      await refusingInserts('audit_entries', `new.action like 'track.%'`, async () => {
        expectProblem(await review(w.admin, track.id, 'reject', { reason: 'no' }), 500, 'internal_error');
      });
      const current = (await w.t.inject({ method: 'GET', url: `/v1/tracks/${track.id}`, headers: artist.headers })).json() as Track;
      assert.equal(current.status, 'submitted');
      assert.equal(await rejections(), before, 'no rejection email queued');
    });

    it('lets one of two simultaneous reviews win; the other is 409 and leaves no entry', async () => {
      const track = await upload(artist);
      const answers = await Promise.all([review(w.admin, track.id, 'approve'), review(w.admin, track.id, 'reject', { reason: 'No' })]);
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 409]);
      assert.equal((await auditOf(track.id)).length, 1);
    });
  });

  it('counts uploads in their own rate-limit group (tracks.upload), per user, declared as 30 an hour', async () => {
    const declared = await post(artist, trackParts(audioFile('wav')));
    assert.equal(declared.headers['ratelimit-policy'], '"tracks.upload";q=1000;w=3600', 'the operator override of the declared 30/3600 s');
    // A world whose operator lowered the group to 2: the third upload of one artist is 429, another artist and reading are not counted.
    const limitedDir = await mkdtemp(join(tmpdir(), 'empulse-tracks-limited-'));
    const limited = await startWorld({
      storage: { driver: 'local', dir: limitedDir, signingKey: SIGNING_KEY },
      extra: [configure(ratelimitPlugin, { backend: 'memory', policies: { 'tracks.upload': { limit: 2 } } })],
    });
    try {
      const [one, two] = [await limited.newArtist('one'), await limited.newArtist('two')];
      const send = (user: User) => limited.t.inject({ method: 'POST', url: '/v1/tracks', headers: uploadHeaders(user), payload: multipart(trackParts(audioFile('wav'))) });
      for (let i = 0; i < 2; i++) {
        const res = await send(one);
        assert.equal(res.statusCode, 201, res.body);
        assert.equal(res.headers['ratelimit-policy'], '"tracks.upload";q=2;w=3600');
        const listed = await limited.t.inject({ method: 'GET', url: '/v1/tracks', headers: one.headers });
        assert.equal(listed.headers['ratelimit-policy'], '"default";q=600;w=60', 'reading is not in the upload group');
      }
      const refused = await send(one);
      expectProblem(refused, 429, 'rate_limited');
      assert.ok(Number(refused.headers['retry-after']) > 0);
      assert.equal((await limited.rows()).length, 2, 'the refused upload stored nothing');
      assert.equal((await send(two)).statusCode, 201, 'another artist has their own budget');
    } finally {
      await limited.close();
      await rm(limitedDir, { recursive: true, force: true });
    }
  });
});
