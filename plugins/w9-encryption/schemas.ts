/**
 * The w9-encryption plugin's request and response bodies (API.md, "w9-encryption plugin").
 * Messages never quote what was sent (the core cuts valibot's "but received …" as well): a TIN
 * typed into the wrong field must not come back in an error body. No schema carries an example
 * TIN, so none reaches the OpenAPI document.
 */
import * as v from 'valibot';
import { multiline } from '../../core/index.ts';
import { TAX_CLASSIFICATIONS, type MaskedW9 as MaskedW9Type, type RevealedW9 as RevealedW9Type, type W9SearchHit } from './contract.ts';
import { tinDigits, tinProblem } from './tin.ts';

const text = (max: number) => v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'is required'), v.maxLength(max, `must be at most ${max} characters`));
/** Absent, null or blank: null (a blank second address line is no line). */
const optionalText = (max: number) =>
  v.pipe(
    v.optional(v.nullable(v.pipe(v.string('must be a string'), v.trim(), v.maxLength(max, `must be at most ${max} characters`))), null),
    v.transform((s) => (s === '' ? null : s)),
  );

/** Nine digits, or written as an SSN or EIN usually is (`123-45-6789`, `12-3456789`); becomes the nine digits. */
const Tin = v.pipe(
  v.string('must be a string of nine digits'),
  v.check((s) => tinDigits(s) !== undefined, 'must be nine digits (NNN-NN-NNNN and NN-NNNNNNN are accepted)'),
  v.transform((s) => tinDigits(s)!),
  v.description('Nine digits, also written NNN-NN-NNNN, NNN NN NNNN or NN-NNNNNNN'),
);

const TinType = v.picklist(['ssn', 'ein'], 'must be ssn or ein');

const MAX_SIGNATURE = 20_000;
/** How far in the future a signature date may be (time zones): a day. */
const SKEW_MS = 24 * 3600 * 1000;
const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** A date (`2026-12-01`, read as UTC midnight) or a date-time with its offset; becomes ISO 8601 UTC. */
const SignedAt = v.pipe(
  v.string('must be an ISO 8601 date or date-time'),
  v.check((s) => DATE_OR_TIME.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date or date-time (2026-12-01, 2026-12-01T10:00:00Z)'),
  v.transform((s) => new Date(s).toISOString()),
  v.check((s) => Date.parse(s) <= Date.now() + SKEW_MS, 'must not be in the future'),
  v.check((s) => s >= '2000-01-01', 'must be in 2000 or later'),
);

export const W9Address = v.object({
  line1: text(200),
  line2: optionalText(200),
  city: text(100),
  state: text(100),
  postalCode: text(20),
});

export const PutW9Body = v.pipe(
  v.object({
    legalName: text(200),
    businessName: optionalText(200),
    taxClassification: v.picklist(TAX_CLASSIFICATIONS, `must be one of ${TAX_CLASSIFICATIONS.join(', ')}`),
    tin: Tin,
    tinType: TinType,
    address: v.object({ ...W9Address.entries }, 'must be an object with line1, city, state and postalCode'),
    signature: v.pipe(
      v.string('must be a string'),
      v.minLength(1, 'is required'),
      v.maxLength(MAX_SIGNATURE, `must be at most ${MAX_SIGNATURE} characters`),
      v.description('The signer’s electronic signature (a typed name, or an image as a data URL)'),
    ),
    signedAt: SignedAt,
  }),
  // The SSN and EIN rules differ: checked once both fields are valid, reported on `tin`.
  v.forward(
    v.partialCheck(
      [['tin'], ['tinType']],
      (form) => tinProblem(form.tin, form.tinType) === undefined,
      (issue) => tinProblem((issue.input as { tin: string }).tin, (issue.input as { tinType: 'ssn' | 'ein' }).tinType) ?? 'is not a valid TIN',
    ),
    ['tin'],
  ),
);
export type W9Input = v.InferOutput<typeof PutW9Body>;

/** An admin's reason: 1..500 characters, several lines allowed. */
const Reason = v.pipe(v.string('must be a string'), multiline(), v.trim(), v.minLength(1, 'is required'), v.maxLength(500, 'must be at most 500 characters'));

export const RevealBody = v.object({ reason: Reason });

export const SearchBody = v.object({ tin: Tin, reason: Reason });

const Timestamp = v.pipe(v.string(), v.isoTimestamp(), v.description('ISO 8601, UTC'));

const W9Fields = {
  legalName: v.string(),
  businessName: v.nullable(v.string()),
  taxClassification: v.picklist(TAX_CLASSIFICATIONS),
  tinType: v.picklist(['ssn', 'ein']),
  signedAt: Timestamp,
  updatedAt: v.pipe(Timestamp, v.description('When this form replaced the previous one')),
};

export const MaskedW9 = v.pipe(
  v.object({
    ...W9Fields,
    tin: v.pipe(v.string(), v.description('The last four digits only: ***-**-NNNN (SSN) or **-***NNNN (EIN)')),
    address: v.pipe(
      v.object({ line1: v.string(), line2: v.nullable(v.string()), city: v.string(), state: v.string(), postalCode: v.string() }),
      v.description('Street lines masked as *** (null stays null); city, state and postal code as given'),
    ),
  }),
  v.description('A W-9 as its owner sees it: masked. The full form is revealed to admins only, on the record.'),
);

export const RevealedW9 = v.pipe(
  v.object({
    userId: v.string(),
    ...W9Fields,
    tin: v.pipe(v.string(), v.description('The nine digits')),
    address: W9Address,
    signature: v.string(),
  }),
  v.description('A W-9 in full, as an audited reveal shows it.'),
);

export const SearchResult = v.object({
  items: v.pipe(
    v.array(v.object({ userId: v.string(), legalName: v.string(), tinType: v.picklist(['ssn', 'ein']), updatedAt: Timestamp })),
    v.description('Every current form holding the TIN, oldest first'),
  ),
});

/** The schemas the OpenAPI document lists by name. */
export const namedW9Schemas = { MaskedW9, RevealedW9 };

// The contract's types and the documented schemas describe the same objects.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };
const typesAgree: [
  Same<v.InferOutput<typeof MaskedW9>, Mutable<MaskedW9Type>>,
  Same<v.InferOutput<typeof RevealedW9>, Mutable<RevealedW9Type>>,
  Same<v.InferOutput<typeof SearchResult>['items'][number], Mutable<W9SearchHit>>,
] = [true, true, true];
void typesAgree;
