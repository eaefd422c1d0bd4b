// Shared by the codec tests, the fuzz runs and the benchmark: the captured vectors, hand-built
// messages that use every option type the codec knows, and a seeded mutation engine.
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseIpv6, type Message } from '../../src/dhcpv6/index.js'
import type { VectorEntry } from '../vectors/capture.js'

/** One entry of test/vectors/packets.json, as the capture tool writes it. */
export type Vector = VectorEntry

// test/vectors/ of the repository, whether this runs from test/fuzz/ (tap) or dist/test/fuzz/ (compiled)
export const vectorsDir = new URL('test/vectors/', pathToFileURL(`${new URL('.', import.meta.url).pathname.replace(/(\/dist)?\/test\/fuzz\/$/, '')}/`))

export function loadVectors(): Vector[] {
  return JSON.parse(readFileSync(new URL('packets.json', vectorsDir), 'utf8')) as Vector[]
}

const ip = (text: string): Uint8Array => {
  const a = parseIpv6(text)
  if (!a) throw new Error(`bad test address ${text}`)
  return a
}
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))

/** A Reply carrying every option type a client-facing message can carry, nested where the RFC nests them. */
export function richReply(): Message {
  return {
    type: 'reply',
    transactionId: 0x1a2b3c,
    options: [
      { kind: 'client-id', duid: { type: 'llt', hardwareType: 1, time: 700000000, linkLayerAddress: bytes('020000000001') } },
      { kind: 'server-id', duid: { type: 'en', enterpriseNumber: 2495, identifier: bytes('0102030405060708') } },
      {
        kind: 'ia-na', iaid: 1, t1: 1000, t2: 2000, options: [
          { kind: 'ia-address', address: ip('2001:db8:1::100'), preferredLifetime: 3000, validLifetime: 4000, options: [
            { kind: 'status-code', status: 0, message: 'assigned' },
          ] },
          { kind: 'status-code', status: 0, message: 'all addresses assigned' },
        ],
      },
      { kind: 'ia-ta', iaid: 2, options: [
        { kind: 'ia-address', address: ip('2001:db8:1::200'), preferredLifetime: 300, validLifetime: 600, options: [] },
      ] },
      { kind: 'ia-pd', iaid: 3, t1: 1000, t2: 2000, options: [
        { kind: 'ia-prefix', preferredLifetime: 3000, validLifetime: 4000, prefixLength: 56, prefix: ip('2001:db8:8000::'), options: [
          { kind: 'status-code', status: 0, message: 'delegated' },
        ] },
      ] },
      { kind: 'authentication', protocol: 3, algorithm: 1, rdm: 0, replayDetection: 0x0102030405060708n,
        info: { format: 'rkap', type: 1, value: bytes('00112233445566778899aabbccddeeff') } },
      { kind: 'server-unicast', address: ip('2001:db8:1::1') },
      { kind: 'status-code', status: 0, message: 'Success: héllo' },
      { kind: 'rapid-commit' },
      { kind: 'user-class', classes: [bytes('6c6162'), bytes('')] },
      { kind: 'vendor-class', enterpriseNumber: 40712, data: [bytes('6468637063642d39')] },
      { kind: 'vendor-opts', enterpriseNumber: 4491, suboptions: [{ code: 1, data: bytes('0102') }, { code: 2, data: bytes('') }] },
      { kind: 'reconfigure-accept' },
      { kind: 'dns-servers', servers: [ip('2001:db8:1::53'), ip('2001:db8:2::53')] },
      { kind: 'domain-list', domains: ['lab.example.', 'Example.ORG.'] },
      { kind: 'sntp-servers', servers: [ip('2001:db8:1::123')] },
      { kind: 'information-refresh-time', seconds: 86400 },
      { kind: 'fqdn', flags: 0x01, name: 'host.lab.example.' },
      { kind: 'ntp-server', suboptions: [
        { type: 'server-address', address: ip('2001:db8:1::123') },
        { type: 'multicast-address', address: ip('ff05::101') },
        { type: 'fqdn', name: 'ntp.lab.example.' },
      ] },
      { kind: 'sol-max-rt', seconds: 3600 },
      { kind: 'inf-max-rt', seconds: 3600 },
      { kind: 'unknown', code: 65000, data: bytes('deadbeef') },
    ],
  }
}

/** A Solicit as a relay agent forwards it, with an Interface-Id and client-side options. */
export function relayedSolicit(): Message {
  return {
    type: 'relay-forw',
    hopCount: 0,
    linkAddress: ip('2001:db8:1::1'),
    peerAddress: ip('fe80::1'),
    options: [
      { kind: 'interface-id', data: bytes('657468302e3130') },
      { kind: 'relay-message', message: {
        type: 'solicit',
        transactionId: 0xabcdef,
        options: [
          { kind: 'client-id', duid: { type: 'uuid', uuid: bytes('00112233445566778899aabbccddeeff') } },
          { kind: 'oro', codes: [23, 24, 82] },
          { kind: 'elapsed-time', hundredths: 0 },
          { kind: 'rapid-commit' },
          { kind: 'fqdn', flags: 0x00, name: 'host' },
          { kind: 'ia-na', iaid: 1, t1: 0, t2: 0, options: [] },
          { kind: 'ia-pd', iaid: 2, t1: 0, t2: 0, options: [] },
        ],
      } },
    ],
  }
}

/** A Reconfigure from a server, authenticated with RKAP. */
export function reconfigure(): Message {
  return {
    type: 'reconfigure',
    transactionId: 0,
    options: [
      { kind: 'client-id', duid: { type: 'll', hardwareType: 1, linkLayerAddress: bytes('020000000001') } },
      { kind: 'server-id', duid: { type: 'raw', typeCode: 9, data: bytes('cafe') } },
      { kind: 'reconfigure-message', msgType: 5 },
      { kind: 'authentication', protocol: 3, algorithm: 1, rdm: 0, replayDetection: 7n,
        info: { format: 'rkap', type: 2, value: bytes('ffeeddccbbaa99887766554433221100') } },
    ],
  }
}

export function handBuiltMessages(): Message[] {
  return [richReply(), relayedSolicit(), reconfigure()]
}

/** xorshift32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13; s >>>= 0
    s ^= s >>> 17
    s ^= s << 5; s >>>= 0
    return s
  }
}

/**
 * One mutation of `input` (bit flips, byte changes, truncation, extension, option-length edits,
 * splices with `other`), chosen by `next`.
 */
export function mutate(input: Uint8Array, other: Uint8Array, next: () => number): Uint8Array {
  const out = Uint8Array.from(input)
  const pick = (n: number) => (n <= 0 ? 0 : next() % n)
  switch (next() % 7) {
    case 0: { // flip 1-4 bits
      const flips = 1 + pick(4)
      for (let i = 0; i < flips && out.length > 0; i++) out[pick(out.length)]! ^= 1 << pick(8)
      return out
    }
    case 1: { // set 1-3 bytes to interesting values
      const values = [0, 1, 0x7f, 0x80, 0xff, 0x3f, 0x40, 0xc0]
      for (let i = 0; i < 1 + pick(3) && out.length > 0; i++) out[pick(out.length)] = values[pick(values.length)]!
      return out
    }
    case 2: return out.subarray(0, pick(out.length + 1)) // truncate
    case 3: { // extend with random bytes
      const extra = new Uint8Array(1 + pick(40))
      for (let i = 0; i < extra.length; i++) extra[i] = next() & 0xff
      const grown = new Uint8Array(out.length + extra.length)
      grown.set(out); grown.set(extra, out.length)
      return grown
    }
    case 4: { // edit a 16-bit length-looking field at an even offset after the header
      if (out.length < 8) return out
      const at = 4 + 2 * pick((out.length - 6) / 2)
      const deltas = [-1, 1, -4, 4, 100, -100]
      const v = ((out[at]! << 8) | out[at + 1]!) + deltas[pick(deltas.length)]!
      out[at] = (v >> 8) & 0xff
      out[at + 1] = v & 0xff
      return out
    }
    case 5: { // splice: head of this input, tail of another
      const cut = pick(out.length + 1), from = pick(other.length + 1)
      const spliced = new Uint8Array(cut + other.length - from)
      spliced.set(out.subarray(0, cut)); spliced.set(other.subarray(from), cut)
      return spliced
    }
    default: { // duplicate a random slice in place
      if (out.length < 2) return out
      const a = pick(out.length), b = a + 1 + pick(Math.min(30, out.length - a))
      const slice = out.subarray(a, b)
      const grown = new Uint8Array(out.length + slice.length)
      grown.set(out.subarray(0, b)); grown.set(slice, b); grown.set(out.subarray(b), b + slice.length)
      return grown
    }
  }
}
