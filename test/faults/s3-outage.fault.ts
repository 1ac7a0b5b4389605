/**
 * The S3 peer (Ceph's radosgw) stopped in the middle of a 12 MiB track upload: the client gets
 * 503 service_unavailable with Retry-After, no row and no object remain once the store is back,
 * and the next upload works without a restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { serve, type RunningServer } from '../../host/server.ts';
import { audioStream } from '../support/audio-fixtures.ts';
import { peerClient, s3StorageOptions, startRadosgw, type Radosgw } from '../support/radosgw.ts';
import { startWorld, streamUpload, type User, type World } from '../support/tracks-world.ts';
import { until } from '../support/until.ts';
import { reportFault } from './fault-summary.ts';

const MiB = 1024 * 1024;
const BUCKET = 'empulse-fault-tracks';

describe('S3 peer stopped during an upload', () => {
  let peer: Radosgw;
  let admin: S3Client;
  let world: World;
  let server: RunningServer;
  let artist: User;

  before(async () => {
    peer = await startRadosgw();
    admin = peerClient(peer, peer, 1);
    await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
    world = await startWorld({
      storage: { ...s3StorageOptions(peer, BUCKET), partSizeBytes: 5 * MiB },
    });
    server = await serve(world.t.kernel, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1000 });
    artist = await world.newArtist('s3-fault');
  });
  after(async () => {
    await server?.shutdown('test over');
    await world?.close();
    admin?.destroy();
    await peer?.stop();
  });

  const bucket = async () => {
    const objects = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    return { objects: (objects.Contents ?? []).map((o) => o.Key ?? '?'), uploads: (uploads.Uploads ?? []).map((u) => u.Key ?? '?') };
  };

  it('answers 503 service_unavailable, leaves no row and no object, and the next upload works once the store is back', async () => {
    // The client pauses after 7 MiB (the first 5 MiB part is on its way), the gateway is killed, then the rest follows.
    let sentBytes = 0;
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const reader = audioStream('wav', 12 * MiB).getReader();
    const held = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (sentBytes >= 7 * MiB) await resumed;
          const next = await reader.read();
          if (next.done) return controller.close();
          sentBytes += next.value.byteLength;
          controller.enqueue(next.value);
        },
      },
      { highWaterMark: 0 },
    );
    const upload = streamUpload(server.url, artist, held);
    await until('the multipart upload to open', async () => (await bucket()).uploads.length === 1, 20_000);
    await peer.stopGateway();
    resume();
    const answer = await upload.answer;
    assert.equal(answer.status, 503, answer.body);
    const problem = JSON.parse(answer.body) as { code: string };
    assert.equal(problem.code, 'service_unavailable');
    assert.ok(answer.headers['retry-after'], 'Retry-After');
    assert.deepEqual(await world.rows(), [], 'no row');

    await peer.startGateway();
    await until('the store to answer again', () => bucket().then(() => true, () => false), 30_000);
    // What the failed write could not abort while the store was down is aborted once it is back.
    const left = await until('nothing left in the bucket', async () => {
      const state = await bucket();
      return state.objects.length === 0 && state.uploads.length === 0 ? state : undefined;
    }, 30_000).catch(async () => bucket());
    assert.deepEqual(left, { objects: [], uploads: [] });

    const again = streamUpload(server.url, artist, audioStream('wav', 12 * MiB));
    const ok = await again.answer;
    assert.equal(ok.status, 201, ok.body);
    assert.equal((await world.rows()).length, 1);
    assert.equal((await bucket()).objects.length, 1);
    reportFault({
      scenario: 'S3 peer stopped during an upload',
      injected: 'radosgw killed after 7 MiB of a 12 MiB multipart track upload, started again',
      requests: 2,
      outcomes: { '503 service_unavailable': 1, '201': 1 },
      losses: 0,
      notes: 'no row, no object and no open multipart upload after the failed one',
    });
  });
});
