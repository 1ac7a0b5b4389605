/**
 * The messages the artists plugin sends: the outcome of an application's review. Each is queued in
 * the review's transaction, so an artist hears of a decision exactly when it is recorded.
 */
import { defineEmailTemplate } from '../email/contract.ts';

export interface ReviewEmailData {
  readonly displayName: string;
  readonly stageName: string;
  /** The reviewer's words, when they gave any (always, for a rejection). */
  readonly reason: string | null;
}

export const artistApprovedEmail = defineEmailTemplate<ReviewEmailData>('artists.approved', (data, { productName }) => ({
  subject: `Your ${productName} artist profile is approved`,
  recipientName: data.displayName,
  blocks: [
    `Good news: your artist profile "${data.stageName}" has been approved. You can now submit tracks to ${productName}.`,
    ...(data.reason === null ? [] : [`A note from the reviewer: ${data.reason}`]),
    { label: 'Submit a track', link: { path: '/tracks/new' } },
  ],
}));

export const artistRejectedEmail = defineEmailTemplate<ReviewEmailData & { readonly reason: string }>(
  'artists.rejected',
  (data, { productName }) => ({
    subject: `Your ${productName} artist application was not approved`,
    recipientName: data.displayName,
    blocks: [
      `We have reviewed your artist profile "${data.stageName}" and could not approve it this time.`,
      `The reviewer's reason: ${data.reason}`,
      'You can update your profile and apply again; it will be reviewed once more.',
      { label: 'Update your profile', link: { path: '/artist/profile' } },
    ],
  }),
);

export const artistsEmails = [artistApprovedEmail, artistRejectedEmail] as const;
