export * from './algorithms';
export * from './multi';
