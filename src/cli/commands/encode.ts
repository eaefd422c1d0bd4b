// `ra6dhcp encode`: the JSON form printed by `ra6dhcp decode --json` back into hex.
import type { Command } from 'commander'
import { DhcpEncodeError, encodeMessage, messageFromJson, toHex } from '../../dhcpv6/index.js'
import { UsageError } from '../usage-error.js'
import { readStdinText } from '../stdin.js'

export function encodeJsonText(text: string): string {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`the argument is not valid JSON (${(err as Error).message}); pass the output of ra6dhcp decode --json`)
  }
  // accept one entry of `decode --pcap FILE --json` as well as a bare message
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && 'message' in json && 'frame' in json) {
    json = (json as { message: unknown }).message
  }
  try {
    return toHex(encodeMessage(messageFromJson(json)))
  } catch (err) {
    if (err instanceof DhcpEncodeError) throw new UsageError(`cannot encode: ${err.message}`)
    if (err instanceof TypeError) throw new UsageError(`cannot encode: the JSON does not have the shape of a message (${err.message}); start from ra6dhcp decode --json`)
    throw err
  }
}

export function register(program: Command): void {
  program
    .command('encode')
    .description('encode the JSON form of a DHCPv6 message (from `ra6dhcp decode --json`) as hex')
    .argument('[json]', "the message as JSON; '-' or nothing reads it from stdin")
    .action(async (json: string | undefined) => {
      const text = json === undefined || json === '-' ? await readStdinText("no JSON given: pass it as an argument, or pipe it on stdin with '-'") : json
      process.stdout.write(`${encodeJsonText(text)}\n`)
    })
}
