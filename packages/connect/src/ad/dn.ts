/**
 * Distinguished names (RFC 4514) as Active Directory writes them.
 *
 * The connector space indexes every DN by a key that lists its RDNs from the
 * root down, lower-cased and unescaped, joined by U+0001: all descendants of
 * an entry share its key plus U+0001 as a prefix, so "everything below this
 * OU" is one index range, which is what an OU rename needs.
 */
const separator = '\u0001';

/** Splits a DN into its RDNs (as written, escapes kept), honouring backslash escapes. */
export function splitDn(dn: string): string[] {
  const rdns: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i]!;
    if (ch === '\\' && i + 1 < dn.length) {
      current += ch + dn[i + 1];
      i++;
    } else if (ch === ',' || ch === ';') {
      rdns.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim() || rdns.length) rdns.push(current.trim());
  return rdns.filter((r) => r.length > 0);
}

/** The value of an RDN with escapes resolved: CN=O'Brien\, Pat → O'Brien, Pat; \2C → ,. */
export function unescapeValue(value: string): string {
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
  return splitDn(dn).map(normalizeRdn).reverse().join(separator);
}

/** The key range [low, high) holding every descendant of the entry whose key is `key`. */
export function descendantRange(key: string): [string, string] {
  return [key + separator, key + '\u0002'];
}

export const sameDn = (a: string, b: string): boolean => dnKey(a) === dnKey(b);

/** Whether `dn` is `ancestor` or lies below it. */
export function isWithin(dn: string, ancestor: string): boolean {
  const k = dnKey(dn);
  const a = dnKey(ancestor);
  return k === a || k.startsWith(a + separator);
}

export const parentDn = (dn: string): string => splitDn(dn).slice(1).join(',');

/** The value of the first RDN: CN=Pat Lee,OU=Staff,… → Pat Lee. */
export function rdnValue(dn: string): string {
  const first = splitDn(dn)[0] ?? '';
  return unescapeValue(first.slice(first.indexOf('=') + 1));
}

/** The DNS name of a domain from a DN in it: its DC= components (DC=corp,DC=example,DC=com → corp.example.com). */
export const dnsDomainOf = (dn: string): string => dn.split(',').filter((p) => /^DC=/i.test(p.trim())).map((p) => p.trim().slice(3)).join('.');
