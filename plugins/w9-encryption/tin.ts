/**
 * Taxpayer identification numbers as a W-9 carries them: an SSN (individuals) or an EIN
 * (businesses), nine digits either way. Validation follows the SSA's and the IRS's published
 * rules, so typos are caught at the form, and masking shows only the last four digits.
 */

import type { TinType } from './contract.ts';

export type { TinType };

// Nine digits, or grouped as an SSN (3-2-4, by hyphens or single spaces) or an EIN (2-7) is written.
const TIN_INPUT = /^(?:\d{3}([- ]?)\d{2}\1\d{4}|\d{2}-\d{7})$/;

/** The nine digits of `input` (`123456789`, `123-45-6789`, `123 45 6789`, `12-3456789`), or undefined. */
export function tinDigits(input: string): string | undefined {
  const trimmed = input.trim();
  return TIN_INPUT.test(trimmed) ? trimmed.replace(/\D/g, '') : undefined;
}

// EIN prefixes the IRS assigns (its campus and online codes); the others (00, 07–09, 17–19, 28, 29,
// 49, 69, 70, 78, 79, 89, 96, 97) are never issued.
const EIN_PREFIXES = new Set(
  [
    [1, 6],
    [10, 16],
    [20, 27],
    [30, 39],
    [40, 48],
    [50, 68],
    [71, 77],
    [80, 88],
    [90, 95],
    [98, 99],
  ].flatMap(([from, to]) => Array.from({ length: to! - from! + 1 }, (_, i) => from! + i)),
);

/** Why `digits` (nine digits) cannot be a TIN of `type`, or undefined when it can. */
export function tinProblem(digits: string, type: TinType): string | undefined {
  if (type === 'ssn') {
    const [area, group, serial] = [Number(digits.slice(0, 3)), Number(digits.slice(3, 5)), Number(digits.slice(5))];
    if (area === 0 || area === 666 || area >= 900) return 'is not a valid SSN (its first three digits cannot be 000, 666 or 900–999)';
    if (group === 0) return 'is not a valid SSN (its middle two digits cannot be 00)';
    if (serial === 0) return 'is not a valid SSN (its last four digits cannot be 0000)';
    return undefined;
  }
  return EIN_PREFIXES.has(Number(digits.slice(0, 2))) ? undefined : 'is not a valid EIN (the IRS does not issue its first two digits)';
}

/** The TIN as a W-9 may be shown: `***-**-6789` (SSN) or `**-***6789` (EIN). */
export function maskTin(digits: string, type: TinType): string {
  const last4 = digits.slice(-4);
  return type === 'ssn' ? `***-**-${last4}` : `**-***${last4}`;
}

// 123-45-6789, 12-3456789, or nine digits standing alone: what a TIN looks like in free text.
// Nine digits inside a longer run of digits or hex (a uuid's last group, a hash) are not a TIN.
const TIN_SHAPE = /(?<![0-9A-Za-z])(?:\d{3}[- ]\d{2}[- ]\d{4}|\d{2}-\d{7}|\d{9})(?![0-9A-Za-z])/g;

/** `text` with every TIN-shaped number masked to its last four digits (`***-**-6789` / `**-***6789`). */
export function maskTinShapes(text: string): string {
  return text.replace(TIN_SHAPE, (found) => {
    const digits = found.replace(/\D/g, '');
    return /^\d{2}-/.test(found) ? maskTin(digits, 'ein') : maskTin(digits, 'ssn');
  });
}

/**
 * `text` with `digits` (one TIN) masked wherever they appear, however separated (`123 45-6789`,
 * `1.2.3…`), and anything else TIN-shaped masked too: for free text that goes on the record next
 * to a TIN, such as an admin's reason.
 */
export function maskTinIn(text: string, digits: string, type: TinType): string {
  const spread = new RegExp(digits.split('').join('[^0-9A-Za-z]{0,2}'), 'g');
  return maskTinShapes(text.replace(spread, maskTin(digits, type)));
}
