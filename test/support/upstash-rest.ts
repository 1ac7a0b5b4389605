/**
 * A local stand-in for the Upstash Redis REST API, backed by a real Redis over TCP, so tests can
 * drive `@upstash/redis` / `@upstash/ratelimit` end to end without a cloud account.
 *
 * Speaks what @upstash/redis 1.39 sends: POST `/` with one command as a JSON array, POST
 * `/pipeline` and `/multi-exec` with an array of commands, `Authorization: Bearer <token>`, and
 * `Upstash-Encoding: base64` (the client's default) for the reply encoding. Path-style commands
 * (`GET /get/key`) are not supported; the SDK never uses them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Redis as IORedis } from 'ioredis';

export interface UpstashRest {
  url: string;
  token: string;
  /** Commands served so far (each command of a pipeline counts), to prove traffic went through. */
  readonly requests: number;
  close(): Promise<void>;
}

type Reply = { result: unknown } | { error: string };

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

export async function startUpstashRest(options: {
  token: string;
  redisUrl?: string;
}): Promise<UpstashRest> {
  const { token } = options;
  // Fail fast (no endless reconnect loop) when Redis is down: the test should say so, not hang.
  const redis = new IORedis(options.redisUrl ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  await redis.connect();

  // Upstash scripts open with `#!lua flags=allow-key-locking`, a flag only Upstash knows (Redis
  // 7.0 rejects the shebang). We run them without that line, so the SHA-1 the client computed
  // (of the original text) differs from the one Redis caches: remember original → stripped.
  const shaOf = new Map<string, string>();
  let requests = 0;

  /** JSON args as Redis args: the SDK sends numbers/booleans raw and anything else JSON-encoded. */
  function toArgs(command: unknown): [string, ...string[]] {
    if (!Array.isArray(command) || command.length === 0) throw new Error('ERR command must be a non-empty array');
    const [name, ...rest] = command.map((part) => (typeof part === 'string' ? part : JSON.stringify(part)));
    return [name!.toLowerCase(), ...rest];
  }

  function rewriteScripts([name, ...args]: [string, ...string[]]): [string, ...string[]] {
    if (name === 'eval' && args[0]?.startsWith('#!')) {
      const original = args[0];
      const stripped = original.slice(original.indexOf('\n') + 1);
      shaOf.set(sha1(original).toLowerCase(), sha1(stripped));
      return [name, stripped, ...args.slice(1)];
    }
    if (name === 'evalsha' && args[0]) {
      // Unknown SHAs go to Redis unchanged: it answers `NOSCRIPT No matching script. Please use
      // EVAL.` in its own words, which is exactly what makes the SDK fall back to EVAL. Same if
      // Redis lost the script (restart, SCRIPT FLUSH) after we mapped it.
      return [name, shaOf.get(args[0].toLowerCase()) ?? args[0], ...args.slice(1)];
    }
    return [name, ...args];
  }

  /** Upstash base64-encodes every bulk string when asked; numbers, nulls and nesting stay JSON. */
  function encode(value: unknown, base64: boolean): unknown {
    if (Buffer.isBuffer(value)) return base64 ? value.toString('base64') : value.toString('utf8');
    if (Array.isArray(value)) return value.map((item) => encode(item, base64));
    if (typeof value === 'string') return base64 ? Buffer.from(value).toString('base64') : value;
    return value ?? null;
  }

  const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

  async function runOne(command: unknown, base64: boolean): Promise<Reply> {
    try {
      const [name, ...args] = rewriteScripts(toArgs(command));
      requests += 1;
      // Buffers keep binary values intact until we pick the reply encoding.
      return { result: encode(await redis.callBuffer(name, ...args), base64) };
    } catch (error) {
      return { error: errorText(error) };
    }
  }

  async function runMulti(commands: unknown[], base64: boolean): Promise<Reply[]> {
    // A real MULTI/EXEC through ioredis: sending MULTI by hand would interleave with other
    // requests sharing the connection.
    const multi = redis.multi();
    for (const command of commands) multi.callBuffer(...rewriteScripts(toArgs(command)));
    requests += commands.length;
    const replies = (await multi.exec()) ?? [];
    return replies.map(([error, result]) => (error ? { error: errorText(error) } : { result: encode(result, base64) }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'Unauthorized' });
    if (req.method !== 'POST') return send(405, { error: 'Only POST is supported' });

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(400, { error: 'ERR failed to parse command' });
    }
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');

    if (path === '/pipeline' || path === '/multi-exec') {
      if (!Array.isArray(body)) return send(400, { error: 'ERR expected an array of commands' });
      // Per-command errors ride inside a 200, as Upstash does; the SDK sorts them out per command.
      if (path === '/pipeline') return send(200, await Promise.all(body.map((command) => runOne(command, base64))));
      try {
        return send(200, await runMulti(body, base64));
      } catch (error) {
        return send(400, { error: errorText(error) });
      }
    }
    if (path === '') {
      const reply = await runOne(body, base64);
      // A failed single command is a 400 with `{ error }`: the SDK throws it verbatim, and
      // @upstash/ratelimit looks for "NOSCRIPT" in that message to fall back to EVAL.
      return send('error' in reply ? 400 : 200, reply);
    }
    return send(404, { error: `Unsupported path ${path}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: errorText(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    get requests() {
      return requests;
    },
    async close() {
      // The SDK's fetch uses keep-alive; without this, close() would wait for idle sockets.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
