// `ra6dhcp decode`: a DHCPv6 message (hex argument or stdin) or every DHCPv6 packet of a pcap/pcapng
// file, as a readable tree (with RFC 8415 semantic violations) or as JSON that `encode` accepts.
import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import {
  DhcpDecodeError, decodeMessage, messageToJson, messageTree, parseHex, validateMessage, type Message,
} from '../../dhcpv6/index.js'
import { dhcpv6Packets, PcapError } from '../../pcap/index.js'
import { UsageError } from '../usage-error.js'
import { readStdinText } from '../stdin.js'

export interface DecodeOptions { pcap?: string; json?: boolean }

export interface DecodeResult { output: string; malformed: number }

function violationLines(msg: Message, indent: string): string[] {
  return validateMessage(msg).map(v => `${indent}! ${v.code}${v.path ? ` at ${v.path}` : ''}: ${v.message}`)
}

export function decodeHexText(text: string, json: boolean): string {
  const trimmed = text.trim()
  if (trimmed === '') throw new UsageError('no hex given: pass the DHCPv6 UDP payload as hex, e.g. ra6dhcp decode 0102030400010000, or pipe it on stdin')
  const bytes = parseHex(trimmed)
  if ('error' in bytes) throw new UsageError(`the hex is not valid: ${bytes.error}. Pass the UDP payload as hex digits, e.g. ra6dhcp decode 0102030400010000`)
  let msg: Message
  try {
    msg = decodeMessage(bytes)
  } catch (err) {
    if (err instanceof DhcpDecodeError) {
      throw new UsageError(`malformed DHCPv6 message: ${err.message}. Pass only the UDP payload (no IPv6/UDP headers), or a capture with --pcap FILE`)
    }
    throw err
  }
  if (json) return `${JSON.stringify(messageToJson(msg), null, 2)}\n`
  return [...messageTree(msg), ...violationLines(msg, '')].join('\n') + '\n'
}

export function decodePcapFile(path: string, json: boolean): DecodeResult {
  let file: Buffer
  try {
    file = readFileSync(path)
  } catch (err) {
    throw new UsageError(`cannot read --pcap ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}. Give the path of a pcap or pcapng file`)
  }
  let packets
  try {
    packets = dhcpv6Packets(file)
  } catch (err) {
    if (err instanceof PcapError) throw new UsageError(`${path}: ${err.message}`)
    throw err
  }
  let malformed = 0
  const entries: unknown[] = []
  const lines: string[] = []
  for (const p of packets) {
    const where = `frame ${p.frame} [${p.source}]:${p.sourcePort} -> [${p.destination}]:${p.destinationPort}`
    try {
      const msg = decodeMessage(p.payload)
      if (json) entries.push({ frame: p.frame, source: p.source, sourcePort: p.sourcePort, destination: p.destination, destinationPort: p.destinationPort, message: messageToJson(msg) })
      else lines.push(where, ...messageTree(msg, '  '), ...violationLines(msg, '  '))
    } catch (err) {
      if (!(err instanceof DhcpDecodeError)) throw err
      malformed++
      const hex = Buffer.from(p.payload).toString('hex')
      if (json) entries.push({ frame: p.frame, source: p.source, sourcePort: p.sourcePort, destination: p.destination, destinationPort: p.destinationPort, error: err.message, offset: err.offset, hex })
      else lines.push(where, `  malformed: ${err.message}`, `  hex: ${hex}`)
    }
  }
  if (json) return { output: `${JSON.stringify(entries, null, 2)}\n`, malformed }
  if (packets.length === 0) lines.push(`${path}: no DHCPv6 packets (UDP port 546/547 over IPv6)`)
  return { output: lines.join('\n') + '\n', malformed }
}

export function register(program: Command): void {
  program
    .command('decode')
    .description('decode a DHCPv6 message (hex argument, or hex on stdin) or every DHCPv6 packet of a capture')
    .argument('[hex]', "the DHCPv6 UDP payload as hex; '-' or nothing reads it from stdin")
    .option('--pcap <file>', 'list and decode every DHCPv6 packet in a pcap or pcapng file, with frame numbers')
    .option('--json', 'print JSON (bytes as hex, addresses as text) that `ra6dhcp encode` turns back into hex')
    .action(async (hex: string | undefined, options: DecodeOptions) => {
      const json = options.json === true
      if (options.pcap !== undefined) {
        if (hex !== undefined) throw new UsageError('give either hex or --pcap FILE, not both')
        const result = decodePcapFile(options.pcap, json)
        process.stdout.write(result.output)
        if (result.malformed > 0) {
          process.stderr.write(`ra6dhcp: ${result.malformed} malformed DHCPv6 packet(s) in ${options.pcap}\n`)
          process.exitCode = 1
        }
        return
      }
      const text = hex === undefined || hex === '-' ? await readStdinText('no hex given: pass it as an argument (ra6dhcp decode 0102...), pipe it on stdin, or use --pcap FILE') : hex
      process.stdout.write(decodeHexText(text, json))
    })
}
