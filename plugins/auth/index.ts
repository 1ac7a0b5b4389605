/**
 * auth plugin: accounts, email verification, login with argon2id, short-lived JWT access tokens,
 * rotating refresh tokens with reuse detection, cookie mode with CSRF defences, password reset
 * and change. Provides the `auth` service (guards, login gates) to other plugins.
 */
import { coreServices, definePlugin } from '../../core/index.ts';
import { emailServiceRef } from '../email/contract.ts';
import { metricsServiceRef } from '../metrics/contract.ts';
import { openApiServiceRef } from '../openapi/contract.ts';
import { authServiceRef, requiresRole, type LoginGate } from './contract.ts';
import { authEmails } from './emails.ts';
import { AccessTokens } from './access-tokens.ts';
import { authConfigFromEnv, authConfigSchema, validateAuthConfig } from './config.ts';
import { AuthEngine, authServiceFacade } from './engine.ts';
import { authEntities } from './entities.ts';
import { authMigrations } from './migrations.ts';
import { describeAuth } from './openapi.ts';
import { PasswordHasher } from './password-hasher.ts';
import { PasswordPolicy } from './password-policy.ts';
import { authProblems } from './problems.ts';
import { registerAuthRoutes } from './routes.ts';
import { namedAuthSchemas } from './schemas.ts';

export const authPlugin = definePlugin({
  id: 'auth',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Accounts, sessions and tokens',
  requires: { email: emailServiceRef, http: coreServices.http, outages: coreServices.outages },
  optional: { openapi: openApiServiceRef, metrics: metricsServiceRef },
  provides: { auth: authServiceRef },
  problems: [authProblems],
  config: authConfigSchema,
  fromEnv: authConfigFromEnv,
  validate: validateAuthConfig,
  secrets: ['jwtSecret', 'jwtPrivateKey'],
  entities: authEntities,
  migrations: authMigrations,
  prefixes: ['/v1/auth', '/v1/me', '/.well-known/jwks.json'],
  async init(ctx) {
    const config = ctx.config;
    const concurrency = config.hashConcurrency ?? Math.max(2, globalThis.navigator?.hardwareConcurrency ?? 2);
    const gates = ctx.extensionPoint<LoginGate>('login-gates');
    ctx.services.email.registerTemplates(...Object.values(authEmails));
    ctx.services.openapi?.nameSchemas(namedAuthSchemas);
    ctx.services.openapi?.decorate(describeAuth);
    const logins = ctx.services.metrics?.counter({
      name: 'empulse_auth_logins_total',
      help: 'Login attempts by outcome: succeeded, invalid_credentials, email_not_verified, refused (a login gate said no: locked), error',
      labelNames: ['outcome'],
    });
    const engine = new AuthEngine(
      {
        config,
        db: ctx.db,
        email: ctx.services.email,
        hasher: new PasswordHasher(config.argon2, concurrency),
        passwordPolicy: new PasswordPolicy(),
        tokens: await AccessTokens.create({
          ...(config.jwtSecret !== undefined && { secret: config.jwtSecret }),
          ...(config.jwtPrivateKey !== undefined && { privateKey: config.jwtPrivateKey }),
          issuer: config.issuer,
          ttlSeconds: config.accessTokenTtlSeconds,
        }),
        gates: gates.items,
        logger: ctx.logger,
        outages: ctx.services.outages,
        emit: ctx.emit,
        countLogin: (outcome) => logins?.inc({ outcome }),
      },
      gates,
    );
    ctx.services.http.addGuard(async (request, route) => {
      const role = requiresRole.read(route);
      if (role) await engine.requireRole(request, role);
    });
    return { services: { auth: authServiceFacade(engine) }, state: engine };
  },
  routes(router, ctx) {
    registerAuthRoutes(router, () => ctx.state);
  },
  async stop(ctx) {
    await ctx.state.settle();
  },
});
