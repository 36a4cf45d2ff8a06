export * from './algorithms';
export * from './hashset';
export * from './parallel';
