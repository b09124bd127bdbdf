// The real `opsbase` CLI (src/main.ts) with the test-only paid operation added to the contracts it builds its
// commands from. The CLI reads contracts (src/cli/manifest.json), not the registry: the operation's contract is
// appended to that list before main.ts loads.
import { cliContracts } from '../../src/cli/contract.ts';
import { contractOf } from '../../src/cli/manifest.ts';
import { paidOp } from './paid-op.ts';

cliContracts().push(contractOf(paidOp));
await import('../../src/main.ts');
