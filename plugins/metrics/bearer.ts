/**
 * Checks a scraper's bearer token without leaking through timing how much of it matched: both
 * sides are hashed first, so the comparison runs over equal-length digests whatever was sent.
 */
const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

export async function bearerMatches(authorization: string, expectedDigest: Uint8Array): Promise<boolean> {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  const given = await digest(match?.[1] ?? '');
  let diff = match ? 0 : 1;
  for (let i = 0; i < expectedDigest.length; i++) diff |= given[i]! ^ expectedDigest[i]!;
  return diff === 0;
}

export { digest as tokenDigest };
