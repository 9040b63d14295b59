export * from './paths.ts';
export * from './roles.ts';
export * from './licences.ts';
export * from './errors.ts';
export * from './quotas.ts';
export * from './directory.ts';
export * from './agent-api.ts';
export * from './channel.ts';

/** Version of the agent↔cloud contract; bumped on incompatible change. */
export const protocolVersion = '1';
