/**
 * The pipeline's one check that no text field carries control characters (API.md, "Conventions").
 * It runs on every JSON body a route receives, after its schema, so no plugin can forget it:
 * PostgreSQL refuses NUL outright (a 500 on one code path and not another would reveal which path
 * ran), and other control characters hide text in logs, emails and the back office.
 * Tab and newline are allowed only in fields whose schema is marked `multiline()`.
 */
import * as v from 'valibot';
import type { FieldError } from './problem.ts';

// An OpenAPI extension key (`x-`): the marker reaches the document through the JSON Schema.
const MULTILINE_KEY = 'x-empulse-multiline';

/**
 * Marks a string field as multi-line text (a bio, a note): tab, newline and CRLF are allowed
 * there. Use it in the field's pipe: `v.pipe(v.string(), multiline(), v.maxLength(2000))`.
 */
export const multiline = (): v.MetadataAction<string, { readonly [MULTILINE_KEY]: true }> =>
  v.metadata<string, { readonly [MULTILINE_KEY]: true }>({ [MULTILINE_KEY]: true });

// U+0000–U+001F and U+007F. In multi-line fields tab, LF and a CR that starts a CRLF are text.
const SINGLE_LINE = /[\u0000-\u001F\u007F]/;
const MULTI_LINE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|\r(?!\n)/;

type AnySchema = v.GenericSchema<unknown, unknown> & {
  readonly wrapped?: AnySchema;
  readonly entries?: Readonly<Record<string, AnySchema>>;
  readonly item?: AnySchema;
  readonly items?: readonly AnySchema[];
  readonly value?: AnySchema;
  readonly rest?: AnySchema;
};

const isMultiline = (schema: AnySchema | undefined): boolean =>
  schema !== undefined && (v.getMetadata(schema as never) as Record<string, unknown>)[MULTILINE_KEY] === true;

/** The schema of a child value, where the schema says it plainly; undefined means "single line". */
function child(schema: AnySchema | undefined, key: string | number): AnySchema | undefined {
  let s = schema;
  while (s?.wrapped) s = s.wrapped; // optional, nullable, nullish, …
  if (!s) return undefined;
  if (typeof key === 'number') return s.item ?? s.items?.[key] ?? s.rest;
  return s.entries?.[key] ?? s.value ?? s.rest;
}

/** Every field of `value` that holds a control character, as `errors[]` entries. */
export function controlCharacterErrors(value: unknown, schema?: v.GenericSchema<unknown, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const walk = (node: unknown, s: AnySchema | undefined, path: string): void => {
    if (typeof node === 'string') {
      let unwrapped = s;
      while (unwrapped?.wrapped && !isMultiline(unwrapped)) unwrapped = unwrapped.wrapped;
      const error = controlCharacterError(node, path, isMultiline(unwrapped));
      if (error) errors.push(error);
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, child(s, i), path === '' ? String(i) : `${path}.${i}`));
    } else if (node !== null && typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) {
        const at = path === '' ? key : `${path}.${key}`;
        if (SINGLE_LINE.test(key)) errors.push({ path, message: 'has a property name with control characters' });
        else walk(item, child(s, key), at);
      }
    }
  };
  walk(value, schema as AnySchema | undefined, '');
  return errors;
}

/**
 * The `errors[]` entry for one text value that holds a control character (undefined when it is
 * clean). For text that arrives outside a JSON body, such as multipart fields and file names.
 */
export function controlCharacterError(text: string, path: string, multiline = false): FieldError | undefined {
  if (!(multiline ? MULTI_LINE : SINGLE_LINE).test(text)) return undefined;
  return {
    path,
    message: multiline
      ? 'must not contain control characters (only tab and newline are allowed here)'
      : 'must not contain control characters (U+0000–U+001F, U+007F)',
  };
}
