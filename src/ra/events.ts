// The one event type every RA source produces: an ICMPv6 Router Advertisement the kernel accepted.

export type RouterPreference = 'high' | 'medium' | 'low' | 'reserved'
export type RaSourceName = 'ra6mon' | 'rtnetlink'

export interface RaFlags {
  /** M: addresses are available via DHCPv6. */
  managed: boolean
  /** O: other configuration is available via DHCPv6. */
  other: boolean
  /** H (RFC 6275). Undefined when the source cannot know it (rtnetlink). */
  homeAgent?: boolean
  /** Prf (RFC 4191). Undefined when the source cannot know it (rtnetlink). */
  preference?: RouterPreference
  /** P (RFC 4389). Undefined when the source cannot know it (rtnetlink). */
  proxy?: boolean
}

/** Lifetimes are in seconds as on the wire; 0xffffffff means infinity. */
export const INFINITE_LIFETIME = 0xffffffff

export interface SourceLinkLayerAddressOption {
  kind: 'sourceLinkLayerAddress'
  /** "aa:bb:cc:dd:ee:ff" for Ethernet; the bytes in hex pairs whatever the link type. */
  address: string
}
export interface PrefixInformationOption {
  kind: 'prefixInformation'
  prefix: string
  prefixLength: number
  onLink: boolean
  autonomous: boolean
  /** R (RFC 6275): the prefix field holds the router's full address. */
  routerAddress: boolean
  validLifetime: number
  preferredLifetime: number
}
export interface MtuOption {
  kind: 'mtu'
  mtu: number
}
export interface RouteInformationOption {
  kind: 'routeInformation'
  prefix: string
  prefixLength: number
  preference: RouterPreference
  routeLifetime: number
}
export interface RdnssOption {
  kind: 'rdnss'
  lifetime: number
  servers: string[]
}
export interface DnsslOption {
  kind: 'dnssl'
  lifetime: number
  domains: string[]
}
/** Any other option, kept as received (type and the bytes after the 2-byte header). */
export interface RawOption {
  kind: 'raw'
  type: number
  data: Buffer
}
/** An option of a known type whose contents break its RFC; kept, never silently dropped. */
export interface InvalidOption {
  kind: 'invalid'
  type: number
  reason: string
  data: Buffer
}

export type NdOption =
  | SourceLinkLayerAddressOption
  | PrefixInformationOption
  | MtuOption
  | RouteInformationOption
  | RdnssOption
  | DnsslOption
  | RawOption
  | InvalidOption

export interface RaEvent {
  source: RaSourceName
  ifindex: number
  ifname: string
  /** The RA's source (link-local) address. Undefined for an rtnetlink flags-only change. */
  router?: string
  /** The RA's destination address (ra6mon only). */
  destination?: string
  flags: RaFlags
  /** Seconds; 0 = not a default router. Undefined from rtnetlink. */
  routerLifetime?: number
  /** Milliseconds; 0 = unspecified. Undefined from rtnetlink. */
  reachableTime?: number
  /** Milliseconds; 0 = unspecified. Undefined from rtnetlink. */
  retransTimer?: number
  /** 0 = unspecified. Undefined from rtnetlink. */
  curHopLimit?: number
  /**
   * Decoded ND options in wire order. From ra6mon: all of them. From rtnetlink: only those the
   * kernel forwards to userspace (prefix information, RDNSS, DNSSL, captive portal, PREF64).
   */
  options: NdOption[]
  /** Kernel receive time in ns of `clock` (ra6mon: CLOCK_MONOTONIC); undefined from rtnetlink. */
  kernelTimeNs?: bigint
  /** clockid_t of kernelTimeNs (1 = CLOCK_MONOTONIC). */
  clock?: number
  /** ra6mon's per-namespace sequence number of accepted RAs. */
  seq?: bigint
  /** True for the state the kernel remembered before this monitor started (or re-registered). */
  replayed: boolean
}

export function preferenceFromBits(bits: number): RouterPreference {
  // RFC 4191 section 2.1: 01 high, 00 medium, 11 low, 10 reserved.
  return (['medium', 'high', 'reserved', 'low'] as const)[bits & 3]!
}
