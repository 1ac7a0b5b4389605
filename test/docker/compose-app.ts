/**
 * compose.yaml's app service as test/docker/smoke.sh needs it, so the container the smoke test
 * runs gets the environment and secret files `docker compose up` would give it. Prints one line per
 * environment variable (`env NAME=value`) and per secret (`secret <name> <file>`, the file as
 * compose.yaml names it, relative to the repository root), `env_file <file>` per env file, and
 * `option <docker run flag…>` for the hardening settings (read_only, tmpfs, cap_drop,
 * security_opt); anything else in the service is not for `docker run` on the host network.
 *
 * Usage: node test/docker/compose-app.ts [compose file, default compose.yaml]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// dclint (a devDependency) parses compose files with `yaml`: resolved through dclint, so this works
// however npm laid out node_modules.
const requireFromDclint = createRequire(import.meta.resolve('dclint'));
const { parse } = requireFromDclint('yaml') as { parse(text: string): unknown };

interface ComposeFile {
  services?: Record<
    string,
    {
      environment?: Record<string, string | number | boolean | null> | string[];
      secrets?: (string | { source: string })[];
      env_file?: string | (string | { path: string })[];
      read_only?: boolean;
      tmpfs?: string | string[];
      cap_drop?: string[];
      security_opt?: string[];
    }
  >;
  secrets?: Record<string, { file?: string }>;
}

const file = process.argv[2] ?? 'compose.yaml';
const compose = parse(readFileSync(file, 'utf8')) as ComposeFile;
const app = compose.services?.app;
if (!app) throw new Error(`${file}: no "app" service`);

const environment = Array.isArray(app.environment)
  ? Object.fromEntries(app.environment.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
  : (app.environment ?? {});
for (const [name, value] of Object.entries(environment)) {
  if (/\$\{?\w/.test(String(value ?? ''))) throw new Error(`${file}: app's ${name} uses interpolation, which this reader does not do`);
  console.log(`env ${name}=${value ?? ''}`);
}
for (const entry of app.secrets ?? []) {
  const name = typeof entry === 'string' ? entry : entry.source;
  const source = compose.secrets?.[name]?.file;
  if (!source) throw new Error(`${file}: app uses secret "${name}", which has no file in the top-level secrets`);
  console.log(`secret ${name} ${source}`);
}
const envFiles = app.env_file === undefined ? [] : Array.isArray(app.env_file) ? app.env_file : [app.env_file];
for (const entry of envFiles) console.log(`env_file ${typeof entry === 'string' ? entry : entry.path}`);
if (app.read_only) console.log('option --read-only');
for (const path of app.tmpfs === undefined ? [] : Array.isArray(app.tmpfs) ? app.tmpfs : [app.tmpfs]) console.log(`option --tmpfs ${path}`);
for (const cap of app.cap_drop ?? []) console.log(`option --cap-drop ${cap}`);
for (const opt of app.security_opt ?? []) console.log(`option --security-opt ${opt}`);
