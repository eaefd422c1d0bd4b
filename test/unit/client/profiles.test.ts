import t from 'tap'
import { applyServerMaxRt, parseProfileName, profile } from '../../../src/client/profiles.js'
import { UsageError } from '../../../src/cli/usage-error.js'

// The expected values are typed in from the RFC texts (RFC 8415 section 7.6, RFC 3315 section 5.5,
// RFC 4242 section 3), independently of the table under test.
const rfc8415 = {
  SOL_MAX_DELAY: 1, SOL_TIMEOUT: 1, SOL_MAX_RT: 3600, REQ_TIMEOUT: 1, REQ_MAX_RT: 30, REQ_MAX_RC: 10,
  CNF_MAX_DELAY: 1, CNF_TIMEOUT: 1, CNF_MAX_RT: 4, CNF_MAX_RD: 10, REN_TIMEOUT: 10, REN_MAX_RT: 600,
  REB_TIMEOUT: 10, REB_MAX_RT: 600, INF_MAX_DELAY: 1, INF_TIMEOUT: 1, INF_MAX_RT: 3600, REL_TIMEOUT: 1,
  REL_MAX_RC: 4, DEC_TIMEOUT: 1, DEC_MAX_RC: 4, REC_TIMEOUT: 2, REC_MAX_RC: 8, HOP_COUNT_LIMIT: 8,
  IRT_DEFAULT: 86400, IRT_MINIMUM: 600, MAX_WAIT_TIME: 60,
}
const rfc3315 = {
  ...rfc8415, SOL_MAX_RT: 120, INF_MAX_RT: 120, REL_MAX_RC: 5, DEC_MAX_RC: 5, HOP_COUNT_LIMIT: 32, MAX_WAIT_TIME: undefined,
}

t.test('rfc8415 is the default and matches RFC 8415 section 7.6', async t => {
  t.same(profile(), { name: 'rfc8415', ...rfc8415 })
  t.same(profile('rfc8415'), { name: 'rfc8415', ...rfc8415 })
})

t.test('rfc3315 matches RFC 3315 section 5.5 (SOL_MAX_RT and INF_MAX_RT 120 s)', async t => {
  t.same(profile('rfc3315'), { name: 'rfc3315', ...rfc3315 })
})

t.test('profile names are parsed with a helpful error', async t => {
  t.equal(parseProfileName('rfc3315'), 'rfc3315')
  t.throws(() => parseProfileName('3315'), UsageError)
  t.throws(() => parseProfileName('RFC8415'), /use --profile rfc8415 .* or --profile rfc3315/)
})

t.test('server SOL_MAX_RT / INF_MAX_RT are honoured only within 60..86400 s', async t => {
  const base = profile('rfc3315')
  for (const option of ['SOL_MAX_RT', 'INF_MAX_RT'] as const) {
    for (const ok of [60, 300, 86400]) {
      const r = applyServerMaxRt(base, option, ok)
      t.ok(r.accepted, `${option} ${ok} accepted`)
      t.equal(r.profile[option], ok)
    }
    for (const bad of [0, 59, 86401, 120.5, Number.NaN]) {
      const r = applyServerMaxRt(base, option, bad)
      t.notOk(r.accepted, `${option} ${bad} ignored`)
      t.equal(r.profile, base, 'profile unchanged')
      if (!r.accepted) t.match(r.reason, /outside 60\.\.86400/)
    }
  }
  t.equal(base.SOL_MAX_RT, 120, 'the shared table itself is never modified')
})
