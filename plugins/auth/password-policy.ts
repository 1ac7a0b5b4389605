/**
 * Password rules (OWASP ASVS 5.0, 6.2): 12..128 characters after Unicode NFKC normalisation, no
 * truncation, not one of the ~49,000 most common passwords (the list zxcvbn-ts maintains), and
 * not the account's own email.
 */
import { dictionary } from '@zxcvbn-ts/language-common';

export const MIN_LENGTH = 12;
export const MAX_LENGTH = 128;

let common: Set<string> | undefined;
const commonPasswords = (): Set<string> =>
  (common ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase())));

/** The form that is hashed and compared: NFKC, so visually equal inputs are equal passwords. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Why a password is refused, or undefined when it is acceptable. */
export function passwordWeakness(password: string, email?: string): string | undefined {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < MIN_LENGTH) return `must be at least ${MIN_LENGTH} characters`;
  if (length > MAX_LENGTH) return `must be at most ${MAX_LENGTH} characters`;
  const lower = normalized.toLowerCase();
  if (commonPasswords().has(lower)) return 'is one of the most common passwords; choose another';
  if (email && lower === email.trim().toLowerCase()) return 'must not be your email address';
  return undefined;
}
