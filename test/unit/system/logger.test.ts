// src/log lives here because the unit test directories of this part of the tree are client/,
// state/ and system/.
import t from 'tap'
import { createLogger, formatPrettyLine, parseLogFormat, parseLogLevel } from '../../../src/log/logger.js'
import { UsageError } from '../../../src/cli/usage-error.js'

function collector(): { lines: string[]; write: (s: string) => void } {
  const lines: string[] = []
  return { lines, write: (s: string) => { lines.push(...s.split('\n').filter(Boolean)) } }
}

t.test('json: one object per line, level as a label, child bindings and fields kept', async t => {
  const out = collector()
  const log = createLogger({ format: 'json', level: 'debug', destination: out })
  log.child({ interface: 'eth0' }).info({ type: 'Solicit', xid: '0x1a2b3c', elapsed: 0, retransmission: false }, 'sent')
  log.trace('not shown at debug')
  t.equal(out.lines.length, 1)
  const event = JSON.parse(out.lines[0] ?? '{}') as Record<string, unknown>
  t.match(event, { level: 'info', interface: 'eth0', type: 'Solicit', xid: '0x1a2b3c', elapsed: 0, retransmission: false, msg: 'sent' })
  t.match(String(event.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
})

t.test('pretty: time, level, interface, message, key=value on one line', async t => {
  const out = collector()
  const log = createLogger({ format: 'pretty', destination: out })
  log.child({ interface: 'eth0' }).info({ type: 'Advertise', xid: '0x1a2b3c', server: 'fe80::1', note: 'two words', ias: [{ iaid: 1 }] }, 'received')
  log.warn('no interface here')
  log.debug('below the default level')
  t.equal(out.lines.length, 2)
  t.match(out.lines[0], /^\d{4}-\d\d-\d\dT\S+Z INFO  \[eth0\] received type=Advertise xid=0x1a2b3c server=fe80::1 note="two words" ias=\[\{"iaid":1\}\]$/)
  t.match(out.lines[1], /Z WARN  no interface here$/)
})

t.test('pretty: errors show their message and stack; non-JSON passes through', async t => {
  const line = formatPrettyLine(JSON.stringify({ time: 'T', level: 'error', msg: 'hook failed', err: { message: 'boom', stack: 'Error: boom\n    at x' } }))
  t.equal(line, 'T ERROR hook failed err="boom"\n    Error: boom\n        at x')
  t.equal(formatPrettyLine('not json\n'), 'not json')
})

t.test('flag values are checked with a helpful error', async t => {
  t.equal(parseLogFormat('json'), 'json')
  t.equal(parseLogLevel('trace'), 'trace')
  t.throws(() => parseLogFormat('text'), UsageError)
  t.throws(() => parseLogFormat('text'), /--log-format pretty or --log-format json/)
  t.throws(() => parseLogLevel('verbose'), /--log-level with one of fatal, error, warn, info, debug, trace, silent/)
})
