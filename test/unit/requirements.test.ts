import t from 'tap'
import { missing, hasCommand } from '../lib/requirements.js'

t.test('present command is not reported missing', async t => {
  t.equal(hasCommand('sh'), true)
  t.same(missing({ commands: ['sh'] }), [])
})

t.test('absent command and file are named in the reason', async t => {
  const reasons = missing({ commands: ['ra6dhcp-no-such-command'], files: ['/nonexistent/ra6'] })
  t.equal(reasons.length, 2)
  t.match(reasons[0], /'ra6dhcp-no-such-command'/)
  t.match(reasons[1], /\/nonexistent\/ra6/)
})
