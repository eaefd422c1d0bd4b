// One place for "this test needs X": root, a command, a file. Without it the test skips with a
// loud reason; with CI=true (where everything must be present) the missing requirement fails.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Test } from 'tap'

type TapTest = Pick<Test, 'pass' | 'fail'>

export const inCi = process.env.CI === 'true'

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "${name}"`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export interface Needs {
  root?: boolean
  commands?: string[]
  files?: string[]
}

/** Lists what is missing for `needs`, as human-readable reasons. */
export function missing(needs: Needs): string[] {
  const reasons: string[] = []
  if (needs.root && !isRoot()) reasons.push('needs root (network namespaces)')
  for (const c of needs.commands ?? []) {
    if (!hasCommand(c)) reasons.push(`needs the command '${c}' (run scripts/setup.sh as root)`)
  }
  for (const f of needs.files ?? []) {
    if (!existsSync(f)) reasons.push(`needs the file ${f} (run scripts/setup.sh as root)`)
  }
  return reasons
}

/**
 * Returns true when everything in `needs` is present. Otherwise skips `t` with the reasons (or,
 * under CI=true, fails it) and returns false, so a test reads `if (!need(t, {...})) return`.
 */
export function need(t: TapTest, needs: Needs): boolean {
  const reasons = missing(needs)
  if (reasons.length === 0) return true
  const message = `SKIPPED: ${reasons.join('; ')}`
  process.stderr.write(`\n*** ${message}\n`)
  if (inCi) t.fail(`CI=true forbids skipping: ${reasons.join('; ')}`)
  else t.pass(message, { skip: message })
  return false
}
