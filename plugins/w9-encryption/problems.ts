/** The w9-encryption plugin's error codes. */
import { defineProblems } from '../../core/index.ts';

export const w9Problems = defineProblems({
  /**
   * A stored form that does not open: sealed under a key the ring lacks (readiness says so too),
   * or altered in the database. Never a wrong value: the reveal fails, and nothing is audited.
   */
  w9_undecryptable: { status: 500, title: 'W-9 cannot be decrypted' },
});
