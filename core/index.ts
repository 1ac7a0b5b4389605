/**
 * Empulse's public API: everything a plugin author or an operator's config imports.
 */
export { definePlugin, configure } from './plugin/define-plugin.ts';
export type {
  ConfigProblem,
  ConfigSchema,
  ConfiguredPlugin,
  ContextOf,
  Env,
  HealthCheck,
  LifecycleTimeouts,
  NoConfig,
  Plugin,
  PluginContext,
  PluginServices,
  PluginSpec,
  RuntimeMode,
} from './plugin/define-plugin.ts';
export { createServiceRef } from './plugin/service-ref.ts';
export type { OptionalServicesOf, ServiceOf, ServiceRef, ServiceRefMap, ServicesOf } from './plugin/service-ref.ts';
export { defineHook } from './plugin/hooks.ts';
export type { EmitOptions, HookBinder, HookRef, HookSubscription, PayloadOf } from './plugin/hooks.ts';
export { defineConfig, resolveConfig } from './config/define-config.ts';
export type { ConfigInput, EmpulseConfig, HttpSettings } from './config/define-config.ts';
export { coreServices } from './core-services.ts';
export type { HttpService, LifecycleService, RouteCatalog } from './core-services.ts';
export type { CheckOutcome, CheckReport, CheckStatus, HealthService, ReadinessReport } from './health/health-registry.ts';
export { HttpProblem, coreProblems, defineProblems, problemType } from './http/problem.ts';
export type { FieldError, ProblemBody, ProblemDefinition, ProblemInit } from './http/problem.ts';
export type { HttpContext, RequestState } from './http/context.ts';
export { multiline } from './http/control-characters.ts';
export type {
  BodySchema,
  HttpMethod,
  PluginRouter,
  RateLimitDeclaration,
  RouteDefinition,
  RouteGuard,
  RouteHandler,
  RouteOptions,
} from './http/plugin-router.ts';
export type { Database, DatabaseConfig } from './database/database.ts';
export { Migration } from './database/migration-entry.ts';
export type { MigrationEntry } from './database/migration-entry.ts';
export type { MigrationStatus } from './database/migration-runner.ts';
export { Kernel } from './kernel/kernel.ts';
export type { BootOptions, KernelOptions, KernelState, PluginDescription } from './kernel/kernel.ts';
export { BootError, formatProblem } from './kernel/boot-error.ts';
export type { BootProblem } from './kernel/boot-error.ts';
export { KERNEL_VERSION } from './kernel/version.ts';
export { createLogger } from './logging/create-logger.ts';
export type { LogFn, Logger, LogLevel } from './logging/logger.ts';
export { authHooks, authServiceRef } from './contracts/auth.ts';
export type { AuthService, LoginAttempt, LoginGate, LoginOutcome, Principal, PublicUser, Role } from './contracts/auth.ts';
export { emailServiceRef } from './contracts/email.ts';
export type { AppLink, EmailService, EmailTemplateName, EmailTemplates, SendOptions } from './contracts/email.ts';
export { lockoutServiceRef } from './contracts/lockout.ts';
export type { LockoutService, LockoutStatus } from './contracts/lockout.ts';
