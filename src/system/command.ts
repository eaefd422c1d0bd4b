// Every system effect (ip, hook scripts) goes through a CommandRunner, so tests can inject a
// recording fake, and namespace tests can run the real commands inside a test namespace.
import { execFile } from 'node:child_process'

export interface CommandResult {
  stdout: string
  stderr: string
}

export interface CommandRunner {
  /** Runs argv; resolves with its output, rejects with CommandError on a non-zero exit. */
  run(argv: readonly string[], options?: { timeoutMs?: number }): Promise<CommandResult>
}

export class CommandError extends Error {
  override name = 'CommandError'
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (${exitCode}): ${stderr.trim() || 'no error output'}`)
  }
}

export interface ExecRunnerOptions {
  /** Runs every command inside this network namespace (`ip netns exec NS ...`). */
  netns?: string
  /** Default timeout per command, ms. */
  timeoutMs?: number
}

export class ExecRunner implements CommandRunner {
  constructor(private readonly options: ExecRunnerOptions = {}) {}

  run(argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<CommandResult> {
    const full = this.options.netns ? ['ip', 'netns', 'exec', this.options.netns, ...argv] : [...argv]
    const [cmd, ...args] = full
    if (cmd === undefined) return Promise.reject(new Error('ExecRunner.run: empty command'))
    const timeout = options.timeoutMs ?? this.options.timeoutMs ?? 10_000
    return new Promise((resolve, reject) => {
      execFile(cmd, args, { timeout, maxBuffer: 16 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: number | string; signal?: string }
          reject(new CommandError(full, e.signal ?? e.code ?? null, stderr || e.message))
        } else resolve({ stdout, stderr })
      })
    })
  }
}
