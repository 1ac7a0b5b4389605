/**
 * A `multipart/form-data` body as an async iterable of its parts, in the order the client sent
 * them, parsed by @fastify/busboy as the bytes arrive. Text fields come whole (they are small:
 * `maxFieldBytes`); file parts come as streams, and the parser does not move past a file until its
 * stream has been read through (or skipped), so memory stays flat whatever the file size.
 *
 * Every rule is checked while parsing and fails the whole upload through the body reader (one
 * failure, one answer): busboy's limits only truncate and emit an event, so each of those events
 * becomes a 413 here, naming the limit; a declared file type outside `fileMediaTypes` is 415; a
 * control character in a field, a field name or a file name is 422 naming the field; anything the
 * parser cannot make sense of (no boundary, a body cut short) is 400 `malformed_body`.
 */
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import { controlCharacterError } from '../control-characters.ts';
import { coreProblems, HttpProblem, type FieldError } from '../problem.ts';
import type { BodyReader } from './body-reader.ts';
import { FilePartStream } from './file-part-stream.ts';
import { safeFilename } from './filename.ts';
import type { MultipartBody, MultipartBodyOptions, MultipartPart } from './kinds.ts';
import { essence, matchesMediaType } from './media-type.ts';

interface Queued {
  readonly part: MultipartPart;
  readonly file: FilePartStream | undefined;
}

/** Throws 400 `malformed_body` at once when the Content-Type has no usable boundary. */
export function multipartParts(reader: BodyReader, contentType: string, options: MultipartBodyOptions): MultipartBody {
  let boy: BusboyInstance;
  try {
    boy = Busboy({
      headers: { 'content-type': contentType },
      // Our own sanitising (and control-character check) needs the name as the client sent it.
      preservePath: true,
      limits: {
        fileSize: options.maxFileBytes,
        files: options.maxFiles,
        fieldSize: options.maxFieldBytes,
        fields: options.maxFields,
        // Parts that are neither (no form-data disposition) are skipped by the parser; this keeps
        // a client from sending endless tiny ones.
        parts: options.maxFiles + options.maxFields,
      },
    });
  } catch {
    throw coreProblems.malformed_body('The multipart Content-Type has no boundary.');
  }

  const queue: Queued[] = [];
  const live = new Set<FilePartStream>();
  const filesSeen = new Set<string>();
  const multiline = new Set(options.multilineFields);
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const fail = (problem: HttpProblem): void => reader.fail(problem);
  const failed = (): boolean => reader.failure !== undefined;
  const tooLarge = (detail: string): HttpProblem => coreProblems.payload_too_large(detail, { headers: { Connection: 'close' } });
  const invalid = (errors: FieldError[]): HttpProblem =>
    coreProblems.validation_failed('The multipart body has invalid fields.', { errors });

  // Whatever fails the upload (here, in the reader, or the time budget) errors every file stream
  // a consumer may hold and wakes a handler waiting for the next part.
  reader.failed.catch((problem: unknown) => {
    for (const file of live) file.fail(problem);
    live.clear();
    notify();
  });

  boy.on('file', (name: string | undefined, source: BusboyFileStream, filename: string, _encoding: string, declaredType: string) => {
    source.on('limit', () => fail(tooLarge(`A file may be at most ${options.maxFileBytes} bytes (maxFileBytes).`)));
    if (failed()) {
      source.on('error', () => {});
      source.resume();
      return;
    }
    const problem = checkFile(name, filename, declaredType, options);
    if (problem) {
      source.on('error', () => {});
      source.resume();
      fail(problem);
      return;
    }
    const file = new FilePartStream(source);
    live.add(file);
    source.on('end', () => live.delete(file));
    filesSeen.add(name!);
    queue.push({
      part: { kind: 'file', name: name!, filename: safeFilename(filename), mediaType: essence(declaredType) ?? declaredType, stream: file.stream },
      file,
    });
    notify();
  });

  boy.on('field', (name: string | undefined, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
    if (failed()) return;
    if (name === undefined) return fail(coreProblems.malformed_body('A multipart part has no name.'));
    if (valueTruncated) return fail(tooLarge(`The field "${name}" is longer than ${options.maxFieldBytes} bytes (maxFieldBytes).`));
    const errors = [nameError(name), controlCharacterError(value, name, multiline.has(name))].filter((e) => e !== undefined);
    if (errors.length > 0) return fail(invalid(errors));
    queue.push({ part: { kind: 'field', name, value }, file: undefined });
    notify();
  });

  boy.on('filesLimit', () => fail(tooLarge(`At most ${options.maxFiles} files are accepted (maxFiles).`)));
  boy.on('fieldsLimit', () => fail(tooLarge(`At most ${options.maxFields} text fields are accepted (maxFields).`)));
  boy.on('partsLimit', () => fail(tooLarge(`At most ${options.maxFiles + options.maxFields} parts are accepted (maxFiles + maxFields).`)));
  boy.on('error', (err: unknown) => {
    const reason = err instanceof Error ? ` (${err.message})` : '';
    fail(coreProblems.malformed_body(`The multipart body is malformed${reason}.`));
  });
  boy.on('finish', () => {
    if (failed()) return;
    const missing = options.requiredFiles.filter((name) => !filesSeen.has(name));
    if (missing.length > 0) return fail(invalid(missing.map((path) => ({ path, message: 'is required (a file part)' }))));
    finished = true;
    notify();
  });

  void pump(reader, boy);

  async function* parts(): AsyncGenerator<MultipartPart, void, undefined> {
    let previous: FilePartStream | undefined;
    for (;;) {
      previous?.skipUnlessRead();
      for (;;) {
        if (reader.failure !== undefined) throw reader.failure;
        if (queue.length > 0 || finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const next = queue.shift();
      if (next === undefined) return;
      previous = next.file;
      yield next.part;
    }
  }
  return parts();
}

/** Feeds the body to the parser, one chunk at a time: a chunk goes in once the parser took the last. */
async function pump(reader: BodyReader, boy: BusboyInstance): Promise<void> {
  const chunks = reader.stream.getReader();
  try {
    for (;;) {
      const { done, value } = await chunks.read();
      if (done) break;
      if (reader.failure !== undefined) return;
      await new Promise<void>((resolve, reject) => boy.write(value, (err) => (err ? reject(err) : resolve())));
    }
    boy.end();
  } catch (err) {
    // The reader's own failures are already recorded; anything else is the parser's.
    if (!(err instanceof HttpProblem)) reader.fail(coreProblems.malformed_body('The multipart body is malformed.'));
  }
}

function checkFile(name: string | undefined, filename: string, declaredType: string, options: MultipartBodyOptions): HttpProblem | undefined {
  if (name === undefined) return coreProblems.malformed_body('A multipart part has no name.');
  const errors = [nameError(name)];
  const unsafe = controlCharacterError(filename, name);
  if (unsafe) errors.push({ path: name, message: `file name ${unsafe.message}` });
  const found = errors.filter((e) => e !== undefined);
  if (found.length > 0) return coreProblems.validation_failed('The multipart body has invalid fields.', { errors: found });
  if (options.fileMediaTypes && !matchesMediaType(essence(declaredType), options.fileMediaTypes)) {
    return coreProblems.unsupported_media_type(
      `The file part "${name}" is declared as ${declaredType}; this route accepts ${options.fileMediaTypes.join(', ')}.`,
      { headers: { Connection: 'close' } },
    );
  }
  return undefined;
}

function nameError(name: string): FieldError | undefined {
  const unsafe = controlCharacterError(name, name);
  return unsafe && { path: name, message: 'field name must not contain control characters' };
}
