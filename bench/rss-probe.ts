// Loaded into the daemon by bench/rss.ts only (`node --expose-gc --import rss-probe.js`): on
// SIGUSR2 it appends one JSON line to $RA6DHCP_RSS_PROBE_FILE with process.memoryUsage() as it
// is and after a full garbage collection, so the V8 heap can be compared without GC timing noise.
import { appendFileSync } from 'node:fs'

const file = process.env.RA6DHCP_RSS_PROBE_FILE
if (file) {
  process.on('SIGUSR2', () => {
    const before = process.memoryUsage()
    ;(globalThis as { gc?: () => void }).gc?.()
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), before, afterGc: process.memoryUsage() })}\n`)
  })
}
