/**
 * The w9-encryption plugin's contract (`empulse/w9-encryption`): the shapes of a W-9 as the API
 * shows it. The plugin offers no service: tax forms leave it only through its own audited routes.
 */

export const TAX_CLASSIFICATIONS = ['individual', 'c_corporation', 's_corporation', 'partnership', 'trust_estate', 'llc', 'other'] as const;
export type TaxClassification = (typeof TAX_CLASSIFICATIONS)[number];

export type TinType = 'ssn' | 'ein';

export interface W9Address {
  readonly line1: string;
  readonly line2: string | null;
  readonly city: string;
  readonly state: string;
  readonly postalCode: string;
}

/**
 * A W-9 as its owner sees it (`GET /v1/w9`): the TIN masked to its last four digits
 * (`***-**-6789`, `**-***6789`) and the street lines of the address masked (`***`); city, state
 * and postal code are shown so the owner can tell which address is on file.
 */
export interface MaskedW9 {
  readonly legalName: string;
  readonly businessName: string | null;
  readonly taxClassification: TaxClassification;
  readonly tinType: TinType;
  readonly tin: string;
  readonly address: W9Address;
  /** When the form was signed (ISO 8601, UTC). */
  readonly signedAt: string;
  /** When this form replaced the previous one (ISO 8601, UTC). */
  readonly updatedAt: string;
}

/** A W-9 as an admin's audited reveal shows it: the nine digits, the whole address and the signature. */
export interface RevealedW9 extends MaskedW9 {
  readonly userId: string;
  readonly signature: string;
}

/** One current form holding a searched TIN (`POST /v1/admin/w9/search`). */
export interface W9SearchHit {
  readonly userId: string;
  readonly legalName: string;
  readonly tinType: TinType;
  readonly updatedAt: string;
}
