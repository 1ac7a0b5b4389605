/**
 * The durable outbox: one row per message, written in the caller's transaction and worked off
 * by the delivery worker. `payload` is the sealed (encrypted) message and is wiped once sent.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const OUTBOX_STATUSES = ['pending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export const EmailOutbox = defineEntity({
  name: 'EmailOutbox',
  tableName: 'email_outbox',
  properties: {
    id: p.uuid().primary(),
    recipient: p.string().length(320),
    template: p.string().length(64),
    payload: p.blob().nullable(),
    status: p.enum(OUTBOX_STATUSES),
    attempts: p.integer(),
    nextAttemptAt: p.datetime(),
    lastError: p.text().nullable(),
    requestId: p.string().length(128).nullable(),
    createdAt: p.datetime(),
    sentAt: p.datetime().nullable(),
  },
});

export type EmailOutbox = InferEntity<typeof EmailOutbox>;
