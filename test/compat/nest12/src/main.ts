// Nest 12, ESM ("type": "module"): `nest new` 12's entry (top-level await).
import { createRequire } from 'node:module';
import { serve } from './serve.js';

await serve('module', createRequire(import.meta.url).resolve);
