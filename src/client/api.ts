// The contract between one interface's DHCPv6 client (src/client/machine/) and the daemon that
// drives it (src/daemon/: RA events, the control socket's Ready Logo verbs, signals, status).

/** How a client obtains configuration: stateful IAs, or stateless Information-request. */
export type ClientMode = 'stateful' | 'stateless'

/** What `start` asks for: the Ready Logo verb `start [iana iaid=N | inforeq | prefix …] [dns]`. */
export interface StartSpec {
  mode: ClientMode
  /** IA_NAs to request (IAIDs); empty with mode 'stateful' and no prefixes is an error. */
  iaNa: number[]
  /** IA_PDs to request: IAID and an optional prefix-length hint. */
  iaPd: { iaid: number; prefixLength?: number }[]
  /** Ask for DNS servers and the domain search list in ORO. */
  dns: boolean
}

/** What a RaMonitor event means to a client: only the flags matter for starting. */
export interface RaTrigger {
  managed: boolean
  other: boolean
  replayed: boolean
  /** Kernel receive time (ns, CLOCK_MONOTONIC) when the source knows it. */
  receivedAtNs?: bigint
}

export type ClientState =
  | 'idle'
  | 'soliciting'
  | 'requesting'
  | 'bound'
  | 'renewing'
  | 'rebinding'
  | 'confirming'
  | 'releasing'
  | 'declining'
  | 'information-requesting'
  | 'informed'
  | 'stopped'

export interface LeaseStatus {
  kind: 'ia-na' | 'ia-pd'
  iaid: number
  t1: number
  t2: number
  /** Address or prefix (with /len for prefixes), lifetimes and the seconds left of each. */
  entries: { value: string; preferredLifetime: number; validLifetime: number; preferredLeft: number; validLeft: number }[]
}

export interface ClientStatus {
  interface: string
  state: ClientState
  profile: string
  serverDuid?: string
  leases: LeaseStatus[]
  dnsServers: string[]
  domainSearch: string[]
  /** Named counters: messages sent/received per type, drops per reason, retransmissions... */
  counters: Record<string, number>
}

/** The verbs the daemon (and `ra6dhcp ctl`) can apply to one interface's client. */
export interface ClientControl {
  readonly interfaceName: string
  /** An accepted RA (live or replayed) for this interface. */
  onRa(ra: RaTrigger): void
  start(spec: StartSpec): void
  /** Stops without Release (the lease stays valid on disk for a later Confirm). */
  stop(): Promise<void>
  restart(): Promise<void>
  /** Sends Release for every lease (retransmitted per RFC) and removes the addresses. */
  release(): Promise<void>
  /** Link went down / came up (Confirm follows ifup when a lease is still valid). */
  ifdown(): void
  ifup(): void
  /** Duplicate Address Detection failed for a leased address (Decline follows, RFC 8415 18.2.8); optional so existing implementations keep compiling. */
  onDadFailed?(address: string): void
  status(): ClientStatus
}
