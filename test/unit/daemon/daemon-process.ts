// Not a test: the process signals.test.ts spawns. The real Daemon, control socket and signal
// handling of `ra6dhcp run`, with the recording fakes instead of the machine and the RA source.
// Usage: daemon-process.ts CONFIG  (env STOP_HANG=1 makes the client's stop never finish)
import { resolveSettings } from '../../../src/daemon/config.js'
import { Daemon } from '../../../src/daemon/daemon.js'
import { handleSignals } from '../../../src/daemon/signals.js'
import { createLogger } from '../../../src/log/logger.js'
import { fakePorts } from './fakes.js'

const config = process.argv[2]
if (config === undefined) {
  process.stderr.write('daemon-process.ts is spawned by signals.test.ts, not run on its own\n')
} else {
  const settings = resolveSettings([], { config })
  const logger = createLogger({ format: 'json', level: settings.logLevel })
  const ports = fakePorts({
    logger,
    onCall: call => logger.info({ call }, 'fake client call'),
    ...(process.env.STOP_HANG === '1' ? { stopGate: new Promise<void>(() => {}) } : {}),
  })
  ports.reloadSettings = () => resolveSettings([], { config })
  const daemon = new Daemon(settings, ports)
  const signals = handleSignals(daemon, logger)
  daemon.start().then(() => signals.stopped).then(code => process.exit(code), err => {
    logger.fatal({ err }, 'start failed')
    process.exit(1)
  })
}
