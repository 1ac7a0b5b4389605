/**
 * The operator's file, `empulse.config.ts`, default-exports `defineConfig({...})`: which plugins
 * run (each optionally with options) and the kernel's HTTP settings.
 */
import type { ConfiguredPlugin, Env, Plugin } from '../plugin/define-plugin.ts';

export interface HttpSettings {
  /** Origins allowed by CORS (exact match). Empty: no CORS headers at all. */
  readonly allowedOrigins?: readonly string[];
  /** Proxy addresses or CIDRs whose `X-Forwarded-For` is believed. */
  readonly trustedProxies?: readonly string[];
  /** Default JSON body limit in bytes (routes may set their own). */
  readonly bodyLimitBytes?: number;
  /** Default per-request time budget in milliseconds (routes may set their own). */
  readonly requestTimeoutMs?: number;
}

/** How dependency outages are reported (core/outage/outage-log.ts). */
export interface OutageSettings {
  /** How often an ongoing outage is summarised in the log and the dependency probed again (default 10000 ms). */
  readonly summaryIntervalMs?: number;
}

export interface EmpulseConfig {
  readonly plugins: readonly (Plugin | ConfiguredPlugin)[];
  readonly http?: HttpSettings;
  readonly outages?: OutageSettings;
}

/** A config may be computed from the environment the host read. */
export type ConfigInput = EmpulseConfig | ((env: Env) => EmpulseConfig);

export function defineConfig<const C extends ConfigInput>(config: C): C {
  return config;
}

/** Resolves a config input (object or function of the environment) to the config. */
export function resolveConfig(input: ConfigInput, env: Env): EmpulseConfig {
  return typeof input === 'function' ? input(env) : input;
}

export function toConfigured(entry: Plugin | ConfiguredPlugin): ConfiguredPlugin {
  return 'kind' in entry && entry.kind === 'empulse.plugin' ? { plugin: entry, options: undefined } : (entry as ConfiguredPlugin);
}
