/**
 * Which failures are dependency outages (answered 503, logged once) and which stay faults, and
 * how an outage is logged: once at error, summarised while it lasts, closed when the dependency
 * answers again. The real thing (PostgreSQL stopped under load) is in test/faults/.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionException, DriverException, UniqueConstraintViolationException } from '@mikro-orm/core';
import { DependencyUnavailableError, HttpProblem, coreProblems, outageOf } from '../core/index.ts';
import { OutageLog } from '../core/outage/outage-log.ts';
import { captureLogger } from './support/capture-logger.ts';
import { until } from './support/until.ts';

const netError = (code: string, port: number) => Object.assign(new Error(`connect ${code} 127.0.0.1:${port}`), { code, address: '127.0.0.1', port, syscall: 'connect' });
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('outageOf', () => {
  it('takes a DependencyUnavailableError anywhere in the cause chain, with its Retry-After', () => {
    const thrown = new Error('upload failed', { cause: new DependencyUnavailableError('storage', { retryAfterSeconds: 7, cause: netError('ECONNRESET', 7480) }) });
    const outage = outageOf(thrown);
    assert.equal(outage?.dependency, 'storage');
    assert.equal(outage?.retryAfterSeconds, 7);
    assert.deepEqual(outage?.cause, { name: 'Error', code: 'ECONNRESET', message: 'connect ECONNRESET 127.0.0.1:7480' });
  });

  it('recognises the database going away, in pg and in MikroORM words', () => {
    for (const err of [
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P03', 'the database system is starting up'),
      pgError('08006', 'connection failure'),
      pgError('53300', 'sorry, too many clients already'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new ConnectionException(netError('ECONNREFUSED', 5432)),
      new DriverException(netError('ECONNREFUSED', 6543)),
    ]) {
      assert.equal(outageOf(err)?.dependency, 'database', String(err));
    }
    // A refused connection to the database's port, raw from pg: named by the kernel's peer map.
    assert.equal(outageOf(netError('ECONNREFUSED', 5432), new Map([[5432, 'database']]))?.dependency, 'database');
    assert.equal(outageOf(netError('ECONNREFUSED', 6390))?.dependency, 'network peer 127.0.0.1:6390');
  });

  it('leaves everything else a fault or an answer', () => {
    for (const err of [
      new Error('boom'),
      new TypeError('x is undefined'),
      new UniqueConstraintViolationException(pgError('23505', 'duplicate key value violates unique constraint')),
      pgError('42P01', 'relation "nope" does not exist'),
      coreProblems.not_found(),
      new HttpProblem({ status: 503, title: 'Request timed out', code: 'request_timeout' }),
      'a string',
      undefined,
      // A client that hung up mid-body (raw-body's error): 400, not an outage.
      Object.assign(new Error('request aborted'), { code: 'ECONNABORTED', status: 400, expose: true, type: 'request.aborted' }),
      Object.assign(new Error('aborted'), { code: 'ECONNRESET', status: 400, expose: true }),
      // A reset that names neither a syscall nor a peer: nothing says we made that connection.
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    ]) {
      assert.equal(outageOf(err), undefined, String(err));
    }
  });

  it('summarises the cause without the query MikroORM appends or a stack', () => {
    const err = new DriverException(Object.assign(new Error('Connection terminated unexpectedly\nselect * from secrets where token = \'abc\''), { code: undefined }));
    assert.deepEqual(outageOf(err)?.cause, { name: 'DriverException', code: undefined, message: 'Connection terminated unexpectedly' });
  });
});

describe('OutageLog', () => {
  const outage = { dependency: 'database', retryAfterSeconds: 5, cause: { name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } };

  it('logs the first refusal at error, counts the rest, and closes the outage when its probe passes', async () => {
    const logs = captureLogger('info');
    let up = false;
    const log = new OutageLog({ logger: logs.logger, summaryIntervalMs: 30, probes: new Map([['database', async () => { if (!up) throw new Error('down'); }]]) });
    for (let i = 0; i < 5; i++) log.refused(outage, { requestId: `r${i}` });
    assert.deepEqual(
      logs.lines.map((l) => [l.level, l.msg, l.requestId]),
      [['error', 'database is unavailable: answering 503 service_unavailable until it is back', 'r0']],
    );
    const still = await until('a summary', () => logs.lines.find((l) => l.msg === 'database is still unavailable'));
    assert.equal(still.level, 'warn');
    assert.equal(still.refused, 5);
    assert.deepEqual(log.open, ['database']);
    up = true;
    const back = await until('the end of the outage', () => logs.lines.find((l) => l.msg === 'database is available again'));
    assert.equal(back.refused, 5);
    assert.deepEqual(log.open, []);
    // A new failure after that is a new outage, logged again.
    log.refused(outage);
    assert.equal(logs.lines.filter((l) => l.level === 'error').length, 2);
    log.close();
    assert.equal(logs.lines.at(-1)?.msg, 'database was still unavailable at shutdown');
  });

  it('without a probe, ends the outage after an interval with no refusal', async () => {
    const logs = captureLogger('info');
    const log = new OutageLog({ logger: logs.logger, summaryIntervalMs: 30 });
    log.refused({ ...outage, dependency: 'storage' });
    const back = await until('the end of the outage', () => logs.lines.find((l) => l.msg === 'storage is available again'));
    assert.equal(back.refused, 1);
    log.close();
  });
});
