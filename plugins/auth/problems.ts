/** The auth plugin's error codes (API.md, "auth plugin"). */
import { defineProblems } from '../../core/index.ts';

export const authProblems = defineProblems({
  invalid_token: { status: 400, title: 'Invalid or expired token' },
  invalid_credentials: { status: 401, title: 'Invalid email or password' },
  invalid_refresh_token: { status: 401, title: 'Invalid refresh token' },
  refresh_token_reused: { status: 401, title: 'Refresh token reused' },
  email_not_verified: { status: 403, title: 'Email not verified' },
  csrf_failed: { status: 403, title: 'CSRF check failed' },
  weak_password: { status: 422, title: 'Password too weak' },
});
