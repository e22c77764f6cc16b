/** The campaign README and lab.json the lab writes beside its captures. */
import type { LabCarrierReport, LabOptions } from './index.ts';

/** JSON with sorted keys, two-space indent, trailing newline. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

export function labReadme(opts: LabOptions, carriers: LabCarrierReport[], versions: Record<string, string>): string {
  const lines: string[] = [];
  lines.push(`# ${opts.campaign}: a real capture through Linux netfilter NATs`, '');
  lines.push(
    `Made by \`natatlas lab --out ${path(opts.outDir)} --campaign ${opts.campaign} --carriers ${opts.carriers.map((c) => c.name).join(',')} --runs ${opts.runs} --packets ${opts.packets}\``,
    `(pipeline/lab/). Every packet here crossed a real NAT: network namespaces on one machine,`,
    `a client namespace (the phone) -> its NAT namespace -> a bridge in a public namespace ->`,
    `a server namespace at 203.0.113.1. Nothing ran in the root namespace.`,
    '',
    '## Protocol (the Android app\'s)',
    '',
    `- ${opts.runs} runs per carrier of ${opts.packets} packets, ${opts.pps} per second, each from a fresh UDP socket, payload a`,
    `  UUID, to a uniformly random server port in ${opts.serverPorts[0]}-${opts.serverPorts[1]} (the server binds them all).`,
    `- Local port drawn uniformly from 0-65535; 1-1023 are logged \`F\` without sending (the app cannot bind`,
    `  them; the lab runs as root and refuses to); 0 binds "any" and is logged as 0; with probability`,
    `  ${opts.reuseRate} a send reuses the previous local port towards another server port (the mapping-behaviour evidence).`,
    `- ${opts.endMarkers} \`END OF MESSAGE\` packets end each run; runs are the NAT's wait timeout + 1 s apart, so`,
    '  mappings do not outlive a run. Server rows carry a `Sender IP` column (the NAT\'s public address).',
    `- Timeouts: the seed's Algorithms 2 and 3 (pipeline/simulate/timeouts.ts \`searchTimeout\`), ${opts.timeoutRepeats} search per kind,`,
    `  one search unit = ${opts.timeoutScale} s (sweep step ${20 * opts.timeoutScale} s, binary-search resolution ${opts.timeoutScale} s).`,
    '  `wait`: one outbound packet, the server replies after delay_s. `idle`: an exchange, a second exchange',
    '  2.5 s later (a UDP conntrack entry only moves to the stream timeout when still active after 2 s),',
    '  silence for delay_s, then the server sends.',
    ...(opts.natType
      ? [
          '- NAT type: `<carrier>/nat-type.json`, RFC 5780 sections 4.3 (mapping) and 4.4 (filtering) with the lab\'s own',
          '  UDP request/response protocol (not STUN), before the capture. The server namespace has a second address,',
          '  203.0.113.2, and answers on ports 3478 and 3479 of both. Mapping: one socket asks (IP1,P1), (IP2,P1),',
          '  (IP2,P2) for the source it saw. Filtering: a fresh socket asks (IP1,P1) to answer from (IP2,P2) (test II),',
          '  then from (IP1,P2) (test III); 4 tries of 0.4 s each. Also port preservation and hairpinning.',
        ]
      : []),
    '',
    '## Carriers (rules as installed in each NAT namespace)',
    '',
  );
  for (const c of carriers) {
    const def = opts.carriers.find((d) => d.name === c.carrier)!;
    lines.push(`### ${c.carrier}`, '', def.description, '', '```');
    lines.push(`sysctl -w net.netfilter.nf_conntrack_udp_timeout=${c.waitS}`, `sysctl -w net.netfilter.nf_conntrack_udp_timeout_stream=${c.idleS}`, 'sysctl -w net.ipv4.ip_forward=1');
    for (const r of c.rules) lines.push(r);
    lines.push('```', '');
    const sent = c.runs.reduce((a, r) => a + r.client.sent, 0);
    const seen = c.runs.reduce((a, r) => a + r.serverRows, 0);
    lines.push(`Public address ${c.publicIp}; ${sent} packets sent, ${seen} server rows (with end markers).`);
    if (c.natType) lines.push(`NAT type (RFC 5780): mapping ${c.natType.mapping}, filtering ${c.natType.filtering}, port ${c.natType.portPreservation ? '' : 'not '}preserved, hairpinning ${c.natType.hairpinning === null ? 'not tested' : c.natType.hairpinning ? 'yes' : 'no'}.`);
    if (c.timeouts) {
      for (const [kind, res] of Object.entries(c.timeouts)) lines.push(`${kind}: set ${kind === 'wait' ? c.waitS : c.idleS} s; search ended at l=${res.map((x) => x.l).join(',')} r=${res.map((x) => x.r).join(',')} (${res.map((x) => x.probes).join(',')} probes).`);
    }
    lines.push('');
  }
  lines.push('## Versions', '', ...Object.entries(versions).map(([k, v]) => `- ${k}: ${v}`), '');
  lines.push('`lab.json` holds the same facts as data. Ingest with `natatlas run --campaign ' + opts.campaign + '`.', '');
  return lines.join('\n');
}

function path(p: string): string {
  return p.replace(/^.*\/(raw)$/, '$1');
}
