/** The message the lockout plugin sends to the owner of a locked account. */
import { defineEmailTemplate, type AppLink } from '../email/contract.ts';

export const accountLockedEmail = defineEmailTemplate<{ readonly lockedUntil: Date; readonly resetLink: AppLink }>(
  'lockout.account-locked',
  (data, { productName, formatTime }) => ({
    subject: `Sign-in to your ${productName} account is paused`,
    blocks: [
      `After several failed sign-in attempts, sign-in to your ${productName} account is blocked until ${formatTime(data.lockedUntil)}.`,
      'If that was you, you can try again after that time. If it was not, someone may be guessing your password; choosing a new one keeps your account safe:',
      { label: 'Reset your password', link: data.resetLink },
    ],
  }),
);
