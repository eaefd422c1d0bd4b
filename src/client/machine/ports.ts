// The machine's ports: what it needs from the outside (a transport and system effects) and what
// it reports (one structured event per message, state changes, effect failures). The daemon
// plugs in UDP 546, iproute2, the resolv.conf fragment, the LeaseStore and the hook runner; unit
// tests plug in recorders.
import type { StoredLease } from '../../state/lease-store.js'
import type { ClientState } from '../api.js'

/** All_DHCP_Relay_Agents_and_Servers (RFC 8415 section 7.1). */
export const ALL_DHCP_RELAY_AGENTS_AND_SERVERS = 'ff02::1:2'

/** Where a client message goes: the multicast group, or the server's Server Unicast address. */
export type Destination = { kind: 'multicast' } | { kind: 'unicast'; address: string }

export interface ClientTransport {
  /**
   * Sends one encoded DHCPv6 message from port 546 on this interface to port 547. A rejected
   * promise or a throw is counted (`send-errors`) and the exchange carries on (its retransmission
   * timer still runs).
   */
  send(payload: Uint8Array, destination: Destination): void | Promise<void>
}

/** What the transport knows about a received datagram (it only passes ones from this interface). */
export interface ReceivedFrom {
  /** Source address of the datagram (the server's or relay's link-local, usually). */
  source: string
  /** True when the datagram was sent to a multicast group (a Reconfigure must be unicast). */
  toMulticast?: boolean
}

/** One address to put on the interface: /128, lifetimes in seconds left (0xFFFFFFFF = forever). */
export interface AddressToApply {
  address: string
  preferredLifetime: number
  validLifetime: number
}

export interface DnsConfiguration {
  servers: string[]
  search: string[]
  ntp: string[]
}

export type MachineHookReason =
  | 'BOUND6' | 'RENEW6' | 'REBIND6' | 'EXPIRE6' | 'RELEASE6' | 'INFORM6' | 'DELEGATED6' | 'DECLINE6' | 'STOP6'

export interface HookNotice {
  reason: MachineHookReason
  /** The lease as it is now (lifetimes counted from `obtainedAt`), when there is one. */
  lease?: StoredLease
  /** The lease before this change, for RENEW6/REBIND6 (dhclient's old_*). */
  old?: StoredLease
  /** EXPIRE6/DECLINE6/RELEASE6: the addresses concerned. */
  addresses?: string[]
  /** DELEGATED6: the prefixes received ("prefix/len"). */
  prefixes?: string[]
}

/**
 * System effects. Each call may be async; the machine runs them one after another in the order it
 * issued them (an address is never removed before it was applied) without waiting in its own
 * transitions, and counts failures (`effect-errors`).
 */
export interface ClientEffects {
  /** Adds or refreshes an IA_NA address as /128 with its lifetimes (`ip -6 addr replace`). */
  applyAddress(address: AddressToApply): void | Promise<void>
  removeAddress(address: string): void | Promise<void>
  applyDns(dns: DnsConfiguration): void | Promise<void>
  clearDns(): void | Promise<void>
  /** Persists the lease atomically (LeaseStore.save). */
  saveLease(lease: StoredLease): void | Promise<void>
  /** Forgets the lease (after Release or expiry of everything). */
  removeLease(): void | Promise<void>
  hook(notice: HookNotice): void | Promise<void>
}

/** IA summary for a message log line: e.g. "IA_NA 1 [2001:db8::1]" or "IA_PD 2 [2001:db8:1::/56]". */
export interface IaSummary {
  kind: 'ia-na' | 'ia-pd'
  iaid: number
  values: string[]
  status?: string
}

export type ClientEvent =
  | {
    kind: 'sent'
    interface: string
    type: string
    xid: number
    ias: IaSummary[]
    elapsedCentiseconds: number
    retransmission: boolean
    attempt: number
    destination: string
    bytes: number
  }
  | {
    kind: 'received'
    interface: string
    type: string
    xid?: number
    ias: IaSummary[]
    source: string
    /** The message was used; when false, `reason` names the counter it went to. */
    accepted: boolean
    reason?: string
    status?: string
  }
  | { kind: 'state'; interface: string; from: ClientState; to: ClientState; why: string }
  | { kind: 'note'; interface: string; message: string }
  | { kind: 'effect-error'; interface: string; effect: string; error: string }
