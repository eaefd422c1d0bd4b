// Errors of the RA sources: Node-style (errno, code, syscall) with a message that says what to do.
import { constants } from 'node:os'

export const MODULE_NOT_LOADED =
  'the ra6mon module is not loaded: build and insmod kernel/ra6mon.ko, or use --ra-source rtnetlink'
export const NEEDS_CAP_NET_ADMIN = 'registering needs CAP_NET_ADMIN'

export class RaSourceError extends Error {
  override name = 'RaSourceError'
  /** Negative, as in Node's own system errors; undefined when no system call failed. */
  errno: number | undefined
  code: string | undefined
  syscall: string | undefined

  constructor(message: string, details: { errno?: number; code?: string; syscall?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.errno = details.errno
    this.code = details.code
    this.syscall = details.syscall
  }
}

/** The name of a negative errno, e.g. -1 -> "EPERM". */
export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === -errno) return name
  return `E${-errno}`
}

/** Builds the error for a negative errno returned in a netlink ack. */
export function ackError(errno: number, request: string, kernelMessage?: string): RaSourceError {
  const code = errnoName(errno)
  const why = kernelMessage ? ` (kernel: ${kernelMessage})` : ''
  const message = code === 'EPERM' && request === 'ra6mon register'
    ? `${NEEDS_CAP_NET_ADMIN}: run as root or grant the capability (e.g. setcap cap_net_admin+ep, or systemd AmbientCapabilities=CAP_NET_ADMIN)${why}`
    : `${request} failed: ${code}${why}`
  return new RaSourceError(message, { errno, code, syscall: request })
}
