/** custos as a library: everything the commands do is reachable from here without the CLI. */
export * from './errors';
export * from './hash';
export * from './source/file';
export * from './verify/hash-files';
export * from './tool';
