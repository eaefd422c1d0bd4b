// `ra6dhcp ctl VERB...`: sends one Ready Logo verb (or status) to a running daemon over its
// control socket and prints the answer, for people or (--json) for scripts.
import type { Command } from 'commander'
import { DEFAULT_CONTROL_SOCKET } from '../../daemon/config.js'
import { DaemonUnreachableError, sendControlRequest, type ControlRequest } from '../../daemon/protocol.js'
import { formatResponse } from '../../daemon/status-format.js'
import { START_GRAMMAR } from '../../daemon/verbs.js'

export interface CtlOptions {
  socket?: string
  interface?: string
  json?: boolean
  timeout?: string
}

/** Exit codes: 0 done, 1 no daemon (or no answer), 2 the daemon refused the request. */
export async function runCtl(words: string[], options: CtlOptions, out: (text: string) => void = t => process.stdout.write(t), err: (text: string) => void = t => process.stderr.write(t)): Promise<number> {
  const socket = options.socket ?? DEFAULT_CONTROL_SOCKET
  const request: ControlRequest = { argv: words }
  if (options.interface !== undefined) request.interface = options.interface
  const timeoutMs = options.timeout === undefined ? undefined : Number(options.timeout) * 1000
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    err(`ra6dhcp: --timeout must be a number of seconds above 0 (got '${options.timeout}'), e.g. --timeout 30\n`)
    return 2
  }
  try {
    const response = await sendControlRequest(socket, request, timeoutMs)
    if (options.json) out(`${JSON.stringify(response, null, 2)}\n`)
    else if (response.ok) out(formatResponse(response))
    else err(`ra6dhcp: ${response.error}\n`)
    return response.ok ? 0 : 2
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e
    if (options.json) out(`${JSON.stringify({ ok: false, error: e.message }, null, 2)}\n`)
    err(`ra6dhcp: ${e.message}\n`)
    return 1
  }
}

export function register(program: Command): void {
  program
    .command('ctl')
    .description('send a verb to the running daemon: start, stop, restart, release, ifdown, ifup or status')
    .argument('<verb...>', `${START_GRAMMAR} | stop | restart | release | ifdown | ifup | status [IF]`)
    .option('--socket <path>', `the daemon's control socket (default ${DEFAULT_CONTROL_SOCKET})`)
    .option('--interface <ifname>', 'apply the verb to this interface only (default: every interface of the daemon)')
    .option('--json', 'print the answer as JSON')
    .option('--timeout <seconds>', 'give up waiting for the answer after this long (default 120; release may retransmit for a while)')
    .addHelpText('after', `
Examples:
  ra6dhcp ctl start iana iaid=1 dns       Solicit for one IA_NA with IAID 1, asking for DNS
  ra6dhcp ctl start prefix len=56         Solicit for a delegated prefix (hint /56)
  ra6dhcp ctl start inforeq dns           stateless: Information-request for DNS
  ra6dhcp ctl release                     Release every lease
  ra6dhcp ctl status --json               state, leases with time left, counters, RA source`)
    .action(async (words: string[], options: CtlOptions) => {
      process.exitCode = await runCtl(words, options)
    })
}
