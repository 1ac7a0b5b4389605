/**
 * Empulse's public API: everything a plugin author or an operator's config imports.
 */
export { definePlugin, configure } from './plugin/define-plugin.ts';
export type {
  AnyInitContext,
  AnyPluginContext,
  CommandIo,
  ConfigProblem,
  ConfigSchema,
  ConfiguredPlugin,
  ContextOf,
  Env,
  FullContext,
  HealthCheck,
  InitContext,
  InitPluginContext,
  InitResult,
  LifecycleTimeouts,
  NoConfig,
  OptionsOf,
  Plugin,
  PluginCommand,
  PluginContext,
  PluginServices,
  PluginSpec,
  RuntimeMode,
  StateOf,
} from './plugin/define-plugin.ts';
export { ExtensionPoint } from './plugin/extension-point.ts';
export { createServiceRef } from './plugin/service-ref.ts';
export type { OptionalServicesOf, ServiceOf, ServiceRef, ServiceRefMap, ServicesOf } from './plugin/service-ref.ts';
export { defineHook } from './plugin/hooks.ts';
export type { EmitOptions, HookBinder, HookRef, HookSubscription, PayloadOf } from './plugin/hooks.ts';
export { defineConfig, resolveConfig } from './config/define-config.ts';
export { closestName } from './config/did-you-mean.ts';
export type { ConfigInput, EmpulseConfig, HttpSettings, OutageSettings } from './config/define-config.ts';
export { coreServices } from './core-services.ts';
export { DEFAULT_OUTAGE_RETRY_SECONDS, DependencyUnavailableError, outageOf } from './outage/dependency-unavailable.ts';
export type { Outage, OutageCause, PeerNames } from './outage/dependency-unavailable.ts';
export type { HttpService, LifecycleService, OutageService, PluginSummary, ResponseObservation, ResponseObserver, RouteCatalog } from './core-services.ts';
export type { CheckOutcome, CheckReport, CheckStatus, HealthService, ReadinessReport } from './health/health-registry.ts';
export { HttpProblem, coreProblems, defineProblems, problemType } from './http/problem.ts';
export type { DeclaredProblem, FieldError, ProblemBody, ProblemCatalogue, ProblemDefinition, ProblemInit } from './http/problem.ts';
export type { HttpContext, RequestState } from './http/context.ts';
export { multiline } from './http/control-characters.ts';
export { issueMessage } from './http/issue-message.ts';
export type { RawParams, RawQuery } from './http/context.ts';
export type { ParamsSchema, QuerySchema } from './http/plugin-router.ts';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, page, paginationQuery, paginationQuerySchema } from './http/pagination.ts';
export type { Page, PageOptions, PaginationQuery } from './http/pagination.ts';
export { MAX_CURSOR_LENGTH, createCursorCodec, invalidCursor } from './http/cursor-codec.ts';
export { decodeBase64Url, encodeBase64Url } from './http/base64url.ts';
export type { CursorCodec, JsonValue } from './http/cursor-codec.ts';
export { loadOrCreateKey } from './database/kernel-keys.ts';
export type { SqlExecutor } from './database/kernel-keys.ts';
export { defineRouteMeta } from './http/route-meta.ts';
export type { RouteMetaEntry, RouteMetaKey } from './http/route-meta.ts';
export type {
  BodySchema,
  HttpMethod,
  PluginRouter,
  RouteDefinition,
  RouteGuard,
  RouteHandler,
  RouteOptions,
  RouteBody,
  RouteResponse,
} from './http/plugin-router.ts';
export { multipartBody, streamBody } from './http/body/kinds.ts';
export type {
  MultipartBody,
  MultipartBodyInit,
  MultipartBodyOptions,
  MultipartFieldPart,
  MultipartFilePart,
  MultipartPart,
  StreamBodyInit,
  StreamBodyOptions,
  UploadBody,
} from './http/body/kinds.ts';
export type { Database, DatabaseConfig, NamedStatement, PoolStats } from './database/database.ts';
export { Migration } from './database/migration-entry.ts';
export type { MigrationEntry } from './database/migration-entry.ts';
export type { MigrationStatus } from './database/migration-runner.ts';
export { Kernel } from './kernel/kernel.ts';
export type { BootOptions, KernelOptions, KernelState, PluginDescription } from './kernel/kernel.ts';
export { BootError, formatProblem } from './kernel/boot-error.ts';
export type { BootProblem } from './kernel/boot-error.ts';
export type { CommandEntry } from './kernel/command-table.ts';
export { KERNEL_VERSION } from './kernel/version.ts';
export { createLogger, extendRedaction } from './logging/create-logger.ts';
export type { LogFn, Logger, LogLevel } from './logging/logger.ts';
