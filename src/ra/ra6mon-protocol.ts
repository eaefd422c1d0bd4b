// ra6mon messages (kernel/include/uapi/linux/ra6mon.h): requests we send, events and stats we read.
import { RA6MON, RA6MON_REJECT_NAMES, NETLINK } from './abi.js'
import { preferenceFromBits, type RaEvent } from './events.js'
import {
  MalformedMessageError, attributeMap, encodeAttribute, encodeMessage, expectLength, parseAttributes, readString,
  readU16, readU32, readU64, u32Value, type NetlinkMessage,
} from './netlink.js'
import { decodeNdOptions, formatIpv6 } from './nd-options.js'

const requestFlags = NETLINK.NLM_F_REQUEST | NETLINK.NLM_F_ACK

/** RA6MON_MSG_REGISTER, optionally limited to some interfaces (at most RA6MON_FILTER_MAX). */
export function encodeRegister(seq: number, ifindexes: number[] = []): Buffer {
  if (ifindexes.length > RA6MON.FILTER_MAX) {
    throw new RangeError(`ra6mon filters on at most ${RA6MON.FILTER_MAX} interfaces, ${ifindexes.length} given`)
  }
  const payload = ifindexes.length === 0
    ? Buffer.alloc(0)
    : encodeAttribute(RA6MON.A_FILTER, Buffer.concat(ifindexes.map(i => encodeAttribute(RA6MON.A_IFINDEX, u32Value(i)))))
  return encodeMessage(RA6MON.MSG_REGISTER, requestFlags, seq, payload)
}

export function encodeUnregister(seq: number): Buffer {
  return encodeMessage(RA6MON.MSG_UNREGISTER, requestFlags, seq)
}

export function encodeGetStats(seq: number): Buffer {
  return encodeMessage(RA6MON.MSG_GET_STATS, NETLINK.NLM_F_REQUEST, seq)
}

export interface DecodedRa6monEvent {
  event: RaEvent
  /** Why some of the RA's ND options could not be decoded (the rest of the event stands). */
  optionProblem?: string
}

/** Decodes RA6MON_MSG_RA_EVENT. Throws MalformedMessageError when a required field is missing or wrong. */
export function decodeRa6monEvent(message: NetlinkMessage): DecodedRa6monEvent {
  if (message.type !== RA6MON.MSG_RA_EVENT) throw new MalformedMessageError(`not an RA event: type ${message.type}`)
  const a = attributeMap(message.payload)
  const u8 = (name: string, type: number) => expectLength(name, a.get(type), 1)?.readUInt8(0)
  const u16 = (name: string, type: number) => { const v = expectLength(name, a.get(type), 2); return v && readU16(v, 0) }
  const u32 = (name: string, type: number) => { const v = expectLength(name, a.get(type), 4); return v && readU32(v, 0) }
  const u64 = (name: string, type: number) => { const v = expectLength(name, a.get(type), 8); return v && readU64(v, 0) }
  const address = (name: string, type: number) => { const v = expectLength(name, a.get(type), 16); return v && formatIpv6(v) }

  const version = u32('RA6MON_A_ABI_VERSION', RA6MON.A_ABI_VERSION)
  if (version !== undefined && version !== RA6MON.ABI_VERSION) {
    throw new MalformedMessageError(`ra6mon ABI version ${version}; this client speaks ${RA6MON.ABI_VERSION}: rebuild one to match`)
  }
  const ifindex = u32('RA6MON_A_IFINDEX', RA6MON.A_IFINDEX)
  const router = address('RA6MON_A_ROUTER', RA6MON.A_ROUTER)
  const flagsByte = u8('RA6MON_A_FLAGS', RA6MON.A_FLAGS)
  if (ifindex === undefined || router === undefined || flagsByte === undefined) {
    throw new MalformedMessageError('RA event without ifindex, router or flags')
  }
  const ifnameAttr = a.get(RA6MON.A_IFNAME)
  const optionsArea = a.get(RA6MON.A_ND_OPTIONS) ?? Buffer.alloc(0)
  const { options, malformed } = decodeNdOptions(optionsArea)
  const event: RaEvent = {
    source: 'ra6mon',
    ifindex,
    ifname: ifnameAttr ? readString(ifnameAttr) : `if${ifindex}`,
    router,
    destination: address('RA6MON_A_DADDR', RA6MON.A_DADDR),
    flags: {
      managed: (flagsByte & RA6MON.RA_F_MANAGED) !== 0,
      other: (flagsByte & RA6MON.RA_F_OTHER) !== 0,
      homeAgent: (flagsByte & RA6MON.RA_F_HOME_AGENT) !== 0,
      preference: preferenceFromBits((flagsByte & RA6MON.RA_F_PRF_MASK) >> RA6MON.RA_F_PRF_SHIFT),
      proxy: (flagsByte & RA6MON.RA_F_PROXY) !== 0,
    },
    routerLifetime: u16('RA6MON_A_ROUTER_LIFETIME', RA6MON.A_ROUTER_LIFETIME),
    reachableTime: u32('RA6MON_A_REACHABLE_TIME', RA6MON.A_REACHABLE_TIME),
    retransTimer: u32('RA6MON_A_RETRANS_TIMER', RA6MON.A_RETRANS_TIMER),
    curHopLimit: u8('RA6MON_A_HOP_LIMIT', RA6MON.A_HOP_LIMIT),
    options,
    kernelTimeNs: u64('RA6MON_A_TIMESTAMP_NS', RA6MON.A_TIMESTAMP_NS),
    clock: u32('RA6MON_A_TIMESTAMP_CLOCK', RA6MON.A_TIMESTAMP_CLOCK),
    seq: u64('RA6MON_A_SEQ', RA6MON.A_SEQ),
    replayed: a.has(RA6MON.A_REPLAYED),
  }
  return malformed === undefined ? { event } : { event, optionProblem: malformed }
}

const statNames: Record<number, string> = {
  [RA6MON.STAT_RA_SEEN]: 'raSeen',
  [RA6MON.STAT_RA_ACCEPTED]: 'raAccepted',
  [RA6MON.STAT_NOTIFY_SENT]: 'notifySent',
  [RA6MON.STAT_NOTIFY_RATELIMITED]: 'notifyRateLimited',
  [RA6MON.STAT_NOTIFY_QUEUE_FULL]: 'notifyQueueFull',
  [RA6MON.STAT_NOTIFY_NOMEM]: 'notifyNoMemory',
  [RA6MON.STAT_CLIENTS]: 'clients',
  [RA6MON.STAT_NOTIFY_PORT_GONE]: 'notifyPortGone',
  [RA6MON.STAT_NOTIFY_REPLAYED]: 'notifyReplayed',
  [RA6MON.STAT_RA_NOT_REMEMBERED]: 'raNotRemembered',
  [RA6MON.STAT_INTERFACES]: 'interfaces',
}

/**
 * Decodes RA6MON_MSG_STATS into named counters: rejects as `reject.<reason>`, counters this
 * client does not know yet as `stat<N>` (the ABI grows by adding attributes).
 */
export function decodeRa6monStats(message: NetlinkMessage): Record<string, bigint> {
  if (message.type !== RA6MON.MSG_STATS) throw new MalformedMessageError(`not a stats message: type ${message.type}`)
  const nest = attributeMap(message.payload).get(RA6MON.A_STATS)
  if (nest === undefined) throw new MalformedMessageError('stats message without RA6MON_A_STATS')
  const stats: Record<string, bigint> = {}
  for (const { type, value } of parseAttributes(nest)) {
    if (type === RA6MON.STAT_PAD || type === RA6MON.STAT_UNSPEC) continue
    const reject = type - RA6MON.STAT_REJECT_BASE
    const name = statNames[type] ?? (reject >= 0 && RA6MON_REJECT_NAMES[reject] !== undefined
      ? `reject.${RA6MON_REJECT_NAMES[reject]}` : `stat${type}`)
    if (value.length === 8) stats[name] = readU64(value, 0)
    else if (value.length === 4) stats[name] = BigInt(readU32(value, 0))
    else throw new MalformedMessageError(`stat ${type} is ${value.length} bytes`)
  }
  return stats
}
