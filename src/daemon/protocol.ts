// The control protocol: a unix stream socket carrying one request per line and one response per
// line, both JSON. A request is {"argv": ["start", "iana", "iaid=1"], "interface"?: "eth0"}; a
// plain text line ("start iana iaid=1") is accepted too, for `socat - UNIX-CONNECT:SOCKET`.
// A response is {"ok": true, "verb": ..., ...} or {"ok": false, "error": "what and how to fix"}.
import { createConnection } from 'node:net'
import type { ClientStatus, StartSpec } from '../client/api.js'
import type { OnRaMode } from './config.js'
import type { DownstreamStatus } from './downstream.js'
import type { Verb } from './verbs.js'
import { splitWords } from './verbs.js'

/** A request line longer than this is refused (and the connection closed). */
export const MAX_REQUEST_BYTES = 64 * 1024

export interface ControlRequest {
  argv: string[]
  interface?: string
}

/** What the daemon knows about the last RA it passed to an interface's client. */
export interface LastRa {
  at: string
  managed: boolean
  other: boolean
  replayed: boolean
  router?: string
}

export interface InterfaceReport extends ClientStatus {
  onRa: OnRaMode
  /** RAs seen for this interface since the daemon started (replayed ones included). */
  raCount: number
  lastRa?: LastRa
  linkDown?: boolean
  /** The link as the client was last told: down from carrier loss (link watch) or ifdown until it is usable again. */
  link: 'up' | 'down'
  /** When the link last changed, or was found down at start (ISO 8601); absent otherwise. */
  linkChangedAt?: string
  /** --pd-downstream: the /64 assigned from the delegated prefix. */
  downstream?: DownstreamStatus
}

export interface DaemonStatus {
  pid: number
  version: string
  startedAt: string
  uptimeSeconds: number
  /** The RA source in use: ra6mon or rtnetlink (undefined while starting). */
  raSource?: string
  controlSocket: string
  stateDir: string
  configFile?: string
  interfaces: InterfaceReport[]
}

export interface InterfaceOutcome {
  interface: string
  /** For start: what was asked for. */
  spec?: StartSpec
  /** The client's state after the verb. */
  state: string
}

export type ControlResponse =
  | { ok: true; verb: 'status'; status: DaemonStatus }
  | { ok: true; verb: Exclude<Verb, 'status'>; results: InterfaceOutcome[] }
  | { ok: false; error: string }

/** Parses one request line; throws an Error whose message names the expected form. */
export function parseRequestLine(line: string): ControlRequest {
  const text = line.trim()
  if (!text.startsWith('{')) return { argv: splitWords(text) }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new Error(`request is not valid JSON (${(err as Error).message}): send {"argv": ["status"]} or a plain line such as "status"`)
  }
  const request = value as Partial<ControlRequest>
  if (typeof value !== 'object' || value === null || !Array.isArray(request.argv) || !request.argv.every(w => typeof w === 'string')) {
    throw new Error('request must be {"argv": [words...], "interface"?: "IF"}, e.g. {"argv": ["start", "iana"]}')
  }
  if (request.interface !== undefined && typeof request.interface !== 'string') {
    throw new Error('request "interface" must be a string, e.g. "eth0"')
  }
  const parsed: ControlRequest = { argv: request.argv }
  if (request.interface !== undefined) parsed.interface = request.interface
  return parsed
}

/** A daemon could not be reached at a socket path. */
export class DaemonUnreachableError extends Error {
  override name = 'DaemonUnreachableError'
  constructor(message: string, readonly code?: string) { super(message) }
}

export function unreachableMessage(socketPath: string, code: string | undefined): string {
  if (code === 'ENOENT' || code === 'ECONNREFUSED') {
    return `no daemon at ${socketPath}: start it with \`ra6dhcp run IF\` (or give --socket PATH of a running one)`
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return `cannot open ${socketPath} (permission denied): the control socket is mode 0600, run ctl as the daemon's user (root)`
  }
  return `cannot reach the daemon at ${socketPath} (${code ?? 'unknown error'})`
}

/** Sends one request and resolves with the daemon's response. */
export function sendControlRequest(socketPath: string, request: ControlRequest, timeoutMs = 120_000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: socketPath })
    let buffer = ''
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      fn()
    }
    const timer = setTimeout(() => finish(() => reject(new DaemonUnreachableError(
      `the daemon at ${socketPath} did not answer within ${Math.round(timeoutMs / 1000)} s`, 'ETIMEDOUT'))), timeoutMs)
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`))
    socket.on('data', (chunk: string) => {
      buffer += chunk
      const newline = buffer.indexOf('\n')
      if (newline < 0) return
      const line = buffer.slice(0, newline)
      finish(() => {
        try {
          resolve(JSON.parse(line) as ControlResponse)
        } catch (err) {
          reject(new DaemonUnreachableError(`the daemon at ${socketPath} sent a bad answer (${(err as Error).message})`, 'EPROTO'))
        }
      })
    })
    socket.on('error', (err: NodeJS.ErrnoException) => finish(() => reject(new DaemonUnreachableError(unreachableMessage(socketPath, err.code), err.code))))
    socket.on('close', () => finish(() => reject(new DaemonUnreachableError(`the daemon at ${socketPath} closed the connection without answering`, 'ECONNRESET'))))
  })
}
