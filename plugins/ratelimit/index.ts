/**
 * ratelimit plugin: sliding-window limits on every route, by route group (declared by the plugin
 * that owns the route, overridden by the operator), keyed per authenticated user on routes that
 * declare `auth`, and per client IP everywhere else (X-Forwarded-For only from trusted proxies,
 * as the core pipeline resolves it).
 * Over the limit: 429 rate_limited with Retry-After; limited routes carry RateLimit-Policy and
 * RateLimit headers (IETF draft). Backends: memory (default), Redis over TCP, Upstash REST.
 */
import { Redis as UpstashRedis } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { closestName, coreProblems, coreServices, definePlugin, type HttpContext, type RouteDefinition } from '../../core/index.ts';
import { authServiceRef } from '../auth/contract.ts';
import { metricsServiceRef } from '../metrics/contract.ts';
import { openApiServiceRef } from '../openapi/contract.ts';
import { rateLimit } from './contract.ts';
import { ratelimitConfigFromEnv, ratelimitConfigSchema, resolveBackend, validateRatelimitConfig } from './config.ts';
import type { Limiter, Policy } from './limiter.ts';
import { MemoryLimiter } from './memory-limiter.ts';
import { upstashCompatible } from './redis-adapter.ts';
import { ResilientLimiter } from './resilient-limiter.ts';
import { SharedLimiter } from './shared-limiter.ts';

/** The plugin's state in one kernel: the limiter, and how readiness reaches its backend. */
interface Running {
  readonly limiter: Limiter;
  readonly resilient: ResilientLimiter | undefined;
  /** Reaches the shared backend (readiness), undefined for memory. */
  readonly ping: (() => Promise<unknown>) | undefined;
}

export const ratelimitPlugin = definePlugin({
  id: 'ratelimit',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Sliding-window rate limits per client IP and user',
  requires: { http: coreServices.http, routes: coreServices.routes },
  optional: { auth: authServiceRef, openapi: openApiServiceRef, metrics: metricsServiceRef },
  config: ratelimitConfigSchema,
  fromEnv: ratelimitConfigFromEnv,
  validate: validateRatelimitConfig,
  secrets: ['upstashToken', 'redisUrl'],
  async init(ctx) {
    const config = ctx.config;
    const memory = new MemoryLimiter();
    const backend = resolveBackend(config);
    let state: Running = { limiter: memory, resilient: undefined, ping: undefined };
    if (backend === 'redis') {
      const client = new IORedis(config.redisUrl!, {
        lazyConnect: true,
        enableOfflineQueue: false, // fail fast while disconnected, so memory limits take over
        maxRetriesPerRequest: 1,
        connectTimeout: 1000,
        retryStrategy: (times) => Math.min(times * 200, 2000),
      });
      // Reported through the limiter's fallback (once) and readiness; the last one is kept so
      // readiness can say why (ioredis's own ping error only says the stream is not writeable).
      let lastError: string | undefined;
      client.on('error', (err: Error) => (lastError = err.message));
      client.on('ready', () => (lastError = undefined));
      const where = `Redis at ${addressOf(config.redisUrl!)}`;
      // Connect before serving; an unreachable Redis does not stop the boot: memory limits apply
      // and ioredis keeps reconnecting in the background.
      await client.connect().catch((err: unknown) => ctx.logger.warn({ err }, 'Redis for rate limits is unreachable at boot'));
      const resilient = new ResilientLimiter(new SharedLimiter(upstashCompatible(client), config.timeoutMs), memory, ctx.logger);
      ctx.onStop(() => client.disconnect());
      state = { limiter: resilient, resilient, ping: () => named(where, client.ping(), () => lastError) };
    } else if (backend === 'upstash') {
      const redis = new UpstashRedis({ url: config.upstashUrl!, token: config.upstashToken!, retry: false, enableTelemetry: false });
      const resilient = new ResilientLimiter(new SharedLimiter(redis, config.timeoutMs), memory, ctx.logger);
      const where = `Upstash at ${addressOf(config.upstashUrl!)}`;
      state = { limiter: resilient, resilient, ping: () => named(where, redis.ping(), () => undefined) };
    }
    ctx.logger.info({ backend }, 'rate limits ready');
    if (backend === 'memory' && ctx.mode === 'production') {
      // Fine for one instance; with several, each would grant the whole budget. Said, not refused.
      ctx.logger.warn(
        { backend },
        'rate limits are kept in this process\'s memory: with more than one instance each grants the full budget, and a restart resets them; set REDIS_URL (or UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN) to share them',
      );
    }

    const policyOf = (route: RouteDefinition): Policy | undefined => {
      const declared = rateLimit.read(route);
      if (declared === false) return undefined;
      const base = declared ?? { group: 'default', ...config.defaultPolicy };
      const override = config.policies[base.group];
      return { group: base.group, limit: override?.limit ?? base.limit, windowSeconds: override?.windowSeconds ?? base.windowSeconds };
    };
    // Per user only on routes that serve signed-in callers: on login, register and the other
    // routes that work without a session, a token must not buy a fresh budget (API.md).
    const clientKey = async (http: HttpContext, route: RouteDefinition): Promise<string> => {
      const auth = ctx.services.auth;
      if (auth && route.options.auth !== undefined && http.get('authorization') !== '') {
        const principal = await auth.authenticate(http);
        if (principal) return `user:${principal.user.id}`;
      }
      return `ip:${http.ip}`;
    };

    const metrics = ctx.services.metrics;
    const decisions = metrics?.counter({
      name: 'empulse_ratelimit_decisions_total',
      help: 'Rate-limit decisions by group and decision (allowed, limited)',
      labelNames: ['group', 'decision'],
    });
    metrics?.gauge({
      name: 'empulse_ratelimit_backend_up',
      help: 'Whether the rate-limit backend is in use (1), or limits fell back to this process\'s memory (0)',
      labelNames: ['backend'],
      collect: (gauge) => gauge.set({ backend }, state.resilient?.degraded ? 0 : 1),
    });

    ctx.services.http.exposeHeaders('RateLimit', 'RateLimit-Policy');
    ctx.services.openapi?.decorate(({ route, operation, addProblem }) => {
      const policy = policyOf(route);
      if (!policy) return;
      const note = `Rate-limit group "${policy.group}": ${policy.limit} requests per ${policy.windowSeconds} s per ${route.options.auth ? 'user (per client address without a session)' : 'client address'}; RateLimit-Policy and RateLimit headers, 429 rate_limited with Retry-After over the limit.`;
      operation.description = [operation.description, note].filter(Boolean).join('\n\n');
      addProblem('rate_limited', { headers: { 'Retry-After': 'Seconds until the group\'s window lets a request through again' } });
      const headers = {
        'RateLimit-Policy': { description: 'The group\'s policy (IETF draft): "<group>";q=<limit>;w=<window seconds>', schema: { type: 'string' } },
        RateLimit: { description: 'What is left (IETF draft): "<group>";r=<remaining>;t=<seconds to reset>', schema: { type: 'string' } },
      };
      for (const [status, response] of Object.entries(operation.responses as Record<string, { headers?: object }>)) {
        if (status.startsWith('2')) response.headers = { ...response.headers, ...headers };
      }
    });
    // Each route's policy and its RateLimit-Policy header, worked out once (routes never change
    // once mounted): this guard runs on every request.
    const perRoute = new WeakMap<RouteDefinition, { readonly policy: Policy; readonly header: string } | null>();
    const limitOf = (route: RouteDefinition) => {
      let known = perRoute.get(route);
      if (known === undefined) {
        const policy = policyOf(route);
        known = policy ? { policy, header: `"${policy.group}";q=${policy.limit};w=${policy.windowSeconds}` } : null;
        perRoute.set(route, known);
      }
      return known;
    };
    ctx.services.http.addGuard(async (http, route) => {
      const limit = limitOf(route);
      if (!limit) return;
      const policy = limit.policy;
      const decision = await state.limiter.limit(await clientKey(http, route), policy);
      decisions?.inc({ group: policy.group, decision: decision.success ? 'allowed' : 'limited' });
      const resetSeconds = Math.max(0, Math.ceil((decision.reset - Date.now()) / 1000));
      http.set('RateLimit-Policy', limit.header);
      http.set('RateLimit', `"${policy.group}";r=${decision.remaining};t=${resetSeconds}`);
      if (!decision.success) {
        throw coreProblems.rate_limited(`Too many requests; try again in ${Math.max(1, resetSeconds)} s.`, {
          headers: { 'Retry-After': String(Math.max(1, resetSeconds)) },
        });
      }
    });
    return { state };
  },
  start(ctx) {
    // A policy for a group no route declares is most likely a typo ("auth.logn"): it would
    // silently change nothing. Said with the nearest group; not refused, since the group may
    // belong to a plugin this deployment does not enable.
    const groups = new Set(['default']);
    for (const route of ctx.services.routes.list()) {
      const declared = rateLimit.read(route);
      if (declared) groups.add(declared.group);
    }
    for (const name of Object.keys(ctx.config.policies)) {
      if (groups.has(name)) continue;
      const nearest = closestName(name, groups);
      ctx.logger.warn(
        { group: name, groups: [...groups].sort() },
        `policies["${name}"]: no enabled route is in the rate-limit group "${name}", so this policy changes nothing${nearest ? ` (did you mean "${nearest}"?)` : ''}`,
      );
    }
  },
  health: {
    // Degraded, not failed: requests are still limited (in memory) while the backend is away.
    ratelimit: async (ctx) => {
      const state = ctx.state;
      if (!state.ping) return undefined;
      try {
        await state.ping();
      } catch (err) {
        return { degraded: `${err instanceof Error ? err.message : String(err)}; limits enforced in memory` };
      }
      const reason = await state.resilient?.recheck();
      return reason ? { degraded: reason } : undefined;
    },
  },
});

/** host:port of a backend URL: what an operator needs to find it, never its credentials. */
function addressOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.port ? `${parsed.hostname}:${parsed.port}` : parsed.hostname;
  } catch {
    return '(an unparsable URL)';
  }
}

/** The ping, failing with a message that names the backend and the connection's own last error. */
async function named(where: string, ping: Promise<unknown>, lastError: () => string | undefined): Promise<void> {
  try {
    await ping;
  } catch (err) {
    const why = lastError() ?? (err instanceof Error ? err.message : String(err));
    throw new Error(`${where} is unreachable (${why})`);
  }
}
