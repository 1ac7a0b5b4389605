/**
 * The durable outbox: one row per message, written in the caller's transaction and worked off
 * by the delivery worker. `payload` is the sealed (encrypted) message and is wiped once sent.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const OUTBOX_STATUSES = ['pending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** Says exactly what migration `email/0001_create_outbox` creates (the conformance suite compares them). */
export const EmailOutbox = defineEntity({
  name: 'EmailOutbox',
  tableName: 'email_outbox',
  // The worker's only hot query: due pending rows. Sent and failed rows stay out of the index.
  indexes: [{ name: 'email_outbox_due', properties: ['nextAttemptAt'], where: "status = 'pending'" }],
  properties: {
    id: p.uuid().primary(),
    recipient: p.string().length(320),
    template: p.string().length(64),
    payload: p.blob().nullable(),
    status: p.enum(OUTBOX_STATUSES).columnType('varchar(16)').default('pending'),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().defaultRaw('now()'),
    lastError: p.text().nullable(),
    requestId: p.string().length(128).nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    sentAt: p.datetime().nullable(),
  },
});

export type EmailOutbox = InferEntity<typeof EmailOutbox>;
