/** One step of a waterfall: gets what the previous step returned (or the initial value). */
export type WaterfallHook<T, C> = (value: T, context: C) => T | Promise<T>;

/**
 * Runs hooks in order, each receiving the previous one's result; with no hooks the initial
 * value comes back unchanged. Synchronous hooks stay cheap: nothing is awaited that is not a
 * promise, so a guard with no hooks configured pays nothing.
 */
export async function runWaterfall<T, C>(
  hooks: readonly WaterfallHook<T, C>[] | undefined,
  initial: T,
  context: C,
): Promise<T> {
  let value = initial;
  if (!hooks) return value;
  for (const hook of hooks) {
    const next = hook(value, context);
    value = next instanceof Promise ? await next : next;
  }
  return value;
}
