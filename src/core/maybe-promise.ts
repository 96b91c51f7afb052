/**
 * A value now, or a promise of it when it has to be read. The lookups every request makes (the token's principal,
 * the caller's standing in a workspace, a cached batch status) answer a value on a cache hit, so a hit costs no
 * promise and no microtask. Under `npm run bench:load`, the async functions a hit went through were 12% of GET
 * batch status's CPU (docs/performance.md). Callers that do not care simply `await` either.
 */
export type MaybePromise<T> = T | Promise<T>;

/** `f` of the value: at once when it is here, after it resolves when it is a promise. */
export function then<T, U>(v: MaybePromise<T>, f: (v: T) => MaybePromise<U>): MaybePromise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}
