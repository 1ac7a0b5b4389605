/**
 * The Node flags `npm start` runs the server with (package.json's start script): bench servers
 * run with the same, so the figures are those of what operators run.
 *
 * `--max-semi-space-size=8` (MiB): with this machine's default young generation (~16 MiB semi-
 * spaces), the 64 KiB socket buffers of an upload pile up as external memory between scavenges
 * and force full mark-compacts about every 27 MB: a 1 GiB upload cost the server 7–9 s of CPU,
 * 4 s with 8 MiB, at the same /health/live throughput (bench/tracks.ts, README "Benchmarks").
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
