/**
 * A W-9 between its clear form and its row: sealing encrypts the TIN, the address and the
 * signature, each bound to the table, its column, the row's id (so the id exists before the
 * insert: UUIDv7, in time order) and the row's clear values (its owner, names, classification,
 * TIN type, signing time and blind index), and computes the TIN's blind index first; opening
 * reverses it and fails with SealedValueError, never with a wrong value: a row handed to another
 * user or relabelled in the table no longer opens.
 */
import { v7 as uuidv7 } from 'uuid';
import type { BlindIndex } from './blind-index.ts';
import type { MaskedW9, RevealedW9, TaxClassification, TinType, W9Address } from './contract.ts';
import type { FieldCipher, FieldLocation } from './field-cipher.ts';
import { FORMS_TABLE, SEALED_COLUMNS, type FormRow, type NewFormRow, type ResealedRow, type SealedColumn } from './form-store.ts';
import { maskTin } from './tin.ts';
import type { W9Input } from './schemas.ts';

type Sealed = Record<SealedColumn, string>;

/** The clear values of a row that its sealed values are bound to (field-cipher.ts, `boundTo`). */
interface RowBinding {
  readonly userId: string;
  readonly legalName: string;
  readonly businessName: string | null;
  readonly taxClassification: TaxClassification;
  readonly tinType: TinType;
  /** ISO 8601 UTC, as the API shows it. */
  readonly signedAt: string;
  readonly tinIndex: string;
}

const at = (rowId: string, column: SealedColumn, row: RowBinding): FieldLocation => ({
  table: FORMS_TABLE,
  column,
  rowId,
  boundTo: [row.userId, row.legalName, row.businessName, row.taxClassification, row.tinType, row.signedAt, row.tinIndex],
});

const bindingOf = (row: FormRow): RowBinding => ({
  userId: row.user_id,
  legalName: row.legal_name,
  businessName: row.business_name,
  taxClassification: row.tax_classification,
  tinType: row.tin_type,
  signedAt: iso(row.signed_at),
  tinIndex: row.tin_index,
});

/** The clear values of the sealed columns. */
interface SealedContent {
  readonly tin: string;
  readonly address: W9Address;
  readonly signature: string;
}

async function sealAll(cipher: FieldCipher, rowId: string, binding: RowBinding, content: SealedContent): Promise<Sealed> {
  const [tin, address, signature] = await Promise.all([
    cipher.encrypt(content.tin, at(rowId, 'tin_sealed', binding)),
    cipher.encrypt(JSON.stringify(content.address), at(rowId, 'address_sealed', binding)),
    cipher.encrypt(content.signature, at(rowId, 'signature_sealed', binding)),
  ]);
  return { tin_sealed: tin, address_sealed: address, signature_sealed: signature };
}

async function openAll(cipher: FieldCipher, row: FormRow): Promise<SealedContent> {
  const binding = bindingOf(row);
  const [tin, address, signature] = await Promise.all(SEALED_COLUMNS.map((column) => cipher.decrypt(row[column], at(row.id, column, binding))));
  return { tin: tin!, address: JSON.parse(address!) as W9Address, signature: signature! };
}

/** A new form's row: a fresh id, its values sealed under the active key, its TIN indexed. */
export async function sealForm(cipher: FieldCipher, index: BlindIndex, userId: string, input: W9Input): Promise<NewFormRow> {
  const id = uuidv7();
  const tinIndex = await index.of(input.tin);
  const binding: RowBinding = {
    userId,
    legalName: input.legalName,
    businessName: input.businessName,
    taxClassification: input.taxClassification,
    tinType: input.tinType,
    signedAt: iso(input.signedAt),
    tinIndex,
  };
  return { id, ...binding, sealed: await sealAll(cipher, id, binding, input), keyId: cipher.activeKeyId };
}

/** The form in full (an admin's reveal). */
export async function openForm(cipher: FieldCipher, row: FormRow): Promise<RevealedW9> {
  const { tin, address, signature } = await openAll(cipher, row);
  return {
    userId: row.user_id,
    legalName: row.legal_name,
    businessName: row.business_name,
    taxClassification: row.tax_classification,
    tinType: row.tin_type,
    tin,
    address,
    signature,
    signedAt: iso(row.signed_at),
    updatedAt: iso(row.created_at),
  };
}

/** The form as its owner sees it: the TIN's last four digits, the address without its street lines, no signature. */
export function maskForm(form: RevealedW9): MaskedW9 {
  const { address } = form;
  return {
    legalName: form.legalName,
    businessName: form.businessName,
    taxClassification: form.taxClassification,
    tinType: form.tinType,
    tin: maskTin(form.tin, form.tinType),
    address: { line1: MASKED, line2: address.line2 === null ? null : MASKED, city: address.city, state: address.state, postalCode: address.postalCode },
    signedAt: form.signedAt,
    updatedAt: form.updatedAt,
  };
}

/** What masked street lines read. */
export const MASKED = '***';

/** The row's values opened and sealed again under the active key (rotation). */
export async function resealRow(cipher: FieldCipher, row: FormRow): Promise<ResealedRow> {
  const content = await openAll(cipher, row);
  return { id: row.id, keyId: cipher.activeKeyId, sealed: await sealAll(cipher, row.id, bindingOf(row), content) };
}

export function iso(value: string | Date): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
