/**
 * One boot error lists every problem found, so an operator fixes them in one pass instead of
 * rerunning the service once per typo.
 */
export interface BootProblem {
  /** The plugin concerned, when there is one. */
  readonly plugin?: string;
  /** The option path, environment variable or service concerned. */
  readonly path?: string;
  readonly message: string;
}

export class BootError extends Error {
  override readonly name = 'BootError';
  readonly problems: readonly BootProblem[];

  constructor(problems: readonly BootProblem[], cause?: unknown) {
    super(formatProblems(problems), cause === undefined ? undefined : { cause });
    this.problems = problems;
  }
}

export function formatProblem(p: BootProblem): string {
  const where = [p.plugin && `plugin "${p.plugin}"`, p.path && `${p.path}`].filter(Boolean).join(', ');
  return where ? `${where}: ${p.message}` : p.message;
}

function formatProblems(problems: readonly BootProblem[]): string {
  if (problems.length === 1) return formatProblem(problems[0]!);
  return `${problems.length} problems:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`;
}
