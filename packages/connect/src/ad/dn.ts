/**
 * Distinguished names (RFC 4514) as Active Directory writes them.
 *
 * The connector space indexes every DN by a key that lists its RDNs from the
 * root down, lower-cased and unescaped, joined by U+0001: all descendants of
 * an entry share its key plus U+0001 as a prefix, so "everything below this
 * OU" is one index range, which is what an OU rename needs.
 */
const separator = '\u0001';
const separatorCode = separator.charCodeAt(0);

/**
 * Splits a DN into its RDNs (as written, escapes kept), honouring backslash
 * escapes. Every imported object's DN goes through here, and member values
 * too: the RDNs are slices of the DN, never built character by character.
 */
export function splitDn(dn: string): string[] {
  const rdns: string[] = [];
  let start = 0;
  for (let i = 0; i < dn.length; i++) {
    const c = dn.charCodeAt(i);
    if (c === 0x5c /* \\ */) i++;
    else if (c === 0x2c /* , */ || c === 0x3b /* ; */) {
      const rdn = dn.slice(start, i).trim();
      if (rdn) rdns.push(rdn);
      start = i + 1;
    }
  }
  const last = dn.slice(start).trim();
  if (last) rdns.push(last);
  return rdns;
}

/** The value of an RDN with escapes resolved: CN=O'Brien\, Pat → O'Brien, Pat; \2C → ,. */
export function unescapeValue(value: string): string {
  // most values hold no escape at all
  if (!value.includes('\\')) return value;
  const bytes: number[] = [];
  const out: string[] = [];
  const flush = () => {
    if (bytes.length) out.push(Buffer.from(bytes).toString('utf8'));
    bytes.length = 0;
  };
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      flush();
      if (ch === '\\' && i + 1 < value.length) {
        out.push(value[i + 1]!);
        i++;
      } else out.push(ch);
    }
  }
  flush();
  return out.join('');
}

/** Escapes an attribute value for use in an RDN. */
export function escapeValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=#]/g, (c) => `\\${c}`)
    .replace(/^ /, '\\ ')
    .replace(/ $/, '\\ ')
    .replace(/\0/g, '\\00');
}

function normalizeRdn(rdn: string): string {
  const eq = rdn.indexOf('=');
  if (eq < 0) return rdn.toLowerCase();
  return `${rdn.slice(0, eq).trim().toLowerCase()}=${unescapeValue(rdn.slice(eq + 1).trim()).toLowerCase()}`;
}

export function dnKey(dn: string): string {
  const rdns = splitDn(dn);
  let key = '';
  for (let i = rdns.length - 1; i >= 0; i--) key += (i === rdns.length - 1 ? '' : separator) + normalizeRdn(rdns[i]!);
  return key;
}

/** The key range [low, high) holding every descendant of the entry whose key is `key`. */
export function descendantRange(key: string): [string, string] {
  return [key + separator, key + '\u0002'];
}

export const sameDn = (a: string, b: string): boolean => dnKey(a) === dnKey(b);

/** Whether `dn` is `ancestor` or lies below it. */
export function isWithin(dn: string, ancestor: string): boolean {
  return isWithinKey(dnKey(dn), dnKey(ancestor));
}

/** Whether the entry with key `key` is the one with key `ancestorKey` or lies below it (keys from dnKey). */
export function isWithinKey(key: string, ancestorKey: string): boolean {
  return key === ancestorKey || (key.length > ancestorKey.length && key.charCodeAt(ancestorKey.length) === separatorCode && key.startsWith(ancestorKey));
}

export const parentDn = (dn: string): string => splitDn(dn).slice(1).join(',');

/** The value of the first RDN: CN=Pat Lee,OU=Staff,… → Pat Lee. */
export function rdnValue(dn: string): string {
  const first = splitDn(dn)[0] ?? '';
  return unescapeValue(first.slice(first.indexOf('=') + 1));
}

/** The DNS name of a domain from a DN in it: its DC= components (DC=corp,DC=example,DC=com → corp.example.com). */
export const dnsDomainOf = (dn: string): string => dn.split(',').filter((p) => /^DC=/i.test(p.trim())).map((p) => p.trim().slice(3)).join('.');
