/** A bad flag, argument or config value. The message names the problem and what to type instead. */
export class UsageError extends Error {
  override name = 'UsageError'
}
