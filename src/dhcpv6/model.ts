// The typed DHCPv6 model: discriminated unions a client can switch on without casts.
// Byte fields decoded from a packet are plain Uint8Array views into the input buffer (no copies,
// for speed; not Buffers, even when the input is one): copy them (`Uint8Array.from`) if you keep
// them after reusing that buffer. IPv6 addresses are 16-byte
// Uint8Arrays; src/dhcpv6/ipv6.ts formats and parses them.
import type { MessageTypeName } from './constants.js'

export type Bytes = Uint8Array

// ---- DUIDs (RFC 8415 section 11) ----
export interface DuidLlt { type: 'llt'; hardwareType: number; time: number; linkLayerAddress: Bytes }
export interface DuidEn { type: 'en'; enterpriseNumber: number; identifier: Bytes }
export interface DuidLl { type: 'll'; hardwareType: number; linkLayerAddress: Bytes }
export interface DuidUuid { type: 'uuid'; uuid: Bytes }
/** A DUID type we do not know, or a known type whose length does not fit it: kept as bytes. */
export interface DuidRaw { type: 'raw'; typeCode: number; data: Bytes }
export type Duid = DuidLlt | DuidEn | DuidLl | DuidUuid | DuidRaw

// ---- Domain names ----
/**
 * A domain name in RFC 1035 presentation form, exactly as on the wire (case kept): labels joined by
 * '.', a trailing '.' when the wire name ends with the zero-length root label (fully qualified),
 * none for a partial name (FQDN option). '.', '\' and bytes outside 0x21-0x7e are escaped as
 * '\.', '\\' and '\DDD'.
 */
export type DomainName = string

// ---- Options ----
export interface ClientIdOption { kind: 'client-id'; duid: Duid }
export interface ServerIdOption { kind: 'server-id'; duid: Duid }
export interface IaNaOption { kind: 'ia-na'; iaid: number; t1: number; t2: number; options: Option[] }
export interface IaTaOption { kind: 'ia-ta'; iaid: number; options: Option[] }
export interface IaAddressOption {
  kind: 'ia-address'
  address: Bytes
  preferredLifetime: number
  validLifetime: number
  options: Option[]
}
export interface OroOption { kind: 'oro'; codes: number[] }
export interface PreferenceOption { kind: 'preference'; value: number }
/** Elapsed time in hundredths of a second; 0xffff means "more than 655.34 s". */
export interface ElapsedTimeOption { kind: 'elapsed-time'; hundredths: number }
export interface RelayMessageOption { kind: 'relay-message'; message: Message }
/** Authentication info of the Reconfigure Key Authentication Protocol (protocol 3). */
export interface RkapInfo { format: 'rkap'; type: number; value: Bytes }
export interface RawAuthInfo { format: 'raw'; data: Bytes }
export interface AuthenticationOption {
  kind: 'authentication'
  protocol: number
  algorithm: number
  rdm: number
  replayDetection: bigint
  info: RkapInfo | RawAuthInfo
}
export interface ServerUnicastOption { kind: 'server-unicast'; address: Bytes }
export interface StatusCodeOption {
  kind: 'status-code'
  status: number
  message: string
  /** Present only when the status message on the wire is not valid UTF-8: the exact bytes. */
  messageBytes?: Bytes
}
export interface RapidCommitOption { kind: 'rapid-commit' }
export interface UserClassOption { kind: 'user-class'; classes: Bytes[] }
export interface VendorClassOption { kind: 'vendor-class'; enterpriseNumber: number; data: Bytes[] }
export interface VendorSuboption { code: number; data: Bytes }
export interface VendorOptsOption { kind: 'vendor-opts'; enterpriseNumber: number; suboptions: VendorSuboption[] }
export interface InterfaceIdOption { kind: 'interface-id'; data: Bytes }
export interface ReconfigureMessageOption { kind: 'reconfigure-message'; msgType: number }
export interface ReconfigureAcceptOption { kind: 'reconfigure-accept' }
export interface DnsServersOption { kind: 'dns-servers'; servers: Bytes[] }
export interface DomainListOption { kind: 'domain-list'; domains: DomainName[] }
export interface IaPdOption { kind: 'ia-pd'; iaid: number; t1: number; t2: number; options: Option[] }
export interface IaPrefixOption {
  kind: 'ia-prefix'
  preferredLifetime: number
  validLifetime: number
  prefixLength: number
  prefix: Bytes
  options: Option[]
}
export interface SntpServersOption { kind: 'sntp-servers'; servers: Bytes[] }
export interface InformationRefreshTimeOption { kind: 'information-refresh-time'; seconds: number }
/** Client FQDN (RFC 4704): flags (S, O, N bits) and a partial or fully qualified name. */
export interface FqdnOption { kind: 'fqdn'; flags: number; name: DomainName }
export type NtpServerSuboption =
  | { type: 'server-address'; address: Bytes }
  | { type: 'multicast-address'; address: Bytes }
  | { type: 'fqdn'; name: DomainName }
  | { type: 'unknown'; code: number; data: Bytes }
export interface NtpServerOption { kind: 'ntp-server'; suboptions: NtpServerSuboption[] }
export interface SolMaxRtOption { kind: 'sol-max-rt'; seconds: number }
export interface InfMaxRtOption { kind: 'inf-max-rt'; seconds: number }
/** Any option code we do not decode: kept as bytes. */
export interface UnknownOption { kind: 'unknown'; code: number; data: Bytes }

export type Option =
  | ClientIdOption | ServerIdOption | IaNaOption | IaTaOption | IaAddressOption | OroOption
  | PreferenceOption | ElapsedTimeOption | RelayMessageOption | AuthenticationOption
  | ServerUnicastOption | StatusCodeOption | RapidCommitOption | UserClassOption
  | VendorClassOption | VendorOptsOption | InterfaceIdOption | ReconfigureMessageOption
  | ReconfigureAcceptOption | DnsServersOption | DomainListOption | IaPdOption | IaPrefixOption
  | SntpServersOption | InformationRefreshTimeOption | FqdnOption | NtpServerOption
  | SolMaxRtOption | InfMaxRtOption | UnknownOption

export type OptionKind = Option['kind']
export type OptionOf<K extends OptionKind> = Extract<Option, { kind: K }>
export type IaOption = IaNaOption | IaTaOption | IaPdOption

// ---- Messages (RFC 8415 sections 8 and 9) ----
export type ClientServerMessageType = Exclude<MessageTypeName, 'relay-forw' | 'relay-repl'>
export interface ClientServerMessage {
  type: ClientServerMessageType
  /** 24-bit transaction id. */
  transactionId: number
  options: Option[]
}
export interface RelayAgentMessage {
  type: 'relay-forw' | 'relay-repl'
  hopCount: number
  linkAddress: Bytes
  peerAddress: Bytes
  options: Option[]
}
/** A message type we do not decode (0, or above 13): kept as bytes after the type octet. */
export interface UnknownMessage { type: 'unknown'; msgType: number; body: Bytes }
export type Message = ClientServerMessage | RelayAgentMessage | UnknownMessage
