// The conformance suite on PGlite in a data directory on disk, including closing and reopening it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeConformance } from './conformance.js';
import { openStore, type Store } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'apigov-store-'));
const dirOf = new Map<Store, string>();
let n = 0;

storeConformance({
  label: 'PGlite data directory',
  async open(options) {
    // nested: the directory and its parents are created by openStore
    const dir = join(root, `store-${n++}`, 'nested', 'data');
    const store = await openStore({ ...options, dataDir: dir });
    if (!existsSync(join(dir, 'PG_VERSION'))) throw new Error(`no database files in ${dir}`);
    dirOf.set(store, dir);
    return store;
  },
  async reopen(store) {
    const dir = dirOf.get(store)!;
    await store.close();
    const again = await openStore({ dataDir: dir });
    dirOf.set(again, dir);
    return again;
  },
  async cleanup() {
    rmSync(root, { recursive: true, force: true });
  },
});
