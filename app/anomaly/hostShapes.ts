/**
 * Flags that depend only on the destination's shape: IP literals, punycode, high-entropy labels
 * (DNS tunnelling and generated exfiltration hosts), and well-known paste, webhook, tunnel,
 * file-drop and image-proxy services. Pure.
 */
import { isIP } from 'node:net';
import type { AnomalyFlag } from '../api/anomaly.ts';

/** Services agents have no business posting to unprompted; each entry matches the host and its subdomains. */
const SERVICES: Readonly<Record<'paste-service' | 'webhook-service' | 'tunnel-service' | 'file-drop-service', readonly string[]>> = {
  'paste-service': ['pastebin.com', 'paste.ee', 'hastebin.com', 'ghostbin.co', 'dpaste.org', 'dpaste.com', 'rentry.co', 'paste.rs', 'justpaste.it', 'controlc.com', 'privatebin.net', 'ix.io', 'sprunge.us', 'termbin.com', 'pastes.dev', 'paste.mozilla.org', 'gist.githubusercontent.com'],
  'webhook-service': ['webhook.site', 'requestbin.com', 'requestbin.net', 'pipedream.net', 'hookbin.com', 'beeceptor.com', 'requestcatcher.com', 'hooks.slack.com', 'discord.com/api/webhooks', 'discordapp.com/api/webhooks', 'interact.sh', 'oast.fun', 'oast.pro', 'oast.live', 'burpcollaborator.net', 'canarytokens.com', 'dnslog.cn'],
  'tunnel-service': ['ngrok.io', 'ngrok-free.app', 'ngrok.app', 'trycloudflare.com', 'loca.lt', 'localtunnel.me', 'serveo.net', 'localhost.run', 'lhr.life', 'pagekite.me', 'telebit.cloud', 'bore.pub', 'tunnelto.dev', 'devtunnels.ms'],
  'file-drop-service': ['transfer.sh', 'file.io', '0x0.st', 'temp.sh', 'gofile.io', 'catbox.moe', 'litterbox.catbox.moe', 'anonfiles.com', 'bashupload.com', 'filebin.net', 'tmpfiles.org', 'uguu.se', 'wetransfer.com', 'sendspace.com', 'oshi.at', 'keep.sh'],
};

/** Image proxies that fetch any URL: markdown-image exfiltration sends data through them. */
const IMAGE_PROXIES = ['camo.githubusercontent.com', 'images.weserv.nl', 'i0.wp.com', 'i1.wp.com', 'i2.wp.com', 'wsrv.nl', 'imageproxy.ifunny.co', 'external-content.duckduckgo.com', 'proxy.duckduckgo.com', 'images.google.com', 'googleusercontent.com'];

export function hostShapeFlags(host: string, path?: string): AnomalyFlag[] {
  const flags: AnomalyFlag[] = [];
  const h = normalizeHost(host);
  if (isIP(h)) {
    // Loopback is the developer's own machine (dev servers, local MCP servers), not egress.
    if (!isLoopback(h)) flags.push({ code: 'ip-literal', message: `destination is a bare IP address (${h}), not a name` });
  } else {
    const labels = h.split('.');
    if (labels.some((l) => l.startsWith('xn--'))) flags.push({ code: 'punycode-host', message: `hostname ${h} uses punycode (internationalized), a lookalike-domain shape` });
    const noisy = labels.slice(0, -2).find(isHighEntropyLabel);
    if (noisy) flags.push({ code: 'high-entropy-host', message: `hostname label '${noisy.slice(0, 24)}${noisy.length > 24 ? '...' : ''}' looks random or encoded (a DNS-tunnelling shape)` });
  }
  const target = `${h}${path ?? ''}`;
  for (const [code, domains] of Object.entries(SERVICES) as [keyof typeof SERVICES, readonly string[]][]) {
    const match = domains.find((d) => matchesService(target, h, d));
    if (match) flags.push({ code, message: `${h} is a known ${code.replace('-service', '').replace('-', ' ')} service (${match})` });
  }
  const proxy = IMAGE_PROXIES.find((d) => h === d || h.endsWith(`.${d}`));
  if (proxy && path !== undefined && looksLikeSmuggledData(path)) {
    flags.push({ code: 'image-proxy-abuse', message: `request to image proxy ${proxy} carries a long encoded URL or query (markdown-image exfiltration shape)` });
  }
  return flags;
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Long labels with many distinct characters and digits mixed in: base32/hex/base64-ish chunks. */
export function isHighEntropyLabel(label: string): boolean {
  if (label.length < 20) return false;
  const digits = [...label].filter((c) => c >= '0' && c <= '9').length;
  return entropy(label) >= 3.8 && digits >= 3;
}

function matchesService(target: string, host: string, domain: string): boolean {
  if (domain.includes('/')) return target === domain || target.startsWith(`${domain}/`) || target.startsWith(domain);
  return host === domain || host.endsWith(`.${domain}`);
}

function looksLikeSmuggledData(path: string): boolean {
  const decoded = safeDecode(path);
  if (decoded.length > 300) return true;
  const query = decoded.split('?')[1] ?? '';
  return query.length > 120 || /[A-Za-z0-9+/_-]{80,}={0,2}/.test(decoded);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
