/**
 * Paths of the project's own files, resolved from this file's location, so the suite passes from
 * a checkout in any directory (no test may name the absolute path of one checkout).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root of the checkout these tests run from. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The absolute path of a project file, e.g. `projectPath('host/node.ts')`. */
export const projectPath = (relative: string): string => fileURLToPath(new URL(`../../${relative}`, import.meta.url));

/** A `file://` URL of a project file, for `import` statements in configs a test writes elsewhere. */
export const projectImport = (relative: string): string => pathToFileURL(projectPath(relative)).href;
