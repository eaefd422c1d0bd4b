// The mutation fuzz loop, shared by the CI test (test/unit/dhcpv6/fuzz.test.ts) and `npm run fuzz:long`.
// Each mutated input must either decode (and then re-encode without throwing, to a length
// encodedLength predicts) or throw DhcpDecodeError; anything else is a failure, reported with the
// seed and the input hex so it can be replayed.
import { DhcpDecodeError, decodeMessage, encodeMessage, encodedLength, toHex } from '../../src/dhcpv6/index.js'

import { handBuiltMessages, loadVectors, mutate, prng } from './corpus.js'

export interface FuzzFailure { seed: number; iteration: number; inputHex: string; error: string }
export interface FuzzResult { inputs: number; decoded: number; refused: number; failure?: FuzzFailure }

export function fuzzCorpus(): Uint8Array[] {
  return [...loadVectors().map(v => Uint8Array.from(Buffer.from(v.hex, 'hex'))), ...handBuiltMessages().map(m => encodeMessage(m))]
}

export function runFuzz(seed: number, inputs: number, corpus = fuzzCorpus()): FuzzResult {
  const next = prng(seed)
  let decoded = 0, refused = 0
  for (let n = 0; n < inputs; n++) {
    let input = corpus[next() % corpus.length]!
    // stack 1-3 mutations so damage compounds
    const rounds = 1 + (next() % 3)
    for (let r = 0; r < rounds; r++) input = mutate(input, corpus[next() % corpus.length]!, next)
    try {
      const msg = decodeMessage(input)
      const out = encodeMessage(msg)
      if (out.length !== encodedLength(msg)) throw new Error(`encodedLength ${encodedLength(msg)} != ${out.length}`)
      if (toHex(out) !== toHex(input)) throw new Error(`re-encoding changed the bytes: ${toHex(out)}`)
      decoded++
    } catch (err) {
      if (err instanceof DhcpDecodeError) {
        refused++
        continue
      }
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      return { inputs: n + 1, decoded, refused, failure: { seed, iteration: n, inputHex: toHex(input), error } }
    }
  }
  return { inputs, decoded, refused }
}
