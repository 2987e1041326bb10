/**
 * Promise.withResolvers for Node 20: aws-local-stepfunctions 3 calls it (Node 22 has it). Imported
 * for its effect, once, by the local runner's entry module (state-machine.ts), before any run.
 */
type WithResolvers = <T>() => { promise: Promise<T>; resolve: (value: T) => void; reject: (reason: unknown) => void };

const P = Promise as unknown as { withResolvers?: WithResolvers };
P.withResolvers ??= <T>() => {
  let resolveFn!: (value: T) => void;
  let rejectFn!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolveFn = res;
    rejectFn = rej;
  });
  return { promise, resolve: resolveFn, reject: rejectFn };
};
