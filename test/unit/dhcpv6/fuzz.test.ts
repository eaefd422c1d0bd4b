import t from 'tap'
import { runFuzz } from '../../fuzz/run.js'

// a fixed seed keeps CI reproducible; FUZZ_SEED picks another (npm run fuzz:long for long runs)
const seed = Number(process.env.FUZZ_SEED ?? 0x6d2a6d)
const inputs = 120_000

t.test(`${inputs} mutated inputs either decode (and re-encode) or throw DhcpDecodeError (seed ${seed})`, async t => {
  const result = runFuzz(seed, inputs)
  if (result.failure) {
    t.fail(`seed ${result.failure.seed} iteration ${result.failure.iteration}: ${result.failure.error}\ninput hex: ${result.failure.inputHex}`)
    return
  }
  t.equal(result.inputs, inputs)
  t.ok(result.decoded > inputs / 20, `${result.decoded} decoded: the mutations leave many inputs well-formed`)
  t.ok(result.refused > inputs / 20, `${result.refused} refused: the mutations do break many inputs`)
})
