// The contracts boundary: everything other folders may import from contracts/.
export * from './errors.ts';
export * from './ids.ts';
export * from './text.ts';
export * from './counter.contracts.ts';
export * from './counter.events.ts';
export * from './events.ts';
export * from './http-api.ts';
