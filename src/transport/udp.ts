// The DHCPv6 client's UDP transport on one interface (RFC 8415 sections 7.1, 7.2, 14, 18.2).
//
// One socket per interface, bound to the interface's link-local address with its zone
// (fe80::x%IF) and port 546. Binding a link-local address ties the socket to that interface
// (Linux sets the socket's bound device from the scope id, as for SO_BINDTODEVICE), so the kernel
// delivers only datagrams that arrived on IF and were addressed to that address: a reply that
// arrives on another interface can never reach this transport. As a second check, a sender
// whose link-local address carries another interface's zone (Node reports the sender's scope id
// as "%IF") is dropped and counted. The namespace test checks both.
//
// A server may also send a Reconfigure to a leased global address (RFC 8415 section 18.3.11: "an
// IPv6 unicast address of sufficient scope belonging to the DHCP client"), which the link-local
// socket never sees: listenOn(address) adds a receive-only socket bound to that address and port
// 546 while it is leased. Such a socket is not tied to IF (Linux delivers to a global address
// whichever interface the datagram came in on), which is harmless for what arrives there: a
// Reconfigure is only acted on with a valid RKAP HMAC from the lease's own server.
//
// Multicast to All_DHCP_Relay_Agents_and_Servers (ff02::1:2) leaves through IF
// (setMulticastInterface and the destination's zone) with hop limit 1: it is link-scoped
// (RFC 8415 section 7.1), so it can never be forwarded.
import { createSocket, type Socket } from 'node:dgram'
import { networkInterfaces } from 'node:os'
import type { Clock } from '../client/clock.js'
import { RealClock } from '../client/clock.js'

export const CLIENT_PORT = 546
export const SERVER_PORT = 547
export const ALL_DHCP_RELAY_AGENTS_AND_SERVERS = 'ff02::1:2'

/** Where to send: the link's servers and relays by multicast, or one server by unicast address. */
export type TransportDestination = 'all-servers' | { unicast: string }

export interface Sender {
  /** Source address without zone (the zone is always this transport's interface). */
  address: string
  port: number
}

export type MessageHandler = (bytes: Uint8Array, sender: Sender) => void

export interface TransportCounters {
  sent: number
  sendErrors: number
  received: number
  /** Socket errors reported while receiving; the socket stays open. */
  receiveErrors: number
  /** Handlers that threw (e.g. a codec bug on a malformed packet); the datagram is dropped. */
  handlerErrors: number
  /** Datagrams whose sender's zone names another interface: dropped. */
  otherInterface: number
}

/** What the client state machine needs from a transport; tests inject their own. */
export interface DhcpTransport {
  readonly ifname: string
  /** The link-local address the socket is bound to (without zone). */
  readonly localAddress: string
  readonly counters: Readonly<TransportCounters>
  send(bytes: Uint8Array, destination: TransportDestination): Promise<void>
  /** Registers the handler for received datagrams (one handler; a new call replaces it). */
  onMessage(handler: MessageHandler): void
  close(): Promise<void>
}

/** A transport that can also receive on leased global addresses (for Reconfigure). */
export interface LeasedAddressListener {
  /** Also receives datagrams to `address` (port 546) until stopListening; rejects if it cannot bind. */
  listenOn(address: string): Promise<void>
  stopListening(address: string): Promise<void>
  /** The addresses listened on besides the link-local one. */
  listeningOn(): string[]
}

export interface UdpTransportOptions {
  ifname: string
  /** Client port to bind; 546 (tests may use another). */
  clientPort?: number
  /** Server port to send to; 547. */
  serverPort?: number
  /** How long to wait for a usable (non-tentative) link-local address. */
  linkLocalTimeoutMs?: number
  clock?: Clock
  /** Called on socket errors (to log them); the transport carries on. */
  onError?: (error: Error) => void
}

/** The interface's link-local addresses as the OS lists them (possibly still tentative). */
export function linkLocalAddresses(ifname: string): string[] {
  return (networkInterfaces()[ifname] ?? [])
    .filter(a => a.family === 'IPv6' && /^fe[89ab]/i.test(a.address))
    .map(a => a.address.replace(/%.*$/, ''))
}

export class UdpTransport implements DhcpTransport, LeasedAddressListener {
  readonly counters: TransportCounters = { sent: 0, sendErrors: 0, received: 0, receiveErrors: 0, handlerErrors: 0, otherInterface: 0 }
  private handler: MessageHandler | undefined
  private closed = false
  /** Receive-only sockets on leased global addresses, by address. */
  private readonly leased = new Map<string, Socket>()

  private constructor(
    readonly ifname: string,
    readonly localAddress: string,
    private readonly socket: Socket,
    private readonly clientPort: number,
    private readonly serverPort: number,
    private readonly onError: ((error: Error) => void) | undefined,
  ) {
    this.receiveFrom(socket)
  }

  private receiveFrom(socket: Socket): void {
    const onError = this.onError
    const ifname = this.ifname
    socket.on('message', (data, rinfo) => {
      const [address = '', zone] = rinfo.address.split('%')
      if (zone !== undefined && zone !== ifname) {
        this.counters.otherInterface++
        return
      }
      this.counters.received++
      if (!this.handler) return
      try {
        this.handler(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), { address, port: rinfo.port })
      } catch (err) {
        this.counters.handlerErrors++
        onError?.(err as Error)
      }
    })
    socket.on('error', err => {
      this.counters.receiveErrors++
      onError?.(err)
    })
  }

  /**
   * Opens the transport on `ifname`: waits until a link-local address exists and can be bound
   * (the kernel refuses to bind a tentative address with EADDRNOTAVAIL while DAD runs), then
   * binds it with its zone and port 546.
   */
  static async open(options: UdpTransportOptions): Promise<UdpTransport> {
    const { ifname, clientPort = CLIENT_PORT, serverPort = SERVER_PORT, linkLocalTimeoutMs = 10_000, onError } = options
    const clock = options.clock ?? new RealClock()
    const deadline = clock.now() + linkLocalTimeoutMs
    let lastError = 'no link-local address'
    for (;;) {
      for (const address of linkLocalAddresses(ifname)) {
        const socket = createSocket({ type: 'udp6', reuseAddr: false })
        try {
          await bindSocket(socket, `${address}%${ifname}`, clientPort)
          socket.setMulticastInterface(`::%${ifname}`)
          socket.setMulticastTTL(1)
          socket.setMulticastLoopback(false)
          return new UdpTransport(ifname, address, socket, clientPort, serverPort, onError)
        } catch (err) {
          socket.close()
          const code = (err as NodeJS.ErrnoException).code
          lastError = `${address}%${ifname}: ${(err as Error).message}`
          // Only "not usable yet" is worth waiting for; EADDRINUSE (another DHCPv6 client on port
          // 546) or EACCES (not root) will not go away.
          if (code !== 'EADDRNOTAVAIL') throw new Error(`cannot bind the DHCPv6 client port on ${ifname}: ${lastError}`)
        }
      }
      if (clock.now() >= deadline) throw new Error(`no usable link-local address on ${ifname} after ${linkLocalTimeoutMs} ms (${lastError}); is the interface up, and has DAD finished?`)
      await new Promise<void>(resolve => clock.setTimer(100, resolve))
    }
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler
  }

  send(bytes: Uint8Array, destination: TransportDestination): Promise<void> {
    const address = destination === 'all-servers' ? ALL_DHCP_RELAY_AGENTS_AND_SERVERS : destination.unicast
    // Link-local and multicast destinations need the zone; global ones route normally.
    const target = /^(fe[89ab]|ff)/i.test(address) && !address.includes('%') ? `${address}%${this.ifname}` : address
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error(`transport on ${this.ifname} is closed`))
      this.socket.send(bytes, this.serverPort, target, err => {
        if (err) {
          this.counters.sendErrors++
          reject(err)
        } else {
          this.counters.sent++
          resolve()
        }
      })
    })
  }

  async listenOn(address: string): Promise<void> {
    if (this.closed) throw new Error(`transport on ${this.ifname} is closed`)
    if (this.leased.has(address)) return
    const socket = createSocket({ type: 'udp6', reuseAddr: false })
    this.leased.set(address, socket)
    try {
      await bindSocket(socket, address, this.clientPort)
    } catch (err) {
      if (this.leased.get(address) === socket) this.leased.delete(address)
      await closeSocket(socket)
      throw err
    }
    // stopListening or close while binding: that socket is already dropped from the map (and
    // closing it twice is harmless: closeSocket ignores a socket that is not running).
    if (this.closed || this.leased.get(address) !== socket) {
      await closeSocket(socket)
      return
    }
    this.receiveFrom(socket)
  }

  stopListening(address: string): Promise<void> {
    const socket = this.leased.get(address)
    if (!socket) return Promise.resolve()
    this.leased.delete(address)
    return closeSocket(socket)
  }

  listeningOn(): string[] {
    return [...this.leased.keys()]
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    const sockets = [this.socket, ...this.leased.values()]
    this.leased.clear()
    return Promise.all(sockets.map(closeSocket)).then(() => undefined)
  }
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise(resolve => {
    try {
      socket.close(() => resolve())
    } catch {
      resolve() // not running (never bound, or closed already): nothing to close
    }
  })
}

function bindSocket(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    socket.once('error', onError)
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError)
      resolve()
    })
  })
}
