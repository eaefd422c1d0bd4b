// The assertion every validation test needs: a UsageError with exactly this message.
import type { Test } from 'tap'
import { UsageError } from '../../src/cli/usage-error.js'

/** Asserts fn throws a UsageError with exactly this message (tap's throws() matches substrings). */
export function throwsUsage(t: Pick<Test, 'fail' | 'type' | 'equal'>, fn: () => unknown, message: string, what = message): void {
  try {
    fn()
  } catch (err) {
    t.type(err, UsageError, what)
    t.equal((err as Error).message, message, what)
    return
  }
  t.fail(`expected a UsageError for ${what}: ${message}`)
}
