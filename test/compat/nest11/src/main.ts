// Nest 11, CommonJS: `nest new` 11's entry (a bootstrap promise, no top-level await).
import { serve } from './serve.js';

void serve('commonjs', require.resolve);
