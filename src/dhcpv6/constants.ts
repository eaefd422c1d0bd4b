// DHCPv6 numbers (RFC 8415 and the RFCs of the options we decode), each defined once. The keys are
// the names the typed model uses (message `type`, option `kind`, DUID `type`).

export const MessageType = {
  solicit: 1,
  advertise: 2,
  request: 3,
  confirm: 4,
  renew: 5,
  rebind: 6,
  reply: 7,
  release: 8,
  decline: 9,
  reconfigure: 10,
  'information-request': 11,
  'relay-forw': 12,
  'relay-repl': 13,
} as const
export type MessageTypeName = keyof typeof MessageType

export const OptionCode = {
  'client-id': 1,
  'server-id': 2,
  'ia-na': 3,
  'ia-ta': 4,
  'ia-address': 5,
  oro: 6,
  preference: 7,
  'elapsed-time': 8,
  'relay-message': 9,
  authentication: 11,
  'server-unicast': 12,
  'status-code': 13,
  'rapid-commit': 14,
  'user-class': 15,
  'vendor-class': 16,
  'vendor-opts': 17,
  'interface-id': 18,
  'reconfigure-message': 19,
  'reconfigure-accept': 20,
  'dns-servers': 23,
  'domain-list': 24,
  'ia-pd': 25,
  'ia-prefix': 26,
  'sntp-servers': 31,
  'information-refresh-time': 32,
  fqdn: 39,
  'ntp-server': 56,
  'sol-max-rt': 82,
  'inf-max-rt': 83,
} as const
export type KnownOptionKind = keyof typeof OptionCode

export const StatusCode = {
  Success: 0,
  UnspecFail: 1,
  NoAddrsAvail: 2,
  NoBinding: 3,
  NotOnLink: 4,
  UseMulticast: 5,
  NoPrefixAvail: 6,
} as const

export const DuidType = { llt: 1, en: 2, ll: 3, uuid: 4 } as const

/** NTP Server option (RFC 5908) suboption codes. */
export const NtpSuboption = { 'server-address': 1, 'multicast-address': 2, fqdn: 3 } as const

/** Authentication option (RFC 8415 section 20). */
export const AuthProtocol = { reconfigureKey: 3 } as const
export const AuthAlgorithm = { hmacMd5: 1 } as const
export const ReplayDetectionMethod = { monotonicCounter: 0 } as const
/** Reconfigure Key Authentication Protocol (RFC 8415 section 20.4) auth-info types. */
export const RkapType = { reconfigureKey: 1, hmacMd5Digest: 2 } as const

/** FQDN option flags (RFC 4704). */
export const FqdnFlag = { S: 0x01, O: 0x02, N: 0x04 } as const

/** RFC 8415 section 7.6 and 21 limits the semantic checks use. */
export const Limits = {
  hopCountLimit: 8,
  duidMaxLength: 130, // 2-octet type + at most 128 octets
  solMaxRtMin: 60,
  solMaxRtMax: 86400,
  infMaxRtMin: 60,
  infMaxRtMax: 86400,
  irtMinimum: 600,
} as const

function reverse<T extends Record<string, number>>(table: T): Map<number, keyof T & string> {
  return new Map(Object.entries(table).map(([name, code]) => [code, name as keyof T & string]))
}

export const messageTypeByCode = reverse(MessageType)
export const optionKindByCode = reverse(OptionCode)
export const statusNameByCode = reverse(StatusCode)
