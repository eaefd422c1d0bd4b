// Logging for the daemon: pino, as JSON lines (`--log-format json`, for machines and journald)
// or one readable line per event (`--log-format pretty`, the default on a terminal). The pretty
// formatter is ours and small, so pino-pretty and its dependencies are not needed.
import { pino, type Logger, type LevelWithSilent } from 'pino'
import { UsageError } from '../cli/usage-error.js'

export type { Logger }
export type LogFormat = 'pretty' | 'json'
export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json']
export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function parseLogFormat(value: string): LogFormat {
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat
  throw new UsageError(`unknown log format '${value}': use --log-format pretty or --log-format json`)
}

export function parseLogLevel(value: string): LevelWithSilent {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LevelWithSilent
  throw new UsageError(`unknown log level '${value}': use --log-level with one of ${LOG_LEVELS.join(', ')}`)
}

/** Anything with write(string): process.stdout, a file stream, or a test's collector. */
export interface LogDestination {
  write(line: string): unknown
}

export interface LoggerOptions {
  format?: LogFormat
  level?: LevelWithSilent
  /** process.stdout by default. */
  destination?: LogDestination
}

/**
 * The root logger. Give each interface its own child, `logger.child({ interface: 'eth0' })`, and
 * log protocol events with their fields: `log.info({ type: 'Solicit', xid: '0x1a2b3c',
 * elapsed: 0, retransmission: false }, 'sent')`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { format = 'pretty', level = 'info', destination = process.stdout } = options
  const common = {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  }
  if (format === 'json') return pino(common, destination)
  return pino({ ...common, base: undefined }, { write: (line: string) => destination.write(`${formatPrettyLine(line)}\n`) })
}

const RESERVED = new Set(['time', 'level', 'msg', 'interface', 'pid', 'hostname'])

/**
 * One pino JSON line as "TIME LEVEL [INTERFACE] MESSAGE key=value ...". Values with spaces or
 * quotes are JSON-quoted, objects are JSON; an Error's stack follows on the next lines.
 */
export function formatPrettyLine(jsonLine: string): string {
  let event: Record<string, unknown>
  try {
    event = JSON.parse(jsonLine) as Record<string, unknown>
  } catch {
    return jsonLine.trimEnd()
  }
  const parts = [String(event.time ?? ''), String(event.level ?? '').toUpperCase().padEnd(5)]
  if (event.interface !== undefined) parts.push(`[${String(event.interface)}]`)
  if (event.msg !== undefined && event.msg !== '') parts.push(String(event.msg))
  let stack = ''
  for (const [key, value] of Object.entries(event)) {
    if (RESERVED.has(key) || value === undefined) continue
    if (key === 'err' && typeof value === 'object' && value !== null && 'stack' in value) {
      stack = `\n    ${String((value as { stack: unknown }).stack).split('\n').join('\n    ')}`
      parts.push(`err=${JSON.stringify(String((value as { message?: unknown }).message ?? ''))}`)
      continue
    }
    parts.push(`${key}=${formatValue(value)}`)
  }
  return parts.join(' ') + stack
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
  if (typeof value === 'object' && value !== null) return JSON.stringify(value)
  return String(value)
}
