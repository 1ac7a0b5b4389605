/**
 * The email plugin as a developer meets it: no email settings at all, the embedded database
 * (PGlite, in a temporary DATA_DIR), and the development outbox that writes `.eml` files and logs
 * their links. Also: what production refuses, and what survives a restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import { BootError, configure, type Env } from '../core/index.ts';
import type { EmailService } from '../plugins/email/contract.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { captureLogger, type CapturedLogs } from './support/capture-logger.ts';
import { until } from './support/until.ts';
import { emailConsumer } from './support/email-consumer.ts';
import { authEmails } from '../plugins/auth/emails.ts';


const OUTBOX_LOG = 'email written to the development outbox';

describe('email plugin, development outbox on the embedded database', () => {
  let dataDir: string;
  let env: Env;
  let email: EmailService;
  const sender = emailConsumer((service) => (email = service));

  /** A kernel on the same embedded database each time, so restarts keep its rows. */
  async function boot(options: { env?: Env; start?: boolean; logs?: CapturedLogs } = {}): Promise<TestKernel> {
    const t = await createTestKernel({
      plugins: [emailPlugin, sender],
      env: options.env ?? env,
      database: { driver: 'pglite', dataDir: join(dataDir, 'db') },
      logger: (options.logs ?? captureLogger()).logger,
      boot: false,
    });
    try {
      await t.kernel.boot({ start: options.start ?? true });
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }
  const rowOf = async (t: TestKernel, recipient: string) => {
    const [r] = (await t.kernel.database.orm.em
      .getConnection()
      .execute('select id, status, attempts, last_error, payload from email_outbox where recipient = ?', [recipient])) as {
      id: string;
      status: string;
      attempts: number;
      last_error: string | null;
      payload: Uint8Array | null;
    }[];
    return r;
  };
  const verify = (to: string, token: string) =>
    email.send(authEmails.verifyEmail, to, { displayName: 'Lou', link: { path: '/verify-email', query: { token } }, expiresInHours: 24 }, { requestId: `req-${to}` });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'empulse-email-'));
    // Nothing about email: the transport defaults to the outbox, under DATA_DIR.
    env = { DATA_DIR: dataDir, JWT_SECRET: randomBytes(48).toString('base64url'), NEXT_PUBLIC_APP_URL: 'http://localhost:5173' };
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  describe('with a running kernel', () => {
    const logs = captureLogger('debug');
    let t: TestKernel;
    before(async () => {
      t = await boot({ logs });
    });
    after(() => t.close());

    it('writes each message as an .eml file under DATA_DIR/outbox and logs its link at info', async () => {
      assert.ok(logs.lines.some((l) => l.msg === 'email transport ready' && l.transport === 'outbox'));
      const token = randomBytes(24).toString('base64url');
      const link = `http://localhost:5173/verify-email?token=${token}`;
      await verify('lou@example.test', token);

      const line = await until('the outbox log line', () => logs.lines.find((l) => l.msg === OUTBOX_LOG && l.to === 'lou@example.test'));
      assert.equal(line.level, 'info');
      assert.deepEqual(line.links, [link]);
      assert.equal(line.subject, 'Confirm your email address');
      assert.equal(line.requestId, 'req-lou@example.test');

      const dir = join(dataDir, 'outbox');
      const files = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
      assert.equal(files.length, 1);
      assert.equal(line.file, join(dir, files[0]!));
      assert.equal((await stat(join(dir, files[0]!))).mode & 0o777, 0o600, 'the file holds a live token: owner only');
      const mail = await simpleParser(await readFile(join(dir, files[0]!)));
      assert.deepEqual(mail.from?.value, [{ address: 'no-reply@localhost', name: 'Empulse' }]);
      assert.equal((mail.to as AddressObject).value[0]?.address, 'lou@example.test');
      assert.equal(mail.subject, 'Confirm your email address');
      assert.ok(mail.text?.includes(link), 'a plain-text part with the link');
      assert.ok(typeof mail.html === 'string' && mail.html.includes(`href="${link}"`));

      const r = await until('the row marked sent', async () => {
        const current = await rowOf(t, 'lou@example.test');
        return current?.status === 'sent' ? current : undefined;
      });
      assert.equal(r.payload, null);
      const sent = logs.lines.find((l) => l.msg === 'email sent' && l.outboxId === r.id);
      assert.equal(sent?.requestId, 'req-lou@example.test');
    });

    it('is ready while the outbox directory is writable, not when it cannot be created', async () => {
      assert.equal((await t.kernel.health.readiness()).checks.email?.status, 'ok');
      const dir = join(dataDir, 'outbox');
      await rm(dir, { recursive: true });
      await writeFile(dir, 'not a directory');
      try {
        const report = await t.kernel.health.readiness();
        assert.equal(report.checks.email?.status, 'fail');
        assert.match(report.checks.email?.error ?? '', /EEXIST|ENOTDIR/);
      } finally {
        await rm(dir);
      }
      assert.equal((await t.kernel.health.readiness()).checks.email?.status, 'ok', 'recreated on demand');
    });
  });

  it('keeps pending mail across a restart, and fails (never sends) mail sealed under another key', async () => {
    // Queue with the worker not started, as if the process died before delivering.
    const first = await boot({ start: false });
    await verify('queued@example.test', 'tok-queued');
    await first.close();

    const logs = captureLogger('debug');
    const second = await boot({ logs });
    try {
      const line = await until('delivery after the restart', () => logs.lines.find((l) => l.msg === OUTBOX_LOG && l.to === 'queued@example.test'));
      assert.deepEqual(line.links, ['http://localhost:5173/verify-email?token=tok-queued']);
    } finally {
      await second.close();
    }

    const third = await boot({ start: false });
    await verify('rekeyed@example.test', 'tok-rekeyed');
    await third.close();

    // JWT_SECRET changed (no EMAIL_OUTBOX_KEY): the derived outbox key changed with it.
    const rekeyedLogs = captureLogger('debug');
    const fourth = await boot({ env: { ...env, JWT_SECRET: randomBytes(48).toString('base64url') }, logs: rekeyedLogs });
    try {
      const failed = await until('the row marked failed', async () => {
        const r = await rowOf(fourth, 'rekeyed@example.test');
        return r?.status === 'failed' ? r : undefined;
      });
      assert.match(failed.last_error ?? '', /cannot be decrypted/);
      assert.ok(rekeyedLogs.lines.some((l) => l.msg === 'email delivery failed; giving up' && l.requestId === 'req-rekeyed@example.test'));
      assert.ok(!rekeyedLogs.lines.some((l) => l.msg === OUTBOX_LOG));
    } finally {
      await fourth.close();
    }
  });

  it('outside production without any key, each kernel warns once that its queued mail will not survive a restart (no key is shared across kernels)', async () => {
    const noKeys = { DATA_DIR: dataDir };
    const firstLogs = captureLogger('debug');
    const first = await boot({ env: noKeys, logs: firstLogs });
    try {
      const warnings = firstLogs.lines.filter((l) => l.level === 'warn' && /will not survive a restart/.test(String(l.msg)));
      assert.equal(warnings.length, 1);
      await verify('random-key@example.test', 'tok-random');
      await until('delivery with the kernel\'s own key', () => firstLogs.lines.find((l) => l.msg === OUTBOX_LOG && l.to === 'random-key@example.test'));
    } finally {
      await first.close();
    }
    const secondLogs = captureLogger('debug');
    const second = await boot({ env: noKeys, logs: secondLogs });
    await second.close();
    const again = secondLogs.lines.filter((l) => l.level === 'warn' && /will not survive a restart/.test(String(l.msg)));
    assert.equal(again.length, 1, 'a second kernel has a key of its own, and says so once');
  });
});

describe('email plugin configuration', () => {
  /** Boots (in the given mode) only far enough to validate options: no database is created. */
  const problems = async (env: Env, mode: 'production' | 'test' = 'production', options?: Record<string, unknown>) => {
    try {
      const t = await createTestKernel({
        plugins: [options ? configure(emailPlugin, options as never) : emailPlugin],
        env,
        mode,
        database: 'pglite',
        boot: false,
      });
      await t.close();
      return '';
    } catch (err) {
      assert.ok(err instanceof BootError, String(err));
      return err.message;
    }
  };
  const safe = { JWT_SECRET: 'x'.repeat(48), PUBLIC_APP_URL: 'https://app.example.com', EMAIL_FROM: 'Label <no-reply@label.example>' };

  it('refuses the development outbox in production, naming RESEND_API_KEY and SMTP_URL', async () => {
    const message = await problems(safe);
    assert.match(message, /plugin "email", EMAIL_TRANSPORT: .*RESEND_API_KEY or SMTP_URL/);
    assert.match(await problems({ ...safe, EMAIL_TRANSPORT: 'outbox', RESEND_API_KEY: 're_x' }), /RESEND_API_KEY or SMTP_URL/);
    assert.match(await problems(safe, 'production', { transport: 'outbox' }), /RESEND_API_KEY or SMTP_URL/);
  });

  it('picks resend, then smtp, from the variables that are set, unless EMAIL_TRANSPORT says otherwise', async () => {
    assert.equal(await problems({ ...safe, RESEND_API_KEY: 're_live' }), '');
    assert.equal(await problems({ ...safe, SMTP_URL: 'smtp://u:p@smtp.example.com:587' }), '');
    assert.match(await problems({ ...safe, RESEND_API_KEY: 're_live', EMAIL_TRANSPORT: 'smtp' }), /plugin "email", SMTP_URL: the smtp transport needs a URL/);
    assert.match(await problems({ ...safe, EMAIL_TRANSPORT: 'resend' }, 'test'), /plugin "email", RESEND_API_KEY: the resend transport needs an API key/);
    assert.match(await problems({ ...safe, EMAIL_TRANSPORT: 'carrier-pigeon' }, 'test'), /plugin "email", transport:/);
  });

  it('names a malformed SMTP_URL or EMAIL_OUTBOX_KEY without echoing the secret', async () => {
    const smtp = await problems({ ...safe, SMTP_URL: 'http://user:hunter2hunter2@example.com' });
    assert.match(smtp, /SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/);
    assert.ok(!smtp.includes('hunter2'));
    const key = await problems({ ...safe, RESEND_API_KEY: 're_live', EMAIL_OUTBOX_KEY: 'tooShortKeyValue' }, 'test');
    assert.match(key, /EMAIL_OUTBOX_KEY: must be 32 bytes/);
    assert.ok(!key.includes('tooShortKeyValue'));
    assert.equal(await problems({ ...safe, RESEND_API_KEY: 're_live', EMAIL_OUTBOX_KEY: randomBytes(32).toString('hex') }), '');
    assert.equal(await problems({ ...safe, RESEND_API_KEY: 're_live', EMAIL_OUTBOX_KEY: randomBytes(32).toString('base64') }), '');
  });

  it('in production, needs a key for the outbox and an https PUBLIC_APP_URL', async () => {
    const message = await problems({ RESEND_API_KEY: 're_live' });
    assert.match(message, /EMAIL_OUTBOX_KEY: .*set EMAIL_OUTBOX_KEY .* or JWT_SECRET/);
    assert.match(message, /PUBLIC_APP_URL: .*https:\/\//);
    assert.equal(
      await problems({ RESEND_API_KEY: 're_live', EMAIL_OUTBOX_KEY: randomBytes(32).toString('base64url'), NEXT_PUBLIC_APP_URL: 'https://app.example.com', EMAIL_FROM: 'ops@label.example' }),
      '',
    );
  });

  it('in production, refuses the default sender and any sender on a local domain', async () => {
    const live = { ...safe, RESEND_API_KEY: 're_live' };
    for (const from of [undefined, 'Label <no-reply@localhost>', 'ops@mail.local', 'ops@box.localhost']) {
      const env = from === undefined ? { JWT_SECRET: safe.JWT_SECRET, PUBLIC_APP_URL: safe.PUBLIC_APP_URL, RESEND_API_KEY: 're_live' } : { ...live, EMAIL_FROM: from };
      assert.match(await problems(env), /plugin "email", EMAIL_FROM: the default sender \(no-reply@localhost\) is not deliverable/, String(from));
    }
    assert.equal(await problems({ ...live, EMAIL_FROM: 'Label <no-reply@label.example>' }), '');
    assert.equal(await problems({ RESEND_API_KEY: 're_live' }, 'test'), '', 'outside production the default is fine');
  });
});
