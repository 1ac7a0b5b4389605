/**
 * The server process itself killed with SIGKILL (no drain, no clean-up) in the middle of a track
 * upload and in the middle of sending an email, then started again on the same data: no half
 * object under a final name, no row for the cut upload, the next upload works; the mail whose
 * sending was cut is sent once after the restart (when its lease ends), never twice, never lost.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { createScratchDatabase } from '../../host/testing.ts';
import { audioStream } from '../support/audio-fixtures.ts';
import { startEmpulseServer, type EmpulseServer } from '../support/empulse-server.ts';
import { linkToken, startMailbox, type Mailbox } from '../support/mailbox.ts';
import { projectImport } from '../support/paths.ts';
import { streamUpload, type User } from '../support/tracks-world.ts';
import { until } from '../support/until.ts';
import { reportFault } from './fault-summary.ts';
import { send } from './load.ts';

const MiB = 1024 * 1024;
const APP = 'https://app.empulse.test';
const PASSWORD = 'correct horse battery staple';
// A send gets 1 s; a claimed message's lease is that plus 60 s, after which a restarted server retries it.
const CONFIG = `import { configure, defineConfig } from '${projectImport('core/index.ts')}';
import { healthPlugin } from '${projectImport('plugins/health/index.ts')}';
import { emailPlugin } from '${projectImport('plugins/email/index.ts')}';
import { authPlugin } from '${projectImport('plugins/auth/index.ts')}';
import { auditPlugin } from '${projectImport('plugins/audit/index.ts')}';
import { artistsPlugin } from '${projectImport('plugins/artists/index.ts')}';
import { storagePlugin } from '${projectImport('plugins/storage/index.ts')}';
import { tracksPlugin } from '${projectImport('plugins/tracks/index.ts')}';
export default defineConfig({
  plugins: [healthPlugin, configure(emailPlugin, { pollIntervalMs: 100, sendTimeoutMs: 1000, retryBaseDelayMs: 200 }), authPlugin, auditPlugin, artistsPlugin, storagePlugin, tracksPlugin],
});
`;

/** Every file under `dir`, relative, except the driver's temporary and metadata folders. */
async function objects(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((path) => !path.startsWith('.tmp') && !path.startsWith('.meta'))
    .sort();
}

describe('the server killed with SIGKILL', () => {
  let dir: string;
  let mailbox: Mailbox;
  let databaseUrl: string;
  let drop: () => Promise<void>;
  let server: EmpulseServer | undefined;
  let db: pg.Client;

  const start = async () => {
    server = await startEmpulseServer({
      cwd: dir,
      env: { DATABASE_URL: databaseUrl, DATA_DIR: join(dir, 'data'), JWT_SECRET: 'server-kill-secret-0123456789-abcdefghijklmnopqrstuvw', EMAIL_TRANSPORT: 'smtp', SMTP_URL: mailbox.url, PUBLIC_APP_URL: APP },
    });
    return server;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'empulse-fault-kill-'));
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(dir, 'empulse.config.ts'), CONFIG);
    mailbox = await startMailbox();
    const scratch = await createScratchDatabase();
    databaseUrl = scratch.url;
    drop = scratch.drop;
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
  });
  after(async () => {
    await server?.kill();
    await db?.end();
    await mailbox?.close();
    await drop?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A verified user, logged in; `artist`: promoted to admin-approved artist through the database. */
  const account = async (s: EmpulseServer, email: string): Promise<User> => {
    assert.equal((await send(`${s.url}/v1/auth/register`, { body: { email, password: PASSWORD, displayName: 'Kill' } })).status, 202);
    const token = linkToken(await mailbox.waitFor(email, /Confirm your email/, 20_000), APP, '/verify-email');
    assert.equal((await send(`${s.url}/v1/auth/verify-email`, { body: { token } })).status, 200);
    const login = await send(`${s.url}/v1/auth/login`, { body: { email, password: PASSWORD } });
    const pair = login.body as { accessToken: string; user: { id: string } };
    return { id: pair.user.id, email, headers: { authorization: `Bearer ${pair.accessToken}` } };
  };

  it('mid-upload: no half object under a final name, no row, and the next upload works after the restart', async () => {
    let s = await start();
    const admin = await account(s, 'admin@example.test');
    await db.query("update auth_users set role = 'admin' where id = $1", [admin.id]);
    const artist = await account(s, 'artist@example.test');
    assert.equal((await send(`${s.url}/v1/artists/me`, { method: 'PUT', headers: artist.headers, body: { stageName: 'Killer' } })).status, 200);
    assert.equal((await send(`${s.url}/v1/admin/artists/${artist.id}/approve`, { headers: admin.headers, body: {} })).status, 200);

    const storage = join(dir, 'data', 'storage');
    const upload = streamUpload(s.url, artist, audioStream('wav', 64 * MiB), {
      onAudioBytes: (bytes) => {
        if (bytes >= 24 * MiB && s.child.exitCode === null) s.child.kill('SIGKILL');
      },
    });
    await upload.answer.then(
      (a) => assert.fail(`the upload was answered (${a.status}) although the server was killed`),
      () => undefined,
    );
    await s.exited;
    const afterKill = await objects(storage);
    const rowsAfterKill = (await db.query('select count(*)::int as n from tracks_submissions')).rows[0] as { n: number };

    s = await start();
    const afterRestart = await objects(storage);
    const again = await streamUpload(s.url, artist, audioStream('wav', 8 * MiB)).answer;
    assert.equal(again.status, 201, again.body);
    const stored = await objects(storage);
    const rows = (await db.query('select storage_key from tracks_submissions')).rows as { storage_key: string }[];
    reportFault({
      scenario: 'server SIGKILLed mid-upload',
      injected: 'SIGKILL after 24 MiB of a 64 MiB track upload (local storage), restart on the same data',
      requests: 2,
      outcomes: { 'cut (no answer)': 1, '201': 1 },
      losses: afterKill.length + rowsAfterKill.n + afterRestart.length,
      notes: `objects under final names after the kill: ${afterKill.length}, rows: ${rowsAfterKill.n}`,
    });
    assert.deepEqual(afterKill, [], 'no object under a final name after the kill');
    assert.equal(rowsAfterKill.n, 0, 'no row for the cut upload');
    assert.deepEqual(afterRestart, []);
    assert.deepEqual(stored, rows.map((r) => r.storage_key), 'exactly the new track, under its row\'s key');
    await s.kill();
    server = undefined;
  });

  it('mid-email-send: the cut message is sent once after the restart, not twice, not lost', async () => {
    let s = await start();
    const hold = mailbox.hold();
    assert.equal((await send(`${s.url}/v1/auth/register`, { body: { email: 'held@example.test', password: PASSWORD, displayName: 'Held' } })).status, 202);
    await hold.held; // the message's data is in; the SMTP reply that would accept it is held back
    s.child.kill('SIGKILL');
    await s.exited;
    await hold.senderGone; // the SMTP server has seen the connection go
    hold.release();
    assert.equal(mailbox.all('held@example.test').length, 0, 'never accepted: the sender died before the reply');
    const claimed = (await db.query("select status, attempts from email_outbox where recipient = 'held@example.test'")).rows[0] as { status: string; attempts: number };
    assert.equal(claimed.status, 'pending');

    s = await start();
    // Due again once the dead process's lease (sendTimeoutMs + 60 s) ends.
    await until('the cut message to be sent', () => mailbox.all('held@example.test').length > 0, 90_000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a second copy would arrive by now
    const copies = mailbox.all('held@example.test', /Confirm your email/).length;
    const pending = (await db.query("select count(*)::int as n from email_outbox where status <> 'sent'")).rows[0] as { n: number };
    reportFault({
      scenario: 'server SIGKILLed mid-email-send',
      injected: 'SIGKILL while the SMTP server held its reply to the message, restart on the same database',
      requests: 1,
      outcomes: { '202': 1, 'copies delivered': copies },
      losses: Math.abs(copies - 1) + pending.n,
      notes: 'sent again after the dead process\'s lease ended',
    });
    assert.equal(copies, 1, 'exactly one copy');
    assert.equal(pending.n, 0, 'every outbox row is sent');
  });
});
