/**
 * Secret keys the kernel keeps in its own table (`empulse_keys`, migration `kernel/0002_keys`):
 * 32 random bytes made on first use and read back by every later boot and every other instance
 * on the same database, so e.g. a list cursor signed by one instance is valid on another and
 * after a restart, with nothing for the operator to configure. Whoever can read the database can
 * read these keys (and the data they protect): they guard against clients, not against the DBA.
 */

/** What `loadOrCreateKey` needs: a MikroORM connection (`db.orm.em.getConnection()`) or alike. */
export interface SqlExecutor {
  execute(sql: string, params?: readonly unknown[], method?: 'all' | 'get' | 'run'): Promise<unknown>;
}

const KEY_BYTES = 32;
const NAME = /^[a-z][a-z0-9_.:-]{0,99}$/;

/**
 * The key called `name` (e.g. `cursor`): created with 32 random bytes when missing, otherwise the
 * stored one. Instances racing to create it all end up with the one that was inserted first.
 */
export async function loadOrCreateKey(db: SqlExecutor, name: string): Promise<Uint8Array> {
  if (!NAME.test(name)) throw new TypeError(`key name "${name}" must match ${NAME}`);
  const fresh = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  // Hex in and out: the same on node-postgres and PGlite, whatever each does with bytea values.
  await db.execute(
    `insert into empulse_keys (name, key, created_at) values (?, decode(?, 'hex'), now()) on conflict (name) do nothing`,
    [name, toHex(fresh)],
    'run',
  );
  const row = (await db.execute(`select encode(key, 'hex') as key from empulse_keys where name = ?`, [name], 'get')) as
    | { key?: unknown }
    | undefined;
  const key = typeof row?.key === 'string' ? fromHex(row.key) : undefined;
  if (!key || key.length < KEY_BYTES) throw new Error(`kernel key "${name}" is missing or shorter than ${KEY_BYTES} bytes`);
  return key;
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
