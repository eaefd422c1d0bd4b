// Signals of a running daemon: SIGTERM and SIGINT stop it cleanly (Release first where
// release-on-stop is set); a second one while stopping exits at once; SIGHUP reloads the config.
import { UsageError } from '../cli/usage-error.js'
import type { Logger } from '../log/logger.js'
import type { Daemon } from './daemon.js'

export interface SignalHandling {
  /** Resolves with the exit code once the daemon stopped because of a signal. */
  stopped: Promise<number>
  /** Removes the handlers. */
  remove(): void
}

export function handleSignals(daemon: Daemon, logger: Logger, exit: (code: number) => void = code => process.exit(code)): SignalHandling {
  let stopping = false
  let resolveStopped: (code: number) => void = () => {}
  const stopped = new Promise<number>(resolve => { resolveStopped = resolve })
  const onStop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second stop signal while stopping: exiting now without waiting for the clients')
      exit(1)
      return
    }
    stopping = true
    logger.info({ signal }, 'stop signal received')
    daemon.stop(signal).then(() => resolveStopped(0), err => {
      logger.error({ err }, `stopping failed: ${(err as Error).message}`)
      resolveStopped(1)
    })
  }
  const onReload = () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading the config')
    daemon.reload().catch(err => {
      const message = err instanceof UsageError ? err.message : (err as Error).message
      logger.error(`reload failed, the running settings stay as they were: ${message}`)
    })
  }
  process.on('SIGTERM', onStop)
  process.on('SIGINT', onStop)
  process.on('SIGHUP', onReload)
  return {
    stopped,
    remove() {
      process.off('SIGTERM', onStop)
      process.off('SIGINT', onStop)
      process.off('SIGHUP', onReload)
    },
  }
}
