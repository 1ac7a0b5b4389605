/**
 * Accounts as a client makes them: register, follow the emailed verification link, log in. One
 * helper for the suites that need signed-in users (tracks, W-9), so they all go through the real
 * auth and email plugins the same way.
 */
import assert from 'node:assert/strict';
import type { TestKernel } from '../../host/testing.ts';
import { linkToken, type Mailbox } from './mailbox.ts';

export interface SignedInUser {
  readonly id: string;
  readonly email: string;
  readonly headers: { readonly authorization: string };
}

export interface AccountOptions {
  readonly email: string;
  readonly password: string;
  readonly displayName: string;
  /** The PUBLIC_APP_URL the email plugin builds links on. */
  readonly appUrl: string;
}

/** A verified, logged-in user with the default role. */
export async function signedInUser(t: TestKernel, mailbox: Mailbox, account: AccountOptions): Promise<SignedInUser> {
  const { email, password, displayName, appUrl } = account;
  const registered = await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password, displayName } });
  assert.equal(registered.statusCode, 202, registered.body);
  const token = linkToken(await mailbox.waitFor(email, /Confirm your email/), appUrl, '/verify-email');
  assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token } })).statusCode, 200);
  return logIn(t, email, password);
}

/** A fresh access token for an existing, verified account. */
export async function logIn(t: TestKernel, email: string, password: string): Promise<SignedInUser> {
  const login = await t.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  assert.equal(login.statusCode, 200, login.body);
  const pair = login.json() as { accessToken: string; user: { id: string } };
  return { id: pair.user.id, email, headers: { authorization: `Bearer ${pair.accessToken}` } };
}
