/**
 * What a 422 says about one valibot issue. valibot's default messages quote the value received
 * ("Invalid type: Expected string but received 123456789"); an error body must not echo what was
 * sent (a password, a TIN or a token typed into the wrong field would come back in the answer and
 * in every log that records it), so that part is cut. Messages a schema wrote itself are kept.
 */
import type * as v from 'valibot';

export function issueMessage(issue: v.BaseIssue<unknown>): string {
  const { message, received } = issue;
  // A missing key of an object reads "Invalid key: Expected "name" but received undefined".
  if (issue.kind === 'schema' && received === 'undefined' && message.startsWith('Invalid key:')) return 'is required';
  const tail = ` but received ${received}`;
  if (message.endsWith(tail)) return message.slice(0, -tail.length);
  // Issues without an expectation read "Invalid <kind>: Received <value>".
  const bare = `: Received ${received}`;
  if (message.endsWith(bare)) return message.slice(0, -bare.length);
  return message;
}
