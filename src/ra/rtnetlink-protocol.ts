// What the kernel tells any listener about accepted RAs without ra6mon (net/ipv6/ndisc.c):
// RTM_NEWNDUSEROPT, one per "user" option (prefix information, RDNSS, DNSSL, captive portal,
// PREF64), and RTM_NEWLINK (AF_INET6) with the interface's RA flags when they change.
import { INET6_IF_FLAGS, NETLINK, RTNETLINK } from './abi.js'
import {
  MalformedMessageError, attributeMap, encodeMessage, expectLength, readI32, readString, readU16, readU32, writeU32,
  type NetlinkMessage,
} from './netlink.js'
import { formatIpv6 } from './nd-options.js'

/** RTM_GETLINK dump of every interface's IPv6 information (flags included). */
export function encodeGetLinkDump(seq: number): Buffer {
  const ifinfomsg = Buffer.alloc(RTNETLINK.SIZEOF_IFINFOMSG)
  ifinfomsg.writeUInt8(RTNETLINK.AF_INET6, 0)
  writeU32(ifinfomsg, 0, 4)
  return encodeMessage(RTNETLINK.RTM_GETLINK, NETLINK.NLM_F_REQUEST | NETLINK.NLM_F_DUMP, seq, ifinfomsg)
}

export interface Inet6LinkInfo {
  ifindex: number
  ifname?: string
  /** IFLA_INET6_FLAGS; undefined when the message carries no IPv6 information. */
  inet6Flags?: number
}

export function raFlagsOf(inet6Flags: number): { managed: boolean; other: boolean; raReceived: boolean } {
  return {
    managed: (inet6Flags & INET6_IF_FLAGS.IF_RA_MANAGED) !== 0,
    other: (inet6Flags & INET6_IF_FLAGS.IF_RA_OTHERCONF) !== 0,
    raReceived: (inet6Flags & INET6_IF_FLAGS.IF_RA_RCVD) !== 0,
  }
}

/** Decodes RTM_NEWLINK (ifinfomsg + attributes). */
export function decodeLink(message: NetlinkMessage): Inet6LinkInfo {
  if (message.type !== RTNETLINK.RTM_NEWLINK) throw new MalformedMessageError(`not RTM_NEWLINK: type ${message.type}`)
  const p = message.payload
  if (p.length < RTNETLINK.SIZEOF_IFINFOMSG) throw new MalformedMessageError(`ifinfomsg is ${p.length} bytes`)
  const ifindex = readI32(p, 4)
  const attrs = attributeMap(p.subarray(RTNETLINK.SIZEOF_IFINFOMSG))
  const info: Inet6LinkInfo = { ifindex }
  const name = attrs.get(RTNETLINK.IFLA_IFNAME)
  if (name) info.ifname = readString(name)
  const protinfo = attrs.get(RTNETLINK.IFLA_PROTINFO)
  if (p.readUInt8(0) === RTNETLINK.AF_INET6 && protinfo) {
    const flags = expectLength('IFLA_INET6_FLAGS', attributeMap(protinfo).get(RTNETLINK.IFLA_INET6_FLAGS), 4)
    if (flags) info.inet6Flags = readU32(flags, 0)
  }
  return info
}

export interface UserOption {
  ifindex: number
  icmpType: number
  icmpCode: number
  /** The whole ND option as received: type, length, data. */
  option: Buffer
  /** NDUSEROPT_SRCADDR: the RA's source address. */
  router?: string
}

/** Decodes RTM_NEWNDUSEROPT (struct nduseroptmsg, the option, then attributes). */
export function decodeUserOption(message: NetlinkMessage): UserOption {
  if (message.type !== RTNETLINK.RTM_NEWNDUSEROPT) throw new MalformedMessageError(`not RTM_NEWNDUSEROPT: type ${message.type}`)
  const p = message.payload
  if (p.length < RTNETLINK.SIZEOF_NDUSEROPTMSG) throw new MalformedMessageError(`nduseroptmsg is ${p.length} bytes`)
  const optionsLength = readU16(p, 2)
  const end = RTNETLINK.SIZEOF_NDUSEROPTMSG + optionsLength
  if (end > p.length) throw new MalformedMessageError(`nduseropt_opts_len ${optionsLength} runs past the message`)
  const option = Buffer.from(p.subarray(RTNETLINK.SIZEOF_NDUSEROPTMSG, end))
  if (option.length < 8 || option.readUInt8(1) * 8 !== option.length) {
    throw new MalformedMessageError(`user option of ${option.length} bytes does not match its length field`)
  }
  const attrs = attributeMap(p.subarray((end + 3) & ~3))
  const source = expectLength('NDUSEROPT_SRCADDR', attrs.get(RTNETLINK.NDUSEROPT_SRCADDR), 16)
  const result: UserOption = {
    ifindex: readI32(p, 4),
    icmpType: p.readUInt8(8),
    icmpCode: p.readUInt8(9),
    option,
  }
  if (source) result.router = formatIpv6(source)
  return result
}

// ---------------------------------------------------------------------------------------------
// Link state (carrier and administrative state) for the link watch (src/system/link-watch.ts).

/**
 * Link-state constants from linux/rtnetlink.h, linux/if_link.h and linux/if.h; checked against
 * the headers by test/unit/link-watch/decode.test.ts.
 */
export const LINK = {
  AF_UNSPEC: 0,
  RTM_DELLINK: 17,
  RTNLGRP_LINK: 1,
  IFLA_OPERSTATE: 16,
  IFLA_CARRIER: 33,
  IFLA_CARRIER_DOWN_COUNT: 48,
  IFF_UP: 0x1,
  IFF_RUNNING: 0x40,
  IFF_LOWER_UP: 0x10000,
  IFF_DORMANT: 0x20000,
} as const

/** RFC 2863 operational states (IF_OPER_*), by value. */
export const OPERSTATE_NAMES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'] as const

export function operstateName(value: number | undefined): string {
  if (value === undefined) return 'none'
  return OPERSTATE_NAMES[value] ?? `state ${value}`
}

/** The ifi_flags that tell a link's state, as `ip link` names them. */
export function linkFlagNames(flags: number): string[] {
  const names: string[] = []
  if (flags & LINK.IFF_UP) names.push('UP')
  if (flags & LINK.IFF_LOWER_UP) names.push('LOWER_UP')
  if (flags & LINK.IFF_RUNNING) names.push('RUNNING')
  if (flags & LINK.IFF_DORMANT) names.push('DORMANT')
  return names
}

/** RTM_GETLINK dump of every interface's link information (family AF_UNSPEC: flags, operstate, carrier). */
export function encodeGetLinkStateDump(seq: number): Buffer {
  const ifinfomsg = Buffer.alloc(RTNETLINK.SIZEOF_IFINFOMSG)
  ifinfomsg.writeUInt8(LINK.AF_UNSPEC, 0)
  return encodeMessage(RTNETLINK.RTM_GETLINK, NETLINK.NLM_F_REQUEST | NETLINK.NLM_F_DUMP, seq, ifinfomsg)
}

export interface LinkStateInfo {
  ifindex: number
  /** ifi_family: AF_UNSPEC for the link itself; AF_BRIDGE messages describe a bridge port. */
  family: number
  /** RTM_DELLINK: the interface is gone (deleted, or moved to another namespace). */
  deleted: boolean
  ifname?: string
  /** ifi_flags (IFF_*). */
  flags: number
  /** IFLA_OPERSTATE (IF_OPER_*), when present. */
  operstate?: number
  /** IFLA_CARRIER, when present. */
  carrier?: boolean
  /** IFLA_CARRIER_DOWN_COUNT (Linux >= 4.19): how often the carrier went down since the device was created. */
  carrierDownCount?: number
}

/** Decodes RTM_NEWLINK or RTM_DELLINK for its link state. */
export function decodeLinkState(message: NetlinkMessage): LinkStateInfo {
  if (message.type !== RTNETLINK.RTM_NEWLINK && message.type !== LINK.RTM_DELLINK) {
    throw new MalformedMessageError(`not RTM_NEWLINK or RTM_DELLINK: type ${message.type}`)
  }
  const p = message.payload
  if (p.length < RTNETLINK.SIZEOF_IFINFOMSG) throw new MalformedMessageError(`ifinfomsg is ${p.length} bytes`)
  const info: LinkStateInfo = {
    ifindex: readI32(p, 4),
    family: p.readUInt8(0),
    deleted: message.type === LINK.RTM_DELLINK,
    flags: readU32(p, 8),
  }
  const attrs = attributeMap(p.subarray(RTNETLINK.SIZEOF_IFINFOMSG))
  const name = attrs.get(RTNETLINK.IFLA_IFNAME)
  if (name) info.ifname = readString(name)
  const operstate = expectLength('IFLA_OPERSTATE', attrs.get(LINK.IFLA_OPERSTATE), 1)
  if (operstate) info.operstate = operstate.readUInt8(0)
  const carrier = expectLength('IFLA_CARRIER', attrs.get(LINK.IFLA_CARRIER), 1)
  if (carrier) info.carrier = carrier.readUInt8(0) !== 0
  const downCount = expectLength('IFLA_CARRIER_DOWN_COUNT', attrs.get(LINK.IFLA_CARRIER_DOWN_COUNT), 4)
  if (downCount) info.carrierDownCount = readU32(downCount, 0)
  return info
}

/**
 * Whether the link can carry traffic: administratively up (IFF_UP) and operational (IFF_RUNNING,
 * which the kernel sets for RFC 2863 operstate UP or UNKNOWN: carrier present and not dormant;
 * devices without a carrier notion stay UNKNOWN). A deleted link is down.
 */
export function linkIsUp(info: Pick<LinkStateInfo, 'deleted' | 'flags'>): boolean {
  return !info.deleted && (info.flags & LINK.IFF_UP) !== 0 && (info.flags & LINK.IFF_RUNNING) !== 0
}
