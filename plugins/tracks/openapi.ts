/**
 * What the generic multipart description of the upload route cannot say: the `metadata` part is
 * JSON of a known shape and the `audio` part is binary, and the optional X-Content-SHA256 header.
 */
import type { OperationDecoration } from '../openapi/contract.ts';
import { CHECKSUM_HEADER } from './upload.ts';

export function documentUpload({ route, operation }: OperationDecoration): void {
  if (route.plugin !== 'tracks' || route.method !== 'POST' || route.path !== '/v1/tracks') return;
  const body = operation.requestBody as { content?: Record<string, { schema?: unknown; encoding?: unknown }> } | undefined;
  const multipart = body?.content?.['multipart/form-data'];
  if (multipart) {
    multipart.schema = {
      type: 'object',
      required: ['metadata', 'audio'],
      properties: {
        metadata: { type: 'string', contentMediaType: 'application/json', contentSchema: { $ref: '#/components/schemas/TrackMetadata' } },
        audio: { type: 'string', contentMediaType: 'application/octet-stream', description: 'WAV (RIFF or RF64), AIFF/AIFC, FLAC or MP3; sniffed from the bytes' },
      },
    };
    multipart.encoding = { metadata: { contentType: 'application/json' }, audio: { contentType: 'audio/*, application/octet-stream' } };
  }
  const parameters = (operation.parameters ??= []) as unknown[];
  parameters.push({
    name: CHECKSUM_HEADER,
    in: 'header',
    required: false,
    description: 'Hex SHA-256 of the audio part; a different digest of the bytes received is 400 checksum_mismatch and nothing is stored.',
    schema: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
  });
}
