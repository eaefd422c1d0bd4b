// Turns tshark's PDML into packets.json entries. PDML is flat, machine-written XML (elements with
// attributes, no text content, no CDATA), so a tag scanner is enough and keeps the project free of
// an XML dependency.

export interface PdmlPacket {
  frame: number
  /** name -> every `show` value of that field under the dhcpv6 protocol, in document order. */
  dhcpv6Fields: Record<string, string[]>
  /** The outermost dhcpv6 message type (dhcpv6.msgtype), as a number. */
  msgType: number
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16))
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10))
    return entities[e] ?? whole
  })
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of text.matchAll(/([\w:.-]+)="([^"]*)"/g)) out[m[1] ?? ''] = unescapeXml(m[2] ?? '')
  return out
}

/** Parses `tshark -T pdml` output; packets without a dhcpv6 protocol are skipped. */
export function parsePdml(xml: string): PdmlPacket[] {
  const packets: PdmlPacket[] = []
  let current: { frame: number; fields: Record<string, string[]> ; seenDhcpv6: boolean } | undefined
  // Stack of open elements: true when the element is inside (or is) the dhcpv6 protocol.
  const stack: boolean[] = []
  for (const m of xml.matchAll(/<(\/?)([\w:-]+)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>/g)) {
    const [, closing, tag, attrText, selfClosing] = m
    if (closing) {
      stack.pop()
      if (tag === 'packet' && current) {
        if (current.seenDhcpv6) {
          const msgType = Number(current.fields['dhcpv6.msgtype']?.[0])
          packets.push({ frame: current.frame, dhcpv6Fields: current.fields, msgType })
        }
        current = undefined
      }
      continue
    }
    const attrs = attributes(attrText ?? '')
    const parentInDhcpv6 = stack[stack.length - 1] ?? false
    let inDhcpv6 = parentInDhcpv6
    if (tag === 'packet') {
      current = { frame: NaN, fields: {}, seenDhcpv6: false }
      inDhcpv6 = false
    } else if (tag === 'proto') {
      // A nested dhcpv6 proto (a relayed message) stays inside; any other protocol leaves.
      inDhcpv6 = attrs.name === 'dhcpv6' || (parentInDhcpv6 && attrs.name !== undefined && attrs.name.startsWith('dhcpv6'))
      if (attrs.name === 'dhcpv6' && current) current.seenDhcpv6 = true
    } else if (tag === 'field' && current) {
      if (attrs.name === 'frame.number' && Number.isNaN(current.frame)) current.frame = Number(attrs.show)
      if (inDhcpv6 && attrs.name) {
        ;(current.fields[attrs.name] ??= []).push(attrs.show ?? '')
      }
    }
    if (!selfClosing) stack.push(inDhcpv6)
  }
  return packets
}
