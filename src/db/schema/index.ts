export * from './activity.ts';
export * from './keys.ts';
export * from './orgs.ts';
export * from './platform.ts';
export * from './users.ts';
export * from './billing.ts';
export * from './payments.ts';
export * from './queue.ts';
