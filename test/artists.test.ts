/**
 * The artists plugin through HTTP, on real PostgreSQL with the real auth, email (SMTP to a test
 * mailbox) and audit plugins: applying and editing, every route's failures (401, 403, 404, 422,
 * 409), approval and rejection with their emails and audit entries, two admins deciding at once,
 * the admin queue's order and cursors, `requireApprovedArtist` as another plugin uses it, and a
 * decision that rolls back whole when its email or its audit entry cannot be written.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ParsedMail } from 'mailparser';
import { configure, definePlugin, type SqlExecutor } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { artistsPlugin } from '../plugins/artists/index.ts';
import { artistsServiceRef, type ArtistProfile } from '../plugins/artists/contract.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { authServiceRef } from '../plugins/auth/contract.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { expectProblem } from './support/expect-problem.ts';
import { linkToken, startMailbox, type Mailbox } from './support/mailbox.ts';

const APP = 'https://app.empulse.test';
const JWT_SECRET = 'artists-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';
const NO_PROFILE_ID = '00000000-0000-4000-8000-000000000000';

interface User {
  readonly id: string;
  readonly email: string;
  readonly headers: { readonly authorization: string };
}

/** A route only approved artists may use, as the tracks plugin would guard one. */
const probePlugin = definePlugin({
  id: 'artist-probe',
  version: '1.0.0',
  requires: { artists: artistsServiceRef },
  routes(router, ctx) {
    router.get('/v1/artist-probe', { auth: 'required' }, async (http) => {
      const artist = await ctx.services.artists.requireApprovedArtist(http);
      http.body = { userId: artist.user.id, stageName: artist.profile.stageName, status: artist.profile.status };
    });
  },
});

describe('artists plugin', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  let admin: User;
  let secondAdmin: User;
  let users = 0;

  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({
      plugins: [
        authPlugin,
        configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 }),
        auditPlugin,
        artistsPlugin,
        probePlugin,
      ],
      env: { JWT_SECRET },
    });
    admin = await newAdmin('admin');
    secondAdmin = await newAdmin('second-admin');
  });
  after(async () => {
    await t?.close();
    await mailbox?.close();
  });

  const sql = (): SqlExecutor => t.kernel.database.orm.em.getConnection();

  /** A verified, logged-in user with the default role (artist). */
  async function newUser(label: string): Promise<User> {
    const email = `${label}-${++users}@example.test`;
    const registered = await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName: `User ${users}` } });
    assert.equal(registered.statusCode, 202);
    const token = linkToken(await mailbox.waitFor(email, /Confirm your email/), APP, '/verify-email');
    assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token } })).statusCode, 200);
    const login = await t.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD } });
    assert.equal(login.statusCode, 200, login.body);
    const pair = login.json() as { accessToken: string; user: { id: string } };
    return { id: pair.user.id, email, headers: { authorization: `Bearer ${pair.accessToken}` } };
  }

  /** A user made admin through auth's service (roles are read per request: the token stays valid). */
  async function newAdmin(label: string): Promise<User> {
    const user = await newUser(label);
    const auth = t.service(authServiceRef);
    const result = await t.kernel.database.transactional((em) => auth.setRole(user.id, 'admin', { em }));
    assert.equal(result.outcome, 'changed');
    return user;
  }

  const apply = (user: User, payload: unknown) => t.inject({ method: 'PUT', url: '/v1/artists/me', headers: user.headers, payload: payload as object });
  const mine = (user: User) => t.inject({ method: 'GET', url: '/v1/artists/me', headers: user.headers });
  const decide = (by: User | undefined, userId: string, decision: 'approve' | 'reject', payload?: unknown) =>
    t.inject({
      method: 'POST',
      url: `/v1/admin/artists/${userId}/${decision}`,
      ...(by && { headers: by.headers }),
      ...(payload !== undefined && { payload: payload as object }),
    });
  const queue = (by: User, query = '') => t.inject({ method: 'GET', url: `/v1/admin/artists${query}`, headers: by.headers });

  async function applied(label: string, stageName = `Stage ${label}`): Promise<User> {
    const user = await newUser(label);
    const res = await apply(user, { stageName });
    assert.equal(res.statusCode, 200, res.body);
    return user;
  }

  const auditEntries = async (targetId: string) =>
    (await sql().execute('select action, actor_id, target_type, reason, details from audit_entries where target_id = ? order by seq', [targetId], 'all')) as {
      action: string;
      actor_id: string;
      target_type: string;
      reason: string | null;
      details: Record<string, unknown>;
    }[];
  const statusOf = async (userId: string) =>
    ((await sql().execute('select status from artists_profiles where user_id = ?', [userId], 'get')) as { status: string } | undefined)?.status;
  const outboxCount = async (recipient: string, template: string) =>
    Number(
      ((await sql().execute('select count(*) as n from email_outbox where recipient = ? and template = ?', [recipient, template], 'get')) as { n: string | number }).n,
    );

  describe('authentication and roles', () => {
    it('answers 401 to anonymous callers on every route', async () => {
      for (const url of ['/v1/artists/me', '/v1/admin/artists', '/v1/admin/artists?status=pending']) {
        const res = await t.inject({ method: 'GET', url });
        expectProblem(res, 401, 'unauthenticated');
        assert.equal(res.headers['www-authenticate'], 'Bearer');
      }
      expectProblem(await t.inject({ method: 'PUT', url: '/v1/artists/me', payload: { stageName: 'Nobody' } }), 401, 'unauthenticated');
      expectProblem(await decide(undefined, admin.id, 'approve', {}), 401, 'unauthenticated');
      expectProblem(await decide(undefined, admin.id, 'reject', { reason: 'no' }), 401, 'unauthenticated');
      // The role is checked before the body: an anonymous caller never learns what a valid one is.
      expectProblem(await decide(undefined, admin.id, 'reject', {}), 401, 'unauthenticated');
    });

    it('answers 403 forbidden to artists on every admin route, before reading the body or query', async () => {
      const artist = await applied('not-admin');
      expectProblem(await queue(artist), 403, 'forbidden');
      expectProblem(await queue(artist, '?status=pending&limit=5'), 403, 'forbidden');
      expectProblem(await queue(artist, '?limit=0'), 403, 'forbidden');
      expectProblem(await decide(artist, artist.id, 'approve', {}), 403, 'forbidden');
      expectProblem(await decide(artist, artist.id, 'approve'), 403, 'forbidden');
      expectProblem(await decide(artist, artist.id, 'reject', { reason: 'self-review' }), 403, 'forbidden');
      expectProblem(await decide(artist, artist.id, 'reject', {}), 403, 'forbidden');
      assert.equal(await statusOf(artist.id), 'pending');
      assert.deepEqual(await auditEntries(artist.id), []);
    });
  });

  describe('applying', () => {
    it('answers 404 not_found before the first application', async () => {
      const user = await newUser('no-profile');
      expectProblem(await mine(user), 404, 'not_found');
    });

    it('creates a pending profile in the documented shape, with a null bio and no links when absent', async () => {
      const user = await newUser('shape');
      const before = Date.now();
      const res = await apply(user, { stageName: '  The Shapes  ' });
      assert.equal(res.statusCode, 200, res.body);
      const profile = res.json() as ArtistProfile;
      assert.deepEqual(Object.keys(profile).sort(), ['bio', 'links', 'reviewReason', 'reviewedAt', 'stageName', 'status', 'submittedAt', 'userId']);
      assert.deepEqual({ ...profile, submittedAt: undefined }, {
        userId: user.id,
        stageName: 'The Shapes',
        bio: null,
        links: [],
        status: 'pending',
        reviewReason: null,
        submittedAt: undefined,
        reviewedAt: null,
      });
      assert.match(profile.submittedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Date.parse(profile.submittedAt) >= before - 1000);
      const read = await mine(user);
      assert.equal(read.statusCode, 200);
      assert.deepEqual(read.json(), profile);
    });

    it('keeps a multi-line bio and https links', async () => {
      const user = await newUser('full');
      const payload = {
        stageName: 'Full Profile',
        bio: 'Line one.\nLine two,\tindented.\r\nLine three.',
        links: ['https://music.example/full', 'https://social.example/@full?tab=tracks'],
      };
      const res = await apply(user, payload);
      assert.equal(res.statusCode, 200, res.body);
      const profile = res.json() as ArtistProfile;
      assert.equal(profile.bio, payload.bio);
      assert.deepEqual(profile.links, payload.links);
      assert.deepEqual((await mine(user)).json(), profile);
    });

    it('refuses bad profiles with 422 validation_failed naming the field', async () => {
      const user = await newUser('invalid');
      const cases: [unknown, string][] = [
        [{}, 'stageName'],
        [{ stageName: '' }, 'stageName'],
        [{ stageName: '    ' }, 'stageName'],
        [{ stageName: 'x'.repeat(101) }, 'stageName'],
        [{ stageName: 42 }, 'stageName'],
        [{ stageName: 'Two\nLines' }, 'stageName'],
        [{ stageName: 'Bell\u0007' }, 'stageName'],
        [{ stageName: 'Fine', bio: 'Bell \u0007 in a bio' }, 'bio'],
        [{ stageName: 'Fine', bio: 'Null \u0000 byte' }, 'bio'],
        [{ stageName: 'Fine', bio: 'b'.repeat(2001) }, 'bio'],
        [{ stageName: 'Fine', links: ['http://insecure.example/'] }, 'links.0'],
        [{ stageName: 'Fine', links: ['https://ok.example/', 'not a url'] }, 'links.1'],
        [{ stageName: 'Fine', links: ['javascript:alert(1)'] }, 'links.0'],
        [{ stageName: 'Fine', links: ['https://user:secret@host.example/'] }, 'links.0'],
        [{ stageName: 'Fine', links: ['https://ok.example/\u0001'] }, 'links.0'],
        [{ stageName: 'Fine', links: Array.from({ length: 11 }, (_, i) => `https://l${i}.example/`) }, 'links'],
        [{ stageName: 'Fine', links: 'https://not-a-list.example/' }, 'links'],
      ];
      for (const [payload, path] of cases) {
        const problem = expectProblem(await apply(user, payload), 422, 'validation_failed');
        assert.ok(
          problem.errors?.some((e) => e.path === path),
          `${JSON.stringify(payload)}: expected an error at "${path}", got ${JSON.stringify(problem.errors)}`,
        );
      }
      // Ten links is the limit, not over it.
      const ten = await apply(user, { stageName: 'Ten Links', links: Array.from({ length: 10 }, (_, i) => `https://l${i}.example/`) });
      assert.equal(ten.statusCode, 200, ten.body);
      assert.equal((ten.json() as ArtistProfile).links.length, 10);
    });

    it('edits a pending profile in place, keeping its place in the queue', async () => {
      const user = await applied('edit-pending', 'First Name');
      const first = (await mine(user)).json() as ArtistProfile;
      const res = await apply(user, { stageName: 'Second Name', bio: 'Now with a bio' });
      assert.equal(res.statusCode, 200);
      const edited = res.json() as ArtistProfile;
      assert.equal(edited.status, 'pending');
      assert.equal(edited.stageName, 'Second Name');
      assert.equal(edited.bio, 'Now with a bio');
      assert.equal(edited.submittedAt, first.submittedAt);
    });
  });

  describe('review', () => {
    it('approves a pending application: approved profile, an email to the artist, one audit entry', async () => {
      const artist = await applied('approve-me', 'Approved Act');
      const res = await decide(admin, artist.id, 'approve', { reason: 'Great demo.\nWelcome aboard.' });
      assert.equal(res.statusCode, 200, res.body);
      const profile = res.json() as ArtistProfile;
      assert.equal(profile.status, 'approved');
      assert.equal(profile.reviewReason, 'Great demo.\nWelcome aboard.');
      assert.ok(profile.reviewedAt && Date.parse(profile.reviewedAt) >= Date.parse(profile.submittedAt));
      assert.deepEqual((await mine(artist)).json(), profile);

      const mail = await mailbox.waitFor(artist.email, /approved/);
      assert.match(mail.text ?? '', /Approved Act/);
      assert.match(mail.text ?? '', /Welcome aboard/);
      assert.match(String(mail.html), /Approved Act/);

      const entries = await auditEntries(artist.id);
      assert.equal(entries.length, 1);
      assert.deepEqual(
        { ...entries[0] },
        { action: 'artist.approved', actor_id: admin.id, target_type: 'artist', reason: 'Great demo.\nWelcome aboard.', details: { stageName: 'Approved Act' } },
      );
    });

    it('approves without a reason, or without a body at all', async () => {
      const one = await applied('approve-no-reason');
      const a = await decide(admin, one.id, 'approve', {});
      assert.equal(a.statusCode, 200, a.body);
      assert.equal((a.json() as ArtistProfile).reviewReason, null);
      const two = await applied('approve-no-body');
      const b = await decide(admin, two.id, 'approve');
      assert.equal(b.statusCode, 200, b.body);
      assert.equal((await auditEntries(two.id))[0]?.reason, null);
      await mailbox.waitFor(one.email, /approved/);
      await mailbox.waitFor(two.email, /approved/);
    });

    it('answers 409 invalid_transition to a second review, and records nothing more', async () => {
      const artist = await applied('twice');
      assert.equal((await decide(admin, artist.id, 'approve', {})).statusCode, 200);
      expectProblem(await decide(admin, artist.id, 'approve', {}), 409, 'invalid_transition');
      expectProblem(await decide(secondAdmin, artist.id, 'reject', { reason: 'changed my mind' }), 409, 'invalid_transition');
      assert.equal(await statusOf(artist.id), 'approved');
      assert.deepEqual((await auditEntries(artist.id)).map((e) => e.action), ['artist.approved']);
      await mailbox.waitFor(artist.email, /approved/);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(mailbox.all(artist.email, /approved|not approved/).length, 1);
    });

    it('keeps an approved profile approved when the artist edits it', async () => {
      const artist = await applied('edit-approved', 'Before Edit');
      const approved = (await decide(admin, artist.id, 'approve', { reason: 'ok' })).json() as ArtistProfile;
      const res = await apply(artist, { stageName: 'After Edit', links: ['https://after.example/'] });
      assert.equal(res.statusCode, 200);
      const edited = res.json() as ArtistProfile;
      assert.deepEqual(edited, { ...approved, stageName: 'After Edit', links: ['https://after.example/'] });
    });

    it('rejects with a reason, emails it, and lets the artist apply again', async () => {
      const artist = await applied('reject-me', 'Rejected Act');
      const first = (await mine(artist)).json() as ArtistProfile;
      const res = await decide(admin, artist.id, 'reject', { reason: '  Audio quality is too low.\nPlease re-master.  ' });
      assert.equal(res.statusCode, 200, res.body);
      const rejected = res.json() as ArtistProfile;
      assert.equal(rejected.status, 'rejected');
      assert.equal(rejected.reviewReason, 'Audio quality is too low.\nPlease re-master.');
      assert.ok(rejected.reviewedAt);

      const mail: ParsedMail = await mailbox.waitFor(artist.email, /not approved/);
      assert.match(mail.text ?? '', /Audio quality is too low\./);
      assert.match(mail.text ?? '', /Rejected Act/);
      const entries = await auditEntries(artist.id);
      assert.deepEqual(
        entries.map((e) => [e.action, e.actor_id, e.reason]),
        [['artist.rejected', admin.id, 'Audio quality is too low.\nPlease re-master.']],
      );

      expectProblem(await decide(admin, artist.id, 'reject', { reason: 'again' }), 409, 'invalid_transition');
      expectProblem(await decide(admin, artist.id, 'approve', {}), 409, 'invalid_transition');

      await new Promise((r) => setTimeout(r, 5));
      const again = await apply(artist, { stageName: 'Rejected Act (remastered)' });
      assert.equal(again.statusCode, 200);
      const reapplied = again.json() as ArtistProfile;
      assert.equal(reapplied.status, 'pending');
      assert.equal(reapplied.reviewReason, null);
      assert.equal(reapplied.reviewedAt, null);
      assert.ok(Date.parse(reapplied.submittedAt) > Date.parse(first.submittedAt), 'a new application goes to the back of the queue');
      // And it can be reviewed again.
      assert.equal((await decide(secondAdmin, artist.id, 'approve', {})).statusCode, 200);
      assert.deepEqual((await auditEntries(artist.id)).map((e) => [e.action, e.actor_id]), [
        ['artist.rejected', admin.id],
        ['artist.approved', secondAdmin.id],
      ]);
    });

    it('refuses a rejection without a reason with 422 naming reason', async () => {
      const artist = await applied('reject-no-reason');
      for (const payload of [{}, { reason: '' }, { reason: '   ' }, { reason: null }, { reason: 'r'.repeat(501) }, { reason: 'bell \u0007' }]) {
        const problem = expectProblem(await decide(admin, artist.id, 'reject', payload), 422, 'validation_failed');
        assert.deepEqual(problem.errors?.map((e) => e.path), ['reason'], JSON.stringify(payload));
      }
      expectProblem(await decide(admin, artist.id, 'reject'), 422, 'validation_failed');
      const problem = expectProblem(await decide(admin, artist.id, 'approve', { reason: 'x'.repeat(501) }), 422, 'validation_failed');
      assert.deepEqual(problem.errors?.map((e) => e.path), ['reason']);
      assert.equal(await statusOf(artist.id), 'pending');
      assert.deepEqual(await auditEntries(artist.id), []);
    });

    it('answers 404 not_found for a user without a profile, an unknown id and a malformed id', async () => {
      const user = await newUser('never-applied');
      for (const id of [user.id, NO_PROFILE_ID, 'not-a-uuid', "1' or '1'='1"]) {
        expectProblem(await decide(admin, encodeURIComponent(id), 'approve', {}), 404, 'not_found');
        expectProblem(await decide(admin, encodeURIComponent(id), 'reject', { reason: 'no' }), 404, 'not_found');
      }
      assert.deepEqual(await auditEntries(user.id), []);
    });

    it('lets exactly one of two concurrent approvals win (the other gets 409), with one audit entry and one email', async () => {
      for (let round = 0; round < 3; round++) {
        const artist = await applied(`race-${round}`);
        const answers = await Promise.all([
          decide(admin, artist.id, 'approve', { reason: 'first admin' }),
          decide(secondAdmin, artist.id, 'approve', { reason: 'second admin' }),
        ]);
        const statuses = answers.map((r) => r.statusCode).sort();
        assert.deepEqual(statuses, [200, 409], answers.map((r) => r.body).join('\n'));
        expectProblem(answers.find((r) => r.statusCode === 409)!, 409, 'invalid_transition');
        const winner = answers.find((r) => r.statusCode === 200)!.json() as ArtistProfile;
        const entries = await auditEntries(artist.id);
        assert.equal(entries.length, 1);
        assert.equal(entries[0]!.reason, winner.reviewReason);
        assert.equal(await outboxCount(artist.email, 'artists.approved'), 1);
      }
    });

    it('answers one 200 and one 409 when an approval and a rejection race', async () => {
      const artist = await applied('race-mixed');
      const answers = await Promise.all([decide(admin, artist.id, 'approve', {}), decide(secondAdmin, artist.id, 'reject', { reason: 'no' })]);
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 409]);
      const winner = answers.find((r) => r.statusCode === 200)!.json() as ArtistProfile;
      assert.equal(await statusOf(artist.id), winner.status);
      assert.deepEqual((await auditEntries(artist.id)).map((e) => e.action), [`artist.${winner.status}`]);
    });
  });

  describe('a decision commits whole or not at all', () => {
    // The database itself refuses the write, as it would on a real failure (a full disk, a broken
    // connection, a constraint): nothing in the plugin knows the test is running. `trigger` is the
    // rest of a CREATE [CONSTRAINT] TRIGGER statement naming the table, the event and the condition.
    async function refusing(trigger: { readonly constraint?: boolean; readonly table: string; readonly definition: string }, run: () => Promise<void>): Promise<void> {
      await sql().execute(`create function artists_test_refuse() returns trigger language plpgsql as $$
        begin raise exception 'refused by the test'; end $$`);
      await sql().execute(
        `create ${trigger.constraint ? 'constraint ' : ''}trigger artists_test_refuse ${trigger.definition} execute function artists_test_refuse()`,
      );
      try {
        await run();
      } finally {
        await sql().execute(`drop trigger artists_test_refuse on ${trigger.table}`);
        await sql().execute('drop function artists_test_refuse()');
      }
    }
    const refuseInserts = (table: string, when: string, run: () => Promise<void>) =>
      refusing({ table, definition: `before insert on ${table} for each row when (${when})` }, run);

    it('rolls back the approval and its audit entry when the email cannot be queued', async () => {
      const artist = await applied('email-fails');
      await refuseInserts('email_outbox', `new.template like 'artists.%'`, async () => {
        const res = await decide(admin, artist.id, 'approve', { reason: 'looks good' });
        const problem = expectProblem(res, 500, 'internal_error');
        assert.doesNotMatch(JSON.stringify(problem), /refused by the test|email_outbox|insert/i, 'no SQL or database message leaks');
      });
      assert.equal(await statusOf(artist.id), 'pending');
      assert.equal(((await mine(artist)).json() as ArtistProfile).reviewedAt, null);
      assert.deepEqual(await auditEntries(artist.id), [], 'the audit entry was written, then rolled back with the approval');
      assert.equal(await outboxCount(artist.email, 'artists.approved'), 0);
      // Nothing is stuck: once the outbox works again, the same approval goes through.
      assert.equal((await decide(admin, artist.id, 'approve', { reason: 'looks good' })).statusCode, 200);
      assert.deepEqual((await auditEntries(artist.id)).map((e) => e.action), ['artist.approved']);
      await mailbox.waitFor(artist.email, /approved/);
    });

    it('rolls back the rejection (and sends nothing) when the audit entry cannot be written', async () => {
      const artist = await applied('audit-fails');
      await refuseInserts('audit_entries', `new.action like 'artist.%'`, async () => {
        expectProblem(await decide(admin, artist.id, 'reject', { reason: 'not now' }), 500, 'internal_error');
      });
      assert.equal(await statusOf(artist.id), 'pending');
      assert.deepEqual(await auditEntries(artist.id), []);
      assert.equal(await outboxCount(artist.email, 'artists.rejected'), 0);
      assert.equal((await decide(admin, artist.id, 'reject', { reason: 'not now' })).statusCode, 200);
      assert.equal(await outboxCount(artist.email, 'artists.rejected'), 1);
    });

    it('rolls back the decision, its audit entry and its email when the commit itself fails', async () => {
      const artist = await applied('commit-fails');
      // A deferred constraint trigger fires at COMMIT, after the update, the audit entry and the
      // queued email: only work done in the decision's own transaction disappears with it.
      const trigger = {
        constraint: true,
        table: 'artists_profiles',
        definition: `after update on artists_profiles deferrable initially deferred for each row when (new.status <> 'pending')`,
      };
      await refusing(trigger, async () => {
        expectProblem(await decide(admin, artist.id, 'approve', { reason: 'at commit' }), 500, 'internal_error');
        expectProblem(await decide(admin, artist.id, 'reject', { reason: 'at commit' }), 500, 'internal_error');
      });
      assert.equal(await statusOf(artist.id), 'pending');
      assert.deepEqual(await auditEntries(artist.id), []);
      assert.equal(await outboxCount(artist.email, 'artists.approved'), 0);
      assert.equal(await outboxCount(artist.email, 'artists.rejected'), 0);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(mailbox.all(artist.email, /approved/), [], 'no email announces a decision that rolled back');
    });
  });

  describe('the admin queue', () => {
    type QueuePage = { items: ArtistProfile[]; nextCursor: string | null };

    async function walk(by: User, query: string, limit: number): Promise<{ items: ArtistProfile[]; pages: number }> {
      const items: ArtistProfile[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await queue(by, `?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as QueuePage;
        assert.ok(body.items.length <= limit);
        items.push(...body.items);
        cursor = body.nextCursor;
        pages++;
      } while (cursor !== null);
      return { items, pages };
    }

    const order = (a: ArtistProfile, b: ArtistProfile) => Date.parse(a.submittedAt) - Date.parse(b.submittedAt) || (a.userId < b.userId ? -1 : 1);

    it('lists oldest application first, filtered by status, in pages that neither repeat nor skip', async () => {
      const applicants: User[] = [];
      for (let i = 0; i < 5; i++) applicants.push(await applied(`queue-${i}`, `Queue ${i}`));
      // Two applications at the very same instant: the user id breaks the tie.
      await sql().execute('update artists_profiles set submitted_at = ?::timestamptz where user_id in (?, ?)', [
        '2020-01-01T00:00:00.123456Z',
        applicants[3]!.id,
        applicants[4]!.id,
      ]);
      assert.equal((await decide(admin, applicants[1]!.id, 'approve', {})).statusCode, 200);

      const all = (await queue(admin, '?limit=100')).json() as QueuePage;
      assert.equal(all.nextCursor, null);
      assert.deepEqual(all.items, [...all.items].sort(order), 'oldest first, user id as tie-breaker');
      const ids = all.items.map((p) => p.userId);
      const tied = [applicants[3]!.id, applicants[4]!.id].sort();
      assert.deepEqual(ids.slice(0, 2), tied, 'the back-dated pair comes first, in user id order');
      const ours = ids.filter((id) => applicants.some((a) => a.id === id));
      assert.deepEqual(ours, [...tied, applicants[0]!.id, applicants[1]!.id, applicants[2]!.id]);

      const pending = (await queue(admin, '?status=pending&limit=100')).json() as QueuePage;
      assert.ok(pending.items.every((p) => p.status === 'pending'));
      assert.ok(!pending.items.some((p) => p.userId === applicants[1]!.id));
      assert.ok(pending.items.some((p) => p.userId === applicants[0]!.id));
      const approved = (await queue(admin, '?status=approved&limit=100')).json() as QueuePage;
      assert.ok(approved.items.every((p) => p.status === 'approved'));
      assert.ok(approved.items.some((p) => p.userId === applicants[1]!.id));

      for (const [query, expected] of [
        ['', all.items],
        ['&status=pending', pending.items],
      ] as const) {
        for (const limit of [1, 2, 3]) {
          const walked = await walk(admin, query, limit);
          assert.deepEqual(walked.items, expected, `limit ${limit}${query}`);
          assert.equal(walked.pages, Math.max(1, Math.ceil(expected.length / limit)));
        }
      }
      // The default page size is 20.
      const first = (await queue(admin)).json() as QueuePage;
      assert.equal(first.items.length, Math.min(20, all.items.length));
    });

    it('keeps a walk stable while new applications arrive', async () => {
      const before = (await queue(admin, '?status=pending&limit=100')).json() as QueuePage;
      const firstPage = (await queue(admin, '?status=pending&limit=2')).json() as QueuePage;
      assert.ok(firstPage.nextCursor);
      const late = await applied('late-comer');
      const rest = (await queue(admin, `?status=pending&limit=100&cursor=${encodeURIComponent(firstPage.nextCursor)}`)).json() as QueuePage;
      assert.deepEqual([...firstPage.items, ...rest.items].map((p) => p.userId), [...before.items.map((p) => p.userId), late.id]);
    });

    it('refuses bad query parameters and cursors of another filter with 422', async () => {
      for (const [query, path] of [
        ['?limit=0', 'limit'],
        ['?limit=101', 'limit'],
        ['?limit=ten', 'limit'],
        ['?status=archived', 'status'],
        ['?cursor=garbage', 'cursor'],
      ] as const) {
        const problem = expectProblem(await queue(admin, query), 422, 'validation_failed');
        assert.deepEqual(problem.errors?.map((e) => e.path), [path], query);
      }
      const pendingPage = (await queue(admin, '?status=pending&limit=1')).json() as QueuePage;
      assert.ok(pendingPage.nextCursor);
      const cursor = encodeURIComponent(pendingPage.nextCursor);
      const problem = expectProblem(await queue(admin, `?status=approved&limit=1&cursor=${cursor}`), 422, 'validation_failed');
      assert.deepEqual(problem.errors?.map((e) => e.path), ['cursor']);
      expectProblem(await queue(admin, `?limit=1&cursor=${cursor}`), 422, 'validation_failed');
      const tampered = `${pendingPage.nextCursor.slice(0, -2)}${pendingPage.nextCursor.endsWith('AA') ? 'BB' : 'AA'}`;
      expectProblem(await queue(admin, `?status=pending&limit=1&cursor=${encodeURIComponent(tampered)}`), 422, 'validation_failed');
    });
  });

  describe('requireApprovedArtist (for other plugins)', () => {
    const probe = (user?: User) => t.inject({ method: 'GET', url: '/v1/artist-probe', ...(user && { headers: user.headers }) });

    it('answers 401 without a session, 403 artist_not_approved until approved, then lets the artist through', async () => {
      expectProblem(await probe(), 401, 'unauthenticated');
      const artist = await newUser('probe');
      const none = expectProblem(await probe(artist), 403, 'artist_not_approved');
      assert.match(String(none.detail), /apply/i);
      assert.equal((await apply(artist, { stageName: 'Probe Act' })).statusCode, 200);
      const pending = expectProblem(await probe(artist), 403, 'artist_not_approved');
      assert.match(String(pending.detail), /review/i);
      assert.equal((await decide(admin, artist.id, 'approve', {})).statusCode, 200);
      const ok = await probe(artist);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.deepEqual(ok.json(), { userId: artist.id, stageName: 'Probe Act', status: 'approved' });
    });

    it('refuses a rejected artist, and reads profiles through getProfile', async () => {
      const artist = await applied('probe-rejected', 'Probe Rejected');
      assert.equal((await decide(admin, artist.id, 'reject', { reason: 'no' })).statusCode, 200);
      expectProblem(await probe(artist), 403, 'artist_not_approved');
      const artists = t.service(artistsServiceRef);
      const profile = await artists.getProfile(artist.id);
      assert.equal(profile?.status, 'rejected');
      assert.equal(profile?.reviewReason, 'no');
      assert.deepEqual(profile, (await mine(artist)).json());
      assert.equal(await artists.getProfile(NO_PROFILE_ID), undefined);
      assert.equal(await artists.getProfile('not-a-uuid'), undefined);
    });
  });
});
