/**
 * A test kernel with everything the tracks plugin stands on (auth, email over SMTP to a test
 * mailbox, audit, artists, storage as configured, tracks, optionally ratelimit), an admin, and
 * helpers to make approved artists and to send uploads: whole bodies through inject, or streamed
 * over a real socket (`serveWorld` + `streamUpload`) where chunking, size and disconnects matter.
 */
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { configure, type ConfiguredPlugin, type Plugin, type SqlExecutor } from '../../core/index.ts';
import { createTestKernel, type TestKernel } from '../../host/testing.ts';
import { artistsPlugin } from '../../plugins/artists/index.ts';
import { auditPlugin } from '../../plugins/audit/index.ts';
import { authServiceRef } from '../../plugins/auth/contract.ts';
import { authPlugin } from '../../plugins/auth/index.ts';
import { emailPlugin } from '../../plugins/email/index.ts';
import { storagePlugin } from '../../plugins/storage/index.ts';
import { tracksPlugin } from '../../plugins/tracks/index.ts';
import { signedInUser, type SignedInUser } from './accounts.ts';
import { startMailbox, type Mailbox } from './mailbox.ts';

export const APP = 'https://app.empulse.test';
const JWT_SECRET = 'tracks-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';

export type User = SignedInUser;

type StorageOptions = Parameters<typeof configure<typeof storagePlugin>>[1];
type TracksOptions = Parameters<typeof configure<typeof tracksPlugin>>[1];

export interface WorldOptions {
  readonly storage: StorageOptions;
  readonly tracks?: TracksOptions;
  /** More plugins (e.g. ratelimit, configured). */
  readonly extra?: readonly (Plugin | ConfiguredPlugin)[];
}

export interface World {
  readonly t: TestKernel;
  readonly mailbox: Mailbox;
  readonly admin: User;
  /** A verified, logged-in user with the default role. */
  newUser(label: string): Promise<User>;
  /** A user whose artist application an admin approved. */
  newArtist(label: string): Promise<User>;
  sql(): SqlExecutor;
  /** Every row of the tracks table (id, artist_id, storage_key, status). */
  rows(): Promise<{ id: string; artist_id: string; storage_key: string; status: string }[]>;
  close(): Promise<void>;
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const mailbox = await startMailbox();
  const t = await createTestKernel({
    plugins: [
      authPlugin,
      configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 }),
      auditPlugin,
      artistsPlugin,
      configure(storagePlugin, options.storage),
      options.tracks ? configure(tracksPlugin, options.tracks) : tracksPlugin,
      ...(options.extra ?? []),
    ],
    env: { JWT_SECRET },
  }).catch(async (err: unknown) => {
    await mailbox.close();
    throw err;
  });
  let users = 0;

  const newUser = (label: string): Promise<User> =>
    signedInUser(t, mailbox, { email: `${label}-${++users}@example.test`, password: PASSWORD, displayName: `User ${label}`, appUrl: APP });


  const admin = await newUser('admin');
  const promoted = await t.kernel.database.transactional((em) => t.service(authServiceRef).setRole(admin.id, 'admin', { em }));
  assert.equal(promoted.outcome, 'changed');

  async function newArtist(label: string): Promise<User> {
    const user = await newUser(label);
    const applied = await t.inject({ method: 'PUT', url: '/v1/artists/me', headers: user.headers, payload: { stageName: `Stage ${label}` } });
    assert.equal(applied.statusCode, 200, applied.body);
    const approved = await t.inject({ method: 'POST', url: `/v1/admin/artists/${user.id}/approve`, headers: admin.headers });
    assert.equal(approved.statusCode, 200, approved.body);
    await mailbox.waitFor(user.email, /approved/);
    return user;
  }

  const sql = (): SqlExecutor => t.kernel.database.orm.em.getConnection();
  return {
    t,
    mailbox,
    admin,
    newUser,
    newArtist,
    sql,
    rows: async () =>
      (await sql().execute('select id, artist_id, storage_key, status from tracks_submissions order by created_at', [], 'all')) as {
        id: string;
        artist_id: string;
        storage_key: string;
        status: string;
      }[],
    close: async () => {
      await t.close();
      await mailbox.close();
    },
  };
}

/** A track's metadata as a client sends it. */
export const metadata = (overrides: Record<string, unknown> = {}) => ({
  title: 'Night Drive',
  artists: ['Stage artist', 'Guest'],
  isrc: 'us-s1z-26-00001',
  genre: 'Electronic',
  explicit: false,
  releaseDate: '2027-03-01',
  ...overrides,
});

export type Part =
  | { readonly name: string; readonly value: string; readonly contentType?: string }
  | { readonly name: string; readonly filename: string; readonly data: Uint8Array; readonly contentType?: string };

export const BOUNDARY = '----empulse-tracks-test-4f1c';

/** A whole multipart/form-data body, parts in the order given. */
export function multipart(parts: readonly Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      'filename' in part ? `form-data; name="${part.name}"; filename="${part.filename}"` : `form-data; name="${part.name}"`;
    const type = part.contentType ?? ('filename' in part ? 'application/octet-stream' : undefined);
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n`));
    chunks.push('filename' in part ? Buffer.from(part.data) : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export const uploadHeaders = (user: User, extra: Record<string, string> = {}) => ({
  ...user.headers,
  'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
  ...extra,
});

/** The usual upload: metadata first, then the audio. */
export function trackParts(audio: Uint8Array, meta: object = metadata(), filename = 'master.wav'): Part[] {
  return [
    { name: 'metadata', value: JSON.stringify(meta), contentType: 'application/json' },
    { name: 'audio', filename, data: audio, contentType: 'audio/wav' },
  ];
}

export interface StreamedUpload {
  /** The request, to destroy it midway. */
  readonly request: ClientRequest;
  /** Resolves with the answer; rejects when the connection breaks first. */
  readonly answer: Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
  /** Resolves when the whole body has been written (or the request was destroyed). */
  readonly sent: Promise<number>;
}

/**
 * Streams `POST /v1/tracks` over a real socket, chunked (no Content-Length): the metadata part,
 * then the audio from `audio` as it is read, then the closing boundary. `stopAfterBytes` destroys
 * the connection once that many audio bytes have been written (a client that goes away).
 */
export function streamUpload(
  baseUrl: string,
  user: User,
  audio: ReadableStream<Uint8Array>,
  options: { meta?: object; headers?: Record<string, string>; stopAfterBytes?: number; onAudioBytes?: (bytes: number) => void } = {},
): StreamedUpload {
  const req = request(`${baseUrl}/v1/tracks`, {
    method: 'POST',
    headers: { ...uploadHeaders(user, options.headers), 'transfer-encoding': 'chunked' },
  });
  const answer = new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
  });
  const sent = (async () => {
    // Waits for 'drain' (or 'close', when the server hangs up), removing whichever did not fire.
    const write = (chunk: Uint8Array | string) =>
      req.destroyed || req.write(chunk)
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const done = () => {
              req.off('drain', done).off('close', done);
              resolve();
            };
            req.once('drain', done).once('close', done);
          });
    await write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(options.meta ?? metadata())}\r\n`);
    await write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="master.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
    let bytes = 0;
    const reader = audio.getReader();
    for (;;) {
      if (req.destroyed) break;
      const { done, value } = await reader.read();
      if (done) break;
      await write(value);
      bytes += value.byteLength;
      options.onAudioBytes?.(bytes);
      if (options.stopAfterBytes !== undefined && bytes >= options.stopAfterBytes) {
        req.destroy();
        break;
      }
    }
    await reader.cancel().catch(() => {});
    if (!req.destroyed) {
      await write(`\r\n--${BOUNDARY}--\r\n`);
      req.end();
    }
    return bytes;
  })();
  // A refused upload closes the connection early: the writer stops, the answer tells.
  sent.catch(() => {});
  answer.catch(() => {});
  return { request: req, answer, sent };
}
