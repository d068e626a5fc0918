// slonik ≥ 48 calls Promise.withResolvers (Node ≥ 22). The machines run Node 20, and slonik 47
// is typed against zod 3 while our contracts are zod 4, so we keep slonik 49 and add the one
// missing built-in here. Delete this file when the runtime moves to Node 22+.
type Resolvers<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (reason?: unknown) => void };

const promiseStatics = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

if (typeof promiseStatics.withResolvers !== 'function') {
  promiseStatics.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
