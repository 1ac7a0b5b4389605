/**
 * The contract between the two example plugins: a service ref and its type. Plugins share
 * contracts like this one, never each other's implementation files.
 */
import { createServiceRef } from '../../core/index.ts';

export interface ModerationService {
  /** The text with blocked words masked, and whether anything was masked. */
  clean(text: string): { readonly text: string; readonly masked: boolean };
}

export const moderationServiceRef = createServiceRef<ModerationService>('example.moderation');
