/**
 * Each fault scenario reports what it injected and what it counted; `npm run test:faults`
 * (scripts/test-faults.ts) prints them as one table after the run. A scenario also fails on its
 * own assertions: this is the record, not the verdict.
 */
import { appendFileSync } from 'node:fs';

export interface FaultReport {
  readonly scenario: string;
  /** What was done to which dependency, and when. */
  readonly injected: string;
  /** Requests (or jobs) made while the fault was on or around it. */
  readonly requests: number;
  /** Answers by kind, e.g. { '2xx': 812, '503': 140 }. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Anything lost: rows, mails, tokens, counts that do not add up (must be 0). */
  readonly losses: number;
  readonly notes?: string;
}

export function reportFault(report: FaultReport): void {
  const line = JSON.stringify(report);
  console.log(`fault scenario: ${line}`);
  const file = process.env.EMPULSE_FAULT_REPORT;
  if (file) appendFileSync(file, `${line}\n`);
}
