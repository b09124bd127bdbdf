// The registry: every operation of every module, in one list. Routes, OpenAPI, CLI commands and MCP tools are
// all derived from it.
import type { Operation } from './core/operation.ts';
import { healthOperations } from './modules/health/operations.ts';
import { keyOperations } from './modules/keys/operations.ts';

export const operations: Operation[] = [...healthOperations, ...keyOperations] as unknown as Operation[];

export function findOperation(id: string): Operation | undefined {
  return operations.find((op) => op.id === id);
}
