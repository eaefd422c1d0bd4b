// Client messages as RFC 8415 section 18.2 builds them: which options each message type carries
// (Client ID always, Server ID where section 16 requires it, Elapsed Time always, ORO per section
// 21.7 and 18.2.x, Rapid Commit and Reconfigure Accept when enabled) and the IA contents (hints,
// bound leases, declined addresses) with T1/T2 and lifetimes set to 0 (sections 21.4 and 21.6:
// a client sends 0 and servers ignore the values).
import { OptionCode } from '../../dhcpv6/constants.js'
import { parseIpv6 } from '../../dhcpv6/ipv6.js'
import type { ClientServerMessage, ClientServerMessageType, Duid, Option } from '../../dhcpv6/model.js'

/** One IA as the client puts it in a message: its IAID and the leases (or hints) to name. */
export interface IaInMessage {
  kind: 'ia-na' | 'ia-pd'
  iaid: number
  /** Addresses (IA_NA) or prefixes with their lengths (IA_PD). */
  entries: { value: string; prefixLength?: number }[]
  /** IA_PD only, when no prefix is named: a prefix-length hint as IA Prefix ::/len. */
  prefixLengthHint?: number
}

export interface MessageSettings {
  clientDuid: Duid
  /** Ask for DNS servers (23) and the domain search list (24). */
  dns: boolean
  /** Ask for NTP servers (56). */
  ntp: boolean
  rapidCommit: boolean
  reconfigureAccept: boolean
}

export interface MessageContent {
  serverDuid?: Duid
  ias: IaInMessage[]
  /** Option codes to ask for on top of our own (a Reconfigure's ORO, RFC 8415 section 21.7). */
  requestedOptions?: number[]
}

/** The client messages this machine sends. */
export type OutgoingType = Extract<ClientServerMessageType, 'solicit' | 'request' | 'confirm' | 'renew' | 'rebind' | 'release' | 'decline' | 'information-request'>

const withServerId: ReadonlySet<OutgoingType> = new Set<OutgoingType>(['request', 'renew', 'release', 'decline'])
const withOro: ReadonlySet<OutgoingType> = new Set<OutgoingType>(['solicit', 'request', 'confirm', 'renew', 'rebind', 'information-request'])
const withReconfigureAccept: ReadonlySet<OutgoingType> = new Set<OutgoingType>(['solicit', 'request', 'renew', 'rebind', 'information-request'])

/** Option codes for the ORO of a message type; `extra` (a Reconfigure's ORO) is added to ours. */
export function requestedOptions(type: OutgoingType, settings: Pick<MessageSettings, 'dns' | 'ntp'>, extra: readonly number[] = []): number[] {
  if (!withOro.has(type)) return []
  const codes: number[] = []
  if (settings.dns) codes.push(OptionCode['dns-servers'], OptionCode['domain-list'])
  if (settings.ntp) codes.push(OptionCode['ntp-server'])
  if (type === 'information-request') {
    // RFC 8415 sections 18.2.6, 21.23 and 21.25: a stateless client asks for both.
    codes.push(OptionCode['information-refresh-time'], OptionCode['inf-max-rt'])
  } else {
    // RFC 8415 section 18.2.1 (and 18.2.2-18.2.5, 18.2.3 by 21.7): SOL_MAX_RT in stateful messages.
    codes.push(OptionCode['sol-max-rt'])
  }
  for (const code of extra) if (!codes.includes(code)) codes.push(code)
  return codes
}

const UNSPECIFIED = new Uint8Array(16)

function address(text: string): Uint8Array {
  const bytes = parseIpv6(text)
  if (!bytes) throw new Error(`internal: '${text}' is not an IPv6 address`)
  return bytes
}

function iaOption(ia: IaInMessage, type: OutgoingType): Option {
  if (ia.kind === 'ia-na') {
    return {
      kind: 'ia-na', iaid: ia.iaid, t1: 0, t2: 0,
      options: ia.entries.map(e => ({ kind: 'ia-address', address: address(e.value), preferredLifetime: 0, validLifetime: 0, options: [] })),
    }
  }
  const prefixes: Option[] = ia.entries.map(e => ({
    kind: 'ia-prefix', preferredLifetime: 0, validLifetime: 0, prefixLength: e.prefixLength ?? 64, prefix: address(e.value), options: [],
  }))
  // A length hint goes only where the client is asking for something new (RFC 8415 section 18.2.1).
  if (prefixes.length === 0 && ia.prefixLengthHint !== undefined && (type === 'solicit' || type === 'request')) {
    prefixes.push({ kind: 'ia-prefix', preferredLifetime: 0, validLifetime: 0, prefixLength: ia.prefixLengthHint, prefix: UNSPECIFIED, options: [] })
  }
  return { kind: 'ia-pd', iaid: ia.iaid, t1: 0, t2: 0, options: prefixes }
}

export function buildMessage(type: OutgoingType, transactionId: number, elapsedCentiseconds: number, settings: MessageSettings, content: MessageContent): ClientServerMessage {
  const options: Option[] = [{ kind: 'client-id', duid: settings.clientDuid }]
  if (withServerId.has(type)) {
    if (!content.serverDuid) throw new Error(`internal: ${type} needs the server's DUID`)
    options.push({ kind: 'server-id', duid: content.serverDuid })
  } else if (type === 'information-request' && content.serverDuid) {
    // Only when it answers a Reconfigure (RFC 8415 section 18.2.6).
    options.push({ kind: 'server-id', duid: content.serverDuid })
  }
  const oro = requestedOptions(type, settings, content.requestedOptions)
  if (oro.length > 0) options.push({ kind: 'oro', codes: oro })
  options.push({ kind: 'elapsed-time', hundredths: elapsedCentiseconds })
  if (type === 'solicit' && settings.rapidCommit) options.push({ kind: 'rapid-commit' })
  if (withReconfigureAccept.has(type) && settings.reconfigureAccept) options.push({ kind: 'reconfigure-accept' })
  if (type !== 'information-request') {
    // Confirm carries addresses only (RFC 8415 section 18.2.3); IA_PD is not allowed in it.
    for (const ia of content.ias) if (!(type === 'confirm' && ia.kind !== 'ia-na')) options.push(iaOption(ia, type))
  }
  return { type, transactionId, options }
}
