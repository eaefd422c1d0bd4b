#!/usr/bin/env node
// ra6dhcp command line: one file per subcommand under ./commands, each exporting `register`.
import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'
import { commands } from './commands/index.js'
import { UsageError } from './usage-error.js'

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'))
  return String(pkg.version)
}

export function buildProgram(): Command {
  const program = new Command('ra6dhcp')
    .description('DHCPv6 client driven by the Router Advertisements the kernel accepts')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  for (const register of commands) register(program)
  return program
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv)
    return process.exitCode === undefined ? 0 : Number(process.exitCode)
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode
    if (err instanceof UsageError) {
      process.stderr.write(`ra6dhcp: ${err.message}\n`)
      return 2
    }
    throw err
  }
}

main(process.argv).then(code => process.exit(code), err => {
  process.stderr.write(`ra6dhcp: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
