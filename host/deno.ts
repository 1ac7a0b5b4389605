/**
 * Deno entry point: `deno run <permissions> host/deno.ts <command>` boots the same config through
 * the same CLI as the Node host; only the environment, signals and exit come from Deno's API.
 */
import { readEnv } from './env.ts';
import { runCli } from './cli.ts';

/** The few Deno APIs this file uses (declared here so the Node type-check needs no Deno types). */
interface DenoApi {
  readonly args: readonly string[];
  cwd(): string;
  readonly env: { toObject(): Record<string, string> };
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code: number): never;
}
declare const Deno: DenoApi;

const code = await runCli(Deno.args, {
  cwd: Deno.cwd(),
  env: readEnv(Deno.cwd(), Deno.env.toObject()),
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  onSignal: (handler) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) Deno.addSignalListener(signal, () => handler(signal));
  },
});
Deno.exit(code);
