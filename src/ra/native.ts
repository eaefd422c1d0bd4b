// Loads the ra6mon native addon (build/Release/ra6mon.node, built by scripts/build-addon.sh) and
// turns its system errors into errors a user can act on.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Wakeup {
  /** Whole datagrams from the kernel (port id 0); others are counted in `foreign`. */
  datagrams: Buffer[]
  /** recvmsg reported ENOBUFS: the kernel dropped messages for this socket. */
  overrun: boolean
  /** The drain stopped at its bound with datagrams still queued; another wake-up follows. */
  more: boolean
  foreign: number
  truncated: number
  error: SystemError | undefined
}

export interface SystemError extends Error {
  errno: number
  code: string
  syscall: string
}

export interface NativeSocket {
  readonly portId: number
  readonly closed: boolean
  send(message: Buffer): number
  close(): void
  ref(): void
  unref(): void
}

export interface SocketOptions {
  protocol: number
  groups?: number[]
  receiveBufferBytes?: number
}

/** Opens a socket; tests substitute one that replays captured datagrams. */
export type SocketFactory = (options: SocketOptions, onWakeup: (wakeup: Wakeup) => void) => NativeSocket

export const openNativeSocket: SocketFactory = (options, onWakeup) => new (native().NetlinkSocket)(options, onWakeup)

interface NativeModule {
  NetlinkSocket: new (options: SocketOptions, onWakeup: (wakeup: Wakeup) => void) => NativeSocket
  clockNs(clock?: number): bigint
  maxDatagramsPerWakeup: number
}

/** The directory holding package.json, from either src/ra (tests) or dist/src/ra (built). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('ra6dhcp: cannot find the package root (binding.gyp) above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
}

export const addonPath = process.env.RA6DHCP_ADDON ?? join(packageRoot(), 'build/Release/ra6mon.node')

let loaded: NativeModule | undefined

export function native(): NativeModule {
  if (loaded) return loaded
  if (!existsSync(addonPath)) {
    throw new Error(`the ra6mon addon is not built (${addonPath} is missing): run scripts/build-addon.sh (or npm install)`)
  }
  loaded = createRequire(import.meta.url)(addonPath) as NativeModule
  return loaded
}

/** clock_gettime(CLOCK_MONOTONIC) in ns: the clock ra6mon stamps events with. */
export function monotonicNs(): bigint {
  return native().clockNs(1)
}

export function isSystemError(err: unknown): err is SystemError {
  return err instanceof Error && typeof (err as Partial<SystemError>).code === 'string' && typeof (err as Partial<SystemError>).errno === 'number'
}
