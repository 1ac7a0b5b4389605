/** The storage plugin's problem codes (API.md: tracks and storage). */
import { coreProblems, defineProblems } from '../../core/index.ts';

/** Declared in the plugin definition (`problems`), so the OpenAPI document knows their statuses. */
export const storageProblemCatalogue = defineProblems({
  checksum_mismatch: { status: 400, title: 'Checksum mismatch' },
  invalid_signature: { status: 403, title: 'Invalid signature' },
  range_not_satisfiable: { status: 416, title: 'Range not satisfiable' },
});

export const storageProblems = {
  checksum_mismatch: storageProblemCatalogue.checksum_mismatch,
  invalid_signature: storageProblemCatalogue.invalid_signature,
  range_not_satisfiable: storageProblemCatalogue.range_not_satisfiable,
  payload_too_large: coreProblems.payload_too_large,
};
