// `npm run fuzz:long [-- INPUTS [SEED]]`: a long mutation fuzz run of the codec (default 5,000,000
// inputs, a random seed printed first so a failure can be replayed with the same seed).
import { runFuzz } from './run.js'

const inputs = Number(process.argv[2] ?? 5_000_000)
const seed = Number(process.argv[3] ?? Math.floor(Math.random() * 0xffffffff))
if (!Number.isInteger(inputs) || inputs <= 0 || !Number.isInteger(seed)) {
  process.stderr.write('usage: npm run fuzz:long -- [INPUTS] [SEED]   (positive integers)\n')
  process.exit(2)
}
process.stdout.write(`fuzz: ${inputs} inputs, seed ${seed}\n`)
const started = Date.now()
const chunk = 500_000
let done = 0, decoded = 0, refused = 0
for (let part = 0; done < inputs; part++) {
  const n = Math.min(chunk, inputs - done)
  const r = runFuzz((seed + part) >>> 0, n)
  decoded += r.decoded
  refused += r.refused
  if (r.failure) {
    process.stdout.write(`FAIL at seed ${r.failure.seed} iteration ${r.failure.iteration}: ${r.failure.error}\ninput: ${r.failure.inputHex}\n`)
    process.exit(1)
  }
  done += n
  process.stdout.write(`  ${done} inputs, ${decoded} decoded, ${refused} refused (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
}
process.stdout.write(`fuzz: ok, ${done} inputs (${decoded} decoded, ${refused} refused with DhcpDecodeError)\n`)
