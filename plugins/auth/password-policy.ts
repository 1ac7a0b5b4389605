/**
 * Password rules (OWASP ASVS 5.0, 6.2; NIST SP 800-63B): 12..128 characters after Unicode NFKC
 * normalisation, no truncation, not one of the ~49,000 most common passwords (the list zxcvbn-ts
 * maintains), not the account's own email, and not what a strength estimator (zxcvbn-ts, with its
 * common and English dictionaries, keyboard patterns, dates, sequences and repeats) rates as
 * guessable: "password123456" passes length and the exact list and is still among the first
 * guesses of every cracker.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnEnglish from '@zxcvbn-ts/language-en';

export const MIN_LENGTH = 12;
export const MAX_LENGTH = 128;
/** zxcvbn's score 3: at least 10^8 guesses ("safely unguessable" online and against slow hashes). */
export const MIN_SCORE = 3;
/**
 * The estimator's cost grows fast with length (about 1 s for 128 random characters, on the event
 * loop), so it reads at most this many characters from each end: a longer password is strong
 * enough when either end alone is.
 */
const ESTIMATE_WINDOW = 32;

/** The form that is hashed and compared: NFKC, so visually equal inputs are equal passwords. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** One per auth plugin instance; its dictionaries are built on first use, not at boot. */
export class PasswordPolicy {
  #estimator: ZxcvbnFactory | undefined;
  #common: Set<string> | undefined;

  /** Why a password is refused, or undefined when it is acceptable. */
  weakness(password: string, email?: string): string | undefined {
    const normalized = normalizePassword(password);
    const length = [...normalized].length;
    if (length < MIN_LENGTH) return `must be at least ${MIN_LENGTH} characters`;
    if (length > MAX_LENGTH) return `must be at most ${MAX_LENGTH} characters`;
    const lower = normalized.toLowerCase();
    if (this.#commonPasswords().has(lower)) return 'is one of the most common passwords; choose another';
    if (email && lower === email.trim().toLowerCase()) return 'must not be your email address';
    return this.#guessable(normalized, email);
  }

  #guessable(password: string, email: string | undefined): string | undefined {
    const inputs = email ? [email, ...email.split(/[@.+_-]/).filter((part) => part.length >= 3)] : [];
    const ends = password.length <= ESTIMATE_WINDOW ? [password] : [password.slice(0, ESTIMATE_WINDOW), password.slice(-ESTIMATE_WINDOW)];
    const results = ends.map((part) => this.#zxcvbn().check(part, inputs));
    if (results.some((r) => r.score >= MIN_SCORE)) return undefined;
    const { warning, suggestions } = results[0]!.feedback;
    const why = [warning, ...suggestions].filter((s): s is string => typeof s === 'string' && s !== '').join(' ');
    return `is too easy to guess${why ? `: ${why}` : ''}`;
  }

  #zxcvbn(): ZxcvbnFactory {
    return (this.#estimator ??= new ZxcvbnFactory({
      translations: zxcvbnEnglish.translations,
      graphs: zxcvbnCommon.adjacencyGraphs,
      dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEnglish.dictionary },
    }));
  }

  #commonPasswords(): Set<string> {
    return (this.#common ??= new Set((zxcvbnCommon.dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase())));
  }
}
