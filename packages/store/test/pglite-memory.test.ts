// The conformance suite on PGlite in memory (memory://).
import { storeConformance } from './conformance.js';
import { openStore } from '../src/index.js';

storeConformance({
  label: 'PGlite memory://',
  open: (options) => openStore({ ...options, dataDir: 'memory://' }),
});
