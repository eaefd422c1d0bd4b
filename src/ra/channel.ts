// A netlink socket from the addon, with request/ack tracking by sequence number. Both RA sources
// sit on one of these; they see every message that is not the answer to a pending request.
import { NETLINK } from './abi.js'
import { RaSourceError, ackError } from './errors.js'
import { decodeAck, splitMessages, MalformedMessageError, type NetlinkMessage } from './netlink.js'
import { isSystemError, openNativeSocket, type NativeSocket, type SocketFactory, type SocketOptions, type Wakeup } from './native.js'

export interface ChannelHandlers {
  /** A message that answers no pending request (events, notifications). */
  message(message: NetlinkMessage): void
  /** Called once per wake-up after its messages; `more` is true when the queue was not drained. */
  wakeupDone(more: boolean): void
  overrun(): void
  malformed(reason: string): void
  error(err: Error): void
}

export interface ChannelCounters {
  foreign: number
  truncated: number
}

interface Pending {
  name: string
  replies: NetlinkMessage[]
  /** For dumps: the request ends at NLMSG_DONE rather than at the ack. */
  dump: boolean
  /** For requests answered by a message and no ack: the request ends at the first such reply. */
  until: ((reply: NetlinkMessage) => boolean) | undefined
  resolve(replies: NetlinkMessage[]): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

export const REQUEST_TIMEOUT_MS = 5000

export class NetlinkChannel {
  readonly counters: ChannelCounters = { foreign: 0, truncated: 0 }
  private readonly socket: NativeSocket
  private readonly pending = new Map<number, Pending>()
  // Random start: a stale ack from an earlier socket can never match.
  private nextSeq = 1 + Math.floor(Math.random() * 0x7fffffff)

  /** Throws the addon's system error (errno, code, syscall) when the socket cannot be opened. */
  constructor(options: SocketOptions, private readonly handlers: ChannelHandlers, openSocket: SocketFactory = openNativeSocket) {
    this.socket = openSocket(options, wakeup => this.onWakeup(wakeup))
  }

  get portId(): number { return this.socket.portId }
  get closed(): boolean { return this.socket.closed }

  allocateSeq(): number {
    const seq = this.nextSeq
    this.nextSeq = this.nextSeq >= 0xffffffff ? 1 : this.nextSeq + 1
    return seq
  }

  /**
   * Sends `message` (built with `seq`) and resolves with the replies that carry that sequence
   * number once the kernel acks it (or, for a dump, sends NLMSG_DONE). Rejects on an error ack.
   */
  request(
    name: string, seq: number, message: Buffer,
    options: { dump?: boolean; until?: (reply: NetlinkMessage) => boolean; timeoutMs?: number } = {},
  ): Promise<NetlinkMessage[]> {
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS
      const timer = setTimeout(() => {
        this.pending.delete(seq)
        reject(new RaSourceError(`${name}: no answer from the kernel within ${timeoutMs} ms`, { code: 'ETIMEDOUT', syscall: name }))
      }, timeoutMs)
      this.pending.set(seq, { name, replies: [], dump: options.dump ?? false, until: options.until, resolve, reject, timer })
      try {
        this.socket.send(message)
      } catch (err) {
        clearTimeout(timer)
        this.pending.delete(seq)
        reject(isSystemError(err)
          ? new RaSourceError(`${name}: ${err.message}`, { errno: err.errno, code: err.code, syscall: err.syscall, cause: err })
          : err)
      }
    })
  }

  /** Gives up on a request (its replies, if any still come, are ordinary messages). */
  cancel(seq: number): void {
    const p = this.pending.get(seq)
    if (!p) return
    clearTimeout(p.timer)
    this.pending.delete(seq)
    p.reject(new RaSourceError(`${p.name}: cancelled`, { code: 'ECANCELED', syscall: p.name }))
  }

  /** Sends without waiting (used when the answer is handled as an ordinary message). */
  send(message: Buffer): void {
    this.socket.send(message)
  }

  ref(): void { this.socket.ref() }
  unref(): void { this.socket.unref() }

  close(): void {
    this.socket.close()
    for (const [seq, p] of this.pending) {
      clearTimeout(p.timer)
      p.reject(new RaSourceError(`${p.name}: the socket was closed`, { code: 'ECANCELED', syscall: p.name }))
      this.pending.delete(seq)
    }
  }

  private onWakeup(wakeup: Wakeup): void {
    this.counters.foreign += wakeup.foreign
    this.counters.truncated += wakeup.truncated
    for (let i = 0; i < wakeup.truncated; i++) this.handlers.malformed('a datagram larger than the receive buffer was truncated')
    for (const datagram of wakeup.datagrams) {
      const { messages, malformed } = splitMessages(datagram)
      for (const message of messages) {
        if (this.socket.closed) return
        this.dispatch(message)
      }
      if (malformed) this.handlers.malformed('a datagram with an impossible netlink message length')
    }
    if (wakeup.overrun) this.handlers.overrun()
    if (wakeup.error) this.handlers.error(wakeup.error)
    if (!this.socket.closed) this.handlers.wakeupDone(wakeup.more)
  }

  private dispatch(message: NetlinkMessage): void {
    const pending = message.seq === 0 ? undefined : this.pending.get(message.seq)
    if (message.type === NETLINK.NLMSG_ERROR) {
      let ack
      try {
        ack = decodeAck(message)
      } catch (err) {
        this.handlers.malformed((err as Error).message)
        return
      }
      const target = this.pending.get(ack.seq)
      if (!target) return // an ack for a request we gave up on
      this.finish(ack.seq, target, ack.error === 0 ? undefined : ackError(ack.error, target.name, ack.kernelMessage))
      return
    }
    if (pending) {
      if (message.type === NETLINK.NLMSG_DONE && pending.dump) {
        this.finish(message.seq, pending)
        return
      }
      pending.replies.push(message)
      if (pending.until?.(message)) {
        this.finish(message.seq, pending)
        return
      }
      // Replies that are events too (ra6mon's replay) also go to the source's message handler.
    }
    if (message.type === NETLINK.NLMSG_NOOP || message.type === NETLINK.NLMSG_DONE) return
    try {
      this.handlers.message(message)
    } catch (err) {
      if (err instanceof MalformedMessageError) this.handlers.malformed(err.message)
      else throw err
    }
  }

  private finish(seq: number, pending: Pending, error?: Error): void {
    clearTimeout(pending.timer)
    this.pending.delete(seq)
    if (error) pending.reject(error)
    else pending.resolve(pending.replies)
  }
}
