/** The admin plugin's problem codes. */
import { defineProblems } from '../../core/index.ts';

export const adminProblems = defineProblems({
  last_admin: { status: 409, title: 'The last admin' },
  cannot_lock_self: { status: 409, title: 'Cannot lock yourself' },
});
