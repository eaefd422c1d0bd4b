// `ra6dhcp monitor`: prints every Router Advertisement the kernel accepts, as it arrives, until
// SIGINT/SIGTERM (or --count). Like radvdump, but only what the kernel accepted.
import type { Command } from 'commander'
import { RaMonitor, RaSourceError, formatRaText, raEventToJson, type RaSourceChoice } from '../../ra/index.js'
import { UsageError } from '../usage-error.js'

export interface MonitorOptions {
  interface: string[]
  source?: string
  raSource?: string
  json?: boolean
  protocol?: string
  count?: string
}

const sources: RaSourceChoice[] = ['auto', 'ra6mon', 'rtnetlink']

function positiveInteger(flag: string, value: string, max: number, example: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new UsageError(`${flag} ${value}: expected a whole number from 1 to ${max}, e.g. ${flag} ${example}`)
  }
  return n
}

export function parseMonitorOptions(options: MonitorOptions): {
  source: RaSourceChoice; interfaces: string[]; json: boolean; protocol?: number; count?: number
} {
  if (options.source !== undefined && options.raSource !== undefined && options.source !== options.raSource) {
    throw new UsageError(`--source ${options.source} and --ra-source ${options.raSource} disagree: give one of them`)
  }
  const source = options.source ?? options.raSource ?? 'auto'
  if (!sources.includes(source as RaSourceChoice)) {
    throw new UsageError(`--source ${source}: expected one of ${sources.join(', ')} (e.g. --source rtnetlink when the ra6mon module is not loaded)`)
  }
  for (const ifname of options.interface) {
    if (ifname === '' || ifname.length > 15 || /[/\s:]/.test(ifname)) {
      throw new UsageError(`--interface ${JSON.stringify(ifname)}: not an interface name (1-15 characters, no '/', ':' or spaces), e.g. --interface eth0`)
    }
  }
  if (options.protocol !== undefined && source === 'rtnetlink') {
    throw new UsageError('--protocol is the ra6mon netlink protocol number: it does not apply to --source rtnetlink')
  }
  const parsed: ReturnType<typeof parseMonitorOptions> = {
    source: source as RaSourceChoice, interfaces: options.interface, json: options.json === true,
  }
  if (options.protocol !== undefined) parsed.protocol = positiveInteger('--protocol', options.protocol, 31, '31')
  if (options.count !== undefined) parsed.count = positiveInteger('--count', options.count, 1_000_000_000, '1')
  return parsed
}

async function runMonitor(options: MonitorOptions): Promise<void> {
  const parsed = parseMonitorOptions(options)
  const monitorOptions: ConstructorParameters<typeof RaMonitor>[0] = { source: parsed.source, interfaces: parsed.interfaces }
  if (parsed.protocol !== undefined) monitorOptions.protocol = parsed.protocol
  const monitor = new RaMonitor(monitorOptions)
  const err = (line: string) => process.stderr.write(`ra6dhcp: ${line}\n`)
  let printed = 0
  let failure: Error | undefined

  const finished = new Promise<void>(resolve => monitor.once('close', resolve))
  monitor.on('warning', message => err(`warning: ${message}`))
  monitor.on('malformed', reason => err(`dropped a malformed message: ${reason}`))
  monitor.on('overrun', () => err('the kernel dropped notifications (receive queue overrun): resynchronising'))
  monitor.on('recovered', () => err(monitor.source === 'ra6mon'
    ? 'resynchronised: the kernel replayed the current RA state'
    : 'resynchronised the M/O flags; option notifications lost in the overrun cannot be recovered'))
  monitor.on('error', e => { failure = e; err(e.message) })
  monitor.on('ra', event => {
    if (parsed.count !== undefined && printed >= parsed.count) return
    printed++
    process.stdout.write(parsed.json ? `${JSON.stringify(raEventToJson(event))}\n` : `${formatRaText(event)}\n`)
    if (parsed.count !== undefined && printed >= parsed.count) void monitor.close()
  })
  const stop = () => { void monitor.close() }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    await monitor.start()
    if (!monitor.closed) {
      const which = parsed.interfaces.length ? parsed.interfaces.join(', ') : 'all interfaces'
      err(`monitoring ${which} via ${monitor.source} (Ctrl-C to stop)`)
    }
    await finished
  } catch (e) {
    if (e instanceof RaSourceError) {
      err(e.message)
      process.exitCode = 1
      return
    }
    throw e
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await monitor.close()
  }
  if (failure) process.exitCode = 1
}

export function register(program: Command): void {
  program
    .command('monitor')
    .description('print every Router Advertisement the kernel accepts, as it arrives (until Ctrl-C)')
    .option('--interface <ifname>', 'only this interface (repeat for more)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--source <source>', 'auto (ra6mon if loaded, else rtnetlink), ra6mon or rtnetlink')
    .option('--ra-source <source>', 'same as --source')
    .option('--json', 'one JSON object per RA per line (bigints as decimal strings, bytes as hex)')
    .option('--protocol <number>', "ra6mon's netlink protocol number (default: /sys/module/ra6mon/parameters/protocol)")
    .option('--count <n>', 'exit after printing n RAs')
    .action(async (options: MonitorOptions) => runMonitor(options))
}
