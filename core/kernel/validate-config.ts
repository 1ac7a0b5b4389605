/**
 * Validates every plugin's options with its valibot schema (operator options over values from
 * the environment over schema defaults) and gathers all problems before failing.
 */
import * as v from 'valibot';
import semver from 'semver';
import type { ConfigSchema, ConfiguredPlugin, Env, Plugin, RuntimeMode } from '../plugin/define-plugin.ts';
import type { BootProblem } from './boot-error.ts';
import { CENSOR, isSecretKey } from '../logging/redact.ts';
import { closestName } from '../config/did-you-mean.ts';

export interface ValidatedPlugin {
  readonly plugin: Plugin;
  /** The validated options, as the plugin's code sees them. */
  readonly config: Readonly<Record<string, unknown>>;
}

const emptySchema = v.strictObject({});

export function validatePluginConfigs(
  entries: readonly ConfiguredPlugin[],
  env: Env,
  mode: RuntimeMode,
  kernelVersion: string,
): { validated: ValidatedPlugin[]; problems: BootProblem[] } {
  const problems: BootProblem[] = [];
  const validated: ValidatedPlugin[] = [];
  for (const { plugin, options } of entries) {
    if (plugin.kernel && !semver.satisfies(kernelVersion, plugin.kernel, { includePrerelease: true })) {
      problems.push({ plugin: plugin.id, message: `supports kernel ${plugin.kernel}, but this kernel is ${kernelVersion}` });
    }
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      problems.push({ plugin: plugin.id, message: 'options must be an object' });
      continue;
    }
    const input = { ...definedOnly(plugin.fromEnv?.(env) ?? {}), ...(options as object | undefined) };
    const result = v.safeParse(plugin.config ?? emptySchema, input);
    if (!result.success) {
      const secrets = new Set<string>(plugin.secrets ?? []);
      for (const issue of result.issues) {
        const path = v.getDotPath(issue) ?? '(options)';
        const secret = path.split('.').some((key) => secrets.has(key) || isSecretKey(key) || SECRET_NAME.test(key));
        problems.push({ plugin: plugin.id, path, message: describeIssue(issue, secret, plugin.config) });
      }
      continue;
    }
    const config = result.output as Record<string, unknown>;
    for (const p of plugin.validate?.(config, mode) ?? []) {
      problems.push({ plugin: plugin.id, path: p.path, message: p.message });
    }
    validated.push({ plugin, config: Object.freeze(config) });
  }
  return { validated, problems };
}

function describeIssue(issue: v.BaseIssue<unknown>, secret: boolean, schema: ConfigSchema | undefined): string {
  // valibot reports an unknown key of a strict object as "Invalid key: Expected never but received …".
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    const keys = (issue.path ?? []).map((item) => String(item.key));
    const nearest = closestName(keys.at(-1) ?? '', optionNames(schema, keys.slice(0, -1)));
    return nearest ? `unknown option (did you mean "${nearest}"?)` : 'unknown option (is it a typo?)';
  }
  // valibot's messages quote the received value: never for a secret.
  if (secret) return `invalid value (expected ${issue.expected ?? issue.type}; the value is not shown because it is secret)`;
  return issue.message;
}

function definedOnly(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined));
}

/**
 * The options with the plugin's secret values replaced (at any depth), for printing. A declared
 * secret is always hidden; a key that merely looks secret (`password`, `…Token…`) only when it
 * holds text: a number or a flag is a setting (`accessTokenTtlSeconds: 900`, `argon2.passes: 2`).
 */
export function redactConfig(plugin: Plugin, config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const secrets = new Set<string>(plugin.secrets ?? []);
  const looksSecret = (k: string, item: unknown) => (isSecretKey(k) || SECRET_NAME.test(k)) && typeof item !== 'number' && typeof item !== 'boolean';
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object' || value instanceof Date) return value;
    return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, secrets.has(k) || looksSecret(k, item) ? CENSOR : walk(item)]));
  };
  return walk(config) as Record<string, unknown>;
}

export const SECRET_NAME = /pass(word)?|secret|token|api_?key|private_?key|credential/i;

/** The option names at `path` in a plugin's config schema (through optional, nullable and pipe wrappers). */
function optionNames(schema: ConfigSchema | undefined, path: readonly string[]): string[] {
  let node: unknown = schema;
  const unwrap = (n: unknown): unknown => {
    let current = n as { wrapped?: unknown; pipe?: readonly unknown[]; entries?: unknown } | undefined;
    for (let i = 0; i < 10 && current && !current.entries; i++) {
      current = (current.wrapped ?? current.pipe?.[0]) as typeof current;
    }
    return current;
  };
  for (const key of path) node = (unwrap(node) as { entries?: Record<string, unknown> } | undefined)?.entries?.[key];
  const entries = (unwrap(node) as { entries?: Record<string, unknown> } | undefined)?.entries;
  return entries ? Object.keys(entries) : [];
}
