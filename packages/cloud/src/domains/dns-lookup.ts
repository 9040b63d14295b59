import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SkybridgeError } from '../http/problem.ts';

/**
 * DNS queries for domain verification and record checks, through the
 * deployment's resolvers (--dns-server) or the system's. "No such name" and
 * "no record of this type" are answers (an empty list); a server failure or
 * a timeout is an error naming the server and the query, never an answer.
 * Names in answers are normalized (lower case, no trailing dot) and TXT
 * strings joined, so checks compare like with like.
 */
export class DnsLookup {
  readonly #resolver: Resolver;
  readonly servers: readonly string[];

  constructor(servers: readonly string[] = [], options: { timeoutMs?: number; tries?: number } = {}) {
    this.#resolver = new Resolver({ timeout: options.timeoutMs ?? 2500, tries: options.tries ?? 2 });
    for (const s of servers) {
      const host = s.startsWith('[') ? s.slice(1, s.indexOf(']')) : s.split(':')[0]!;
      if (!isIP(host)) throw new Error(`--dns-server ${s} is not an IP address (with an optional :port)`);
    }
    if (servers.length) this.#resolver.setServers([...servers]);
    this.servers = servers.length ? servers : this.#resolver.getServers();
  }

  async txt(name: string): Promise<string[]> {
    return (await this.#ask(name, 'TXT', () => this.#resolver.resolveTxt(name))).map((chunks) => chunks.join(''));
  }

  async mx(name: string): Promise<{ exchange: string; priority: number }[]> {
    return (await this.#ask(name, 'MX', () => this.#resolver.resolveMx(name))).map((r) => ({ exchange: normalizeName(r.exchange), priority: r.priority }));
  }

  async cname(name: string): Promise<string[]> {
    return (await this.#ask(name, 'CNAME', () => this.#resolver.resolveCname(name))).map(normalizeName);
  }

  async a(name: string): Promise<string[]> {
    return this.#ask(name, 'A', () => this.#resolver.resolve4(name));
  }

  async #ask<T>(name: string, type: string, query: () => Promise<T[]>): Promise<T[]> {
    try {
      return await query();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
      throw new SkybridgeError('dns_lookup_failed', `the DNS query for the ${type} records of ${name} failed (${code ?? (err as Error).message}) at ${this.servers.join(', ')}: check that the DNS servers answer, then try again`, {
        extensions: { dnsError: code ?? null },
      });
    }
  }
}

export const normalizeName = (name: string): string => name.toLowerCase().replace(/\.$/, '');
