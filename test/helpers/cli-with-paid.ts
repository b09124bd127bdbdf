// The real `opsbase` CLI (src/main.ts) with the test-only paid operation added to the registry it builds its
// commands from. The registry is one module-level list, so the operation is appended before main.ts loads.
import { operations } from '../../src/operations.ts';
import { paidOp } from './paid-op.ts';

operations.push(paidOp);
await import('../../src/main.ts');
