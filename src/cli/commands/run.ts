// `ra6dhcp run IF...`: the daemon. Settings come from --config and the flags (src/daemon/config.ts
// validates them all), then it runs until SIGTERM/SIGINT; SIGHUP reloads the config.
import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { createLogger } from '../../log/logger.js'
import { DEFAULT_CONTROL_SOCKET, DEFAULT_STATE_DIR, resolveSettings, type RunFlags } from '../../daemon/config.js'
import { Daemon } from '../../daemon/daemon.js'
import { handleSignals } from '../../daemon/signals.js'
import { realPorts } from '../../daemon/wiring.js'
import { SocketInUseError } from '../../daemon/control-server.js'
import { RaSourceError } from '../../ra/index.js'

function packageVersion(): string {
  try {
    return String(JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')).version)
  } catch {
    return 'unknown'
  }
}

async function runDaemon(interfaces: string[], flags: RunFlags): Promise<number> {
  const settings = resolveSettings(interfaces, flags)
  const logger = createLogger({ format: settings.logFormat, level: settings.logLevel })
  const ports = await realPorts(settings, logger, () => resolveSettings(interfaces, flags), packageVersion())
  const daemon = new Daemon(settings, ports)
  const signals = handleSignals(daemon, logger)
  try {
    await daemon.start()
  } catch (err) {
    signals.remove()
    if (err instanceof SocketInUseError || err instanceof RaSourceError) {
      logger.fatal(err.message)
      return 1
    }
    throw err
  }
  const code = await signals.stopped
  signals.remove()
  return code
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the DHCPv6 client daemon on the interfaces (started by accepted RAs and by `ra6dhcp ctl`)')
    .argument('[interfaces...]', 'interfaces to run on (default: those in --config)')
    .option('--config <file>', 'JSON config file; its keys are these flags\' names, per-interface under "interfaces"')
    .option('--profile <name>', 'protocol constants: rfc8415 (default) or rfc3315 (Ready Logo)')
    .option('--ra-source <source>', 'auto (ra6mon if loaded, else rtnetlink), ra6mon or rtnetlink')
    .option('--on-ra <mode>', 'what an accepted RA does: auto (RFC: M=1 stateful, O=1 stateless), solicit, ignore')
    .option('--state-dir <dir>', `leases, DUID, IAIDs and DNS fragments (default ${DEFAULT_STATE_DIR})`)
    .option('--log-format <format>', 'pretty (default) or json')
    .option('--log-level <level>', 'fatal, error, warn, info (default), debug, trace or silent')
    .option('--hook <script>', 'run this script on lease changes, with dhclient-script variables')
    .option('--control-socket <path>', `control socket for \`ra6dhcp ctl\` (default ${DEFAULT_CONTROL_SOCKET})`)
    .option('--resolv-conf <path>', 'DNS fragment to write ({if} = interface name; default STATE_DIR/IF.resolv.conf; never /etc/resolv.conf)')
    .option('--release-on-stop', 'send Release when stopping (default: keep the lease for a later Confirm)')
    .option('--rapid-commit', 'ask for Rapid Commit (two-message exchange)')
    .option('--reconfigure-accept', 'accept Reconfigure from the server, authenticated by its RKAP key (RFC 8415 20.4)')
    .option('--sol-max-delay <seconds>', 'upper bound of the random delay before the first Solicit (default 1; 0 sends at once)')
    .option('--duid-type <type>', 'llt (default), ll, uuid, en:NUMBER:HEX, or the whole DUID in hex')
    .option('--ia-na <n>', 'IA_NAs to ask for (default 1)')
    .option('--ia-pd <n[/len]>', 'IA_PDs to ask for, with an optional prefix-length hint (default 0)')
    .option('--stateless', 'Information-request only (no addresses)')
    .option('--pd-downstream <if[:n]>', 'assign PREFIX::1/64 from the N-th /64 (default 0) of the delegated prefix to this downstream interface')
    .option('--link-watch <on|off>', 'watch carrier/link state through rtnetlink; a link down/up leads to Confirm (default on)')
    .option('--link-debounce <ms>', 'quiet time before a link change counts (default 0: at once; a flap still gives one Confirm)')
    .action(async (interfaces: string[], flags: RunFlags) => {
      process.exitCode = await runDaemon(interfaces, flags)
    })
}
