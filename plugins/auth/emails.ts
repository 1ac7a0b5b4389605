/**
 * The messages the auth plugin sends, registered with the email service in its init. Every link
 * points into the label's app (PUBLIC_APP_URL); tokens travel only in those links.
 */
import { defineEmailTemplate, type AppLink } from '../email/contract.ts';

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

export const authEmails = {
  verifyEmail: defineEmailTemplate<{ readonly displayName: string; readonly link: AppLink; readonly expiresInHours: number }>(
    'auth.verify-email',
    (data, { productName }) => ({
      subject: 'Confirm your email address',
      recipientName: data.displayName,
      blocks: [
        `Thanks for signing up with ${productName}. Please confirm your email address to activate your account.`,
        { label: 'Confirm email address', link: data.link },
        `This link expires in ${plural(data.expiresInHours, 'hour')} and works once.`,
        `If you did not create an ${productName} account, you can ignore this email.`,
      ],
    }),
  ),
  accountExists: defineEmailTemplate<{ readonly displayName: string; readonly loginLink: AppLink; readonly resetLink: AppLink }>(
    'auth.account-exists',
    (data, { productName }) => ({
      subject: `You already have an ${productName} account`,
      recipientName: data.displayName,
      blocks: [
        `Someone, hopefully you, tried to sign up for ${productName} with this email address. An account with this address already exists, so no new account was created.`,
        { label: 'Log in', link: data.loginLink },
        'Forgotten your password? You can choose a new one:',
        { label: 'Reset your password', link: data.resetLink },
        'If this was not you, you can ignore this email. Your account has not changed.',
      ],
    }),
  ),
  passwordReset: defineEmailTemplate<{ readonly displayName: string; readonly link: AppLink; readonly expiresInMinutes: number }>(
    'auth.password-reset',
    (data, { productName }) => ({
      subject: `Reset your ${productName} password`,
      recipientName: data.displayName,
      blocks: [
        `We received a request to reset the password of your ${productName} account.`,
        { label: 'Choose a new password', link: data.link },
        `This link expires in ${plural(data.expiresInMinutes, 'minute')} and works once.`,
        'If you did not ask for this, you can ignore this email. Your password stays the same.',
      ],
    }),
  ),
  passwordChanged: defineEmailTemplate<{ readonly displayName: string; readonly resetLink: AppLink }>(
    'auth.password-changed',
    (data, { productName }) => ({
      subject: `Your ${productName} password was changed`,
      recipientName: data.displayName,
      blocks: [
        `The password of your ${productName} account was just changed. If you made this change, there is nothing else to do.`,
        'If you did not, reset your password now to secure your account:',
        { label: 'Reset your password', link: data.resetLink },
      ],
    }),
  ),
} as const;
