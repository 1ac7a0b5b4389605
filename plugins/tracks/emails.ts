/**
 * The messages the tracks plugin sends: the outcome of a track's review. Each is queued in the
 * review's transaction, so an artist hears of a decision exactly when it is recorded.
 */
import { defineEmailTemplate } from '../email/contract.ts';

export interface TrackReviewEmailData {
  readonly displayName: string;
  readonly title: string;
  /** The reviewer's words, when they gave any (always, for a rejection). */
  readonly reason: string | null;
}

export const trackApprovedEmail = defineEmailTemplate<TrackReviewEmailData>('tracks.approved', (data, { productName }) => ({
  subject: `Your track "${data.title}" is approved`,
  recipientName: data.displayName,
  blocks: [
    `Good news: your track "${data.title}" has been approved by ${productName}.`,
    ...(data.reason === null ? [] : [`A note from the reviewer: ${data.reason}`]),
    { label: 'See your tracks', link: { path: '/tracks' } },
  ],
}));

export const trackRejectedEmail = defineEmailTemplate<TrackReviewEmailData & { readonly reason: string }>('tracks.rejected', (data, { productName }) => ({
  subject: `Your track "${data.title}" was not approved`,
  recipientName: data.displayName,
  blocks: [
    `We have reviewed your track "${data.title}" and ${productName} could not approve it this time.`,
    `The reviewer's reason: ${data.reason}`,
    'You can upload a corrected version as a new track.',
    { label: 'Submit a track', link: { path: '/tracks/new' } },
  ],
}));

export const tracksEmails = [trackApprovedEmail, trackRejectedEmail] as const;
