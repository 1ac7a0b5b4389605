/**
 * Every problem code the running service may answer with, and its status: the core's own codes
 * and those of each enabled plugin's catalogues (`definePlugin({ problems: [...] })`). Codes are
 * one namespace that clients switch on, so two declarations of one code must agree on its
 * status; a conflict is a boot problem naming both owners.
 */
import { coreProblems, type DeclaredProblem, type ProblemCatalogue } from '../http/problem.ts';
import type { BootProblem } from './boot-error.ts';

export interface CollectedProblems {
  readonly codes: ReadonlyMap<string, DeclaredProblem>;
  readonly problems: readonly BootProblem[];
}

export function collectProblemCodes(plugins: readonly { readonly id: string; readonly problems: readonly ProblemCatalogue[] }[]): CollectedProblems {
  const codes = new Map<string, DeclaredProblem>();
  const problems: BootProblem[] = [];
  const add = (owner: string, catalogue: ProblemCatalogue['catalogue']) => {
    for (const [code, { status, title }] of Object.entries(catalogue)) {
      const known = codes.get(code);
      if (!known) {
        codes.set(code, Object.freeze({ code, status, title, owner }));
      } else if (known.status !== status) {
        const other = known.owner === 'core' ? 'the core' : `plugin "${known.owner}"`;
        problems.push({ plugin: owner, path: `problems.${code}`, message: `status ${status} conflicts with ${known.status} declared by ${other} (one code, one status)` });
      }
    }
  };
  add('core', coreProblems.catalogue);
  for (const plugin of plugins) for (const catalogue of plugin.problems) add(plugin.id, catalogue.catalogue);
  return { codes, problems };
}
