// Test-side encoders (written from the header's layout, independently of src/ra's decoders) and a
// fake socket that plays datagrams into the real TypeScript stack.
import type { NativeSocket, SocketFactory, SocketOptions, Wakeup } from '../../../src/ra/native.js'

// --- netlink framing, little-endian (x86, where these tests run)

export function nlattr(type: number, value: Buffer): Buffer {
  const len = 4 + value.length
  const out = Buffer.alloc((len + 3) & ~3)
  out.writeUInt16LE(len, 0)
  out.writeUInt16LE(type, 2)
  value.copy(out, 4)
  return out
}
export const u8 = (v: number) => Buffer.from([v])
export const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b }
export const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b }
export const u64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b }

export function nlmsg(type: number, flags: number, seq: number, payload: Buffer, pid = 0): Buffer {
  const len = 16 + payload.length
  const out = Buffer.alloc((len + 3) & ~3)
  out.writeUInt32LE(len, 0)
  out.writeUInt16LE(type, 4)
  out.writeUInt16LE(flags, 6)
  out.writeUInt32LE(seq, 8)
  out.writeUInt32LE(pid, 12)
  payload.copy(out, 16)
  return out
}

/** NLMSG_ERROR answering `seq` (error 0 = ack), optionally with an extended-ack message. */
export function nlack(seq: number, error: number, extack?: string): Buffer {
  const original = nlmsg(0x10, 5, seq, Buffer.alloc(0)).subarray(0, 16)
  const errno = Buffer.alloc(4)
  errno.writeInt32LE(error)
  if (extack === undefined) return nlmsg(2, 0x100, seq, Buffer.concat([errno, original]))
  const text = nlattr(1, Buffer.from(extack + '\0'))
  return nlmsg(2, 0x100 | 0x200, seq, Buffer.concat([errno, original, text]))
}

export function ipv6(text: string): Buffer {
  // Enough for the test addresses: expands "::" and parses groups.
  const [head = '', tail] = text.split('::')
  const h = head ? head.split(':') : []
  const t = tail !== undefined && tail !== '' ? tail.split(':') : []
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

// --- ND options (RFC 4861 and friends), network byte order

export function ndPrefix(prefix: string, length: number, flags: number, valid: number, preferred: number): Buffer {
  const b = Buffer.alloc(32)
  b.writeUInt8(3, 0); b.writeUInt8(4, 1); b.writeUInt8(length, 2); b.writeUInt8(flags, 3)
  b.writeUInt32BE(valid, 4); b.writeUInt32BE(preferred, 8)
  ipv6(prefix).copy(b, 16)
  return b
}
export function ndMtu(mtu: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeUInt8(5, 0); b.writeUInt8(1, 1); b.writeUInt32BE(mtu, 4)
  return b
}
export function ndSlla(mac: string): Buffer {
  return Buffer.concat([Buffer.from([1, 1]), Buffer.from(mac.split(':').map(x => parseInt(x, 16)))])
}
export function ndRdnss(lifetime: number, servers: string[]): Buffer {
  const b = Buffer.alloc(8 + 16 * servers.length)
  b.writeUInt8(25, 0); b.writeUInt8(1 + 2 * servers.length, 1); b.writeUInt32BE(lifetime, 4)
  servers.forEach((s, i) => ipv6(s).copy(b, 8 + 16 * i))
  return b
}
export function ndDnssl(lifetime: number, domains: string[]): Buffer {
  const names = Buffer.concat(domains.map(d => Buffer.concat([
    ...d.split('.').map(l => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0]),
  ])))
  const total = Math.ceil((8 + names.length) / 8) * 8
  const b = Buffer.alloc(total)
  b.writeUInt8(31, 0); b.writeUInt8(total / 8, 1); b.writeUInt32BE(lifetime, 4)
  names.copy(b, 8)
  return b
}
export function ndRoute(prefix: string, length: number, prf: number, lifetime: number, units: number): Buffer {
  const b = Buffer.alloc(units * 8)
  b.writeUInt8(24, 0); b.writeUInt8(units, 1); b.writeUInt8(length, 2); b.writeUInt8(prf << 3, 3)
  b.writeUInt32BE(lifetime, 4)
  ipv6(prefix).copy(b, 8, 0, (units - 1) * 8)
  return b
}

// --- ra6mon (values from kernel/include/uapi/linux/ra6mon.h, written out here on purpose)

export interface RaFields {
  ifindex?: number
  ifname?: string
  router?: string
  daddr?: string
  hopLimit?: number
  flags?: number
  routerLifetime?: number
  reachable?: number
  retrans?: number
  timestampNs?: bigint
  seq?: bigint
  replayed?: boolean
  options?: Buffer
  abiVersion?: number
}

/** RA6MON_MSG_RA_EVENT (0x12), laid out as the module's event_fill() does (PAD before u64s). */
export function ra6monEvent(f: RaFields, nlseq = 0): Buffer {
  const pad = nlattr(18, Buffer.alloc(0))
  const payload = Buffer.concat([
    nlattr(1, u32(f.abiVersion ?? 1)),
    nlattr(2, u32(f.ifindex ?? 2)),
    nlattr(3, Buffer.from((f.ifname ?? 'eth0') + '\0')),
    nlattr(4, ipv6(f.router ?? 'fe80::1')),
    nlattr(5, ipv6(f.daddr ?? 'ff02::1')),
    nlattr(6, u8(f.hopLimit ?? 64)),
    nlattr(7, u8(f.flags ?? 0xc0)),
    nlattr(8, u16(f.routerLifetime ?? 1800)),
    nlattr(9, u32(f.reachable ?? 0)),
    nlattr(10, u32(f.retrans ?? 0)),
    pad, nlattr(11, u64(f.timestampNs ?? 123456789n)),
    nlattr(12, u32(1)),
    pad, nlattr(13, u64(f.seq ?? 1n)),
    ...(f.replayed ? [nlattr(14, Buffer.alloc(0))] : []),
    nlattr(15, f.options ?? Buffer.alloc(0)),
  ])
  return nlmsg(0x12, 0, nlseq, payload)
}

// --- a fake socket

export class FakeSocket implements NativeSocket {
  readonly portId = 4242
  closed = false
  referenced = true
  readonly sent: Buffer[] = []
  /** Answers each sent request; returns the datagrams to deliver in reply. */
  onSend: (message: Buffer) => Buffer[] = () => []

  constructor(readonly options: SocketOptions, private readonly wake: (w: Wakeup) => void) {}

  send(message: Buffer): number {
    if (this.closed) throw new Error('closed')
    this.sent.push(message)
    const replies = this.onSend(message)
    if (replies.length) setImmediate(() => this.deliver(replies))
    return message.length
  }

  deliver(datagrams: Buffer[], extra: Partial<Wakeup> = {}): void {
    if (this.closed) return
    this.wake({ datagrams, overrun: false, more: false, foreign: 0, truncated: 0, error: undefined, ...extra })
  }

  close(): void { this.closed = true }
  ref(): void { this.referenced = true }
  unref(): void { this.referenced = false }
}

export function fakeSocketFactory(): { factory: SocketFactory; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = []
  const factory: SocketFactory = (options, wake) => {
    const s = new FakeSocket(options, wake)
    sockets.push(s)
    return s
  }
  return { factory, sockets }
}

export const seqOf = (message: Buffer) => message.readUInt32LE(8)
export const typeOf = (message: Buffer) => message.readUInt16LE(4)
