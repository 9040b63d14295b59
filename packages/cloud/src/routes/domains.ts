import { z } from 'zod';
import type { Role } from '@skybridge/protocol';
import { json, noContent, tenantRoute, type RouteDef } from '../http/route.ts';
import { SkybridgeError } from '../http/problem.ts';
import { actorOf } from '../audit/audit-log.ts';
import { seal } from '../auth/sealed.ts';
import { DnsLookup } from '../domains/dns-lookup.ts';
import { checkServiceRecords } from '../domains/service-records.ts';
import { addDomain, domainChanges, domainName, getDomain, listDomains, presentDomain, removeDomain, updateDomain, verifyDomain } from '../domains/domains.ts';
import type { CloudContext } from '../context.ts';
import { directoryReaders } from './directory.ts';

/** Who manages domains: the roles that own hybrid identity. */
const domainAdmins: readonly Role[] = ['GlobalAdministrator', 'HybridIdentityAdministrator'];
const newDomain = z.strictObject({ name: domainName });
const dnsOf = (cloud: CloudContext) => new DnsLookup(cloud.config.dnsServers);

export const domainRoutes: RouteDef[] = [
  tenantRoute({
    method: 'GET', path: '/api/v1/domains', roles: directoryReaders,
    summary: 'Lists the tenant\'s domains: initial, default, verified, managed or federated, with the verification record of each unverified one.',
    handler: async (ctx) => json({ items: (await listDomains(ctx.cloud.store, ctx.principal.tenantId)).map(presentDomain) }),
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/domains', roles: domainAdmins,
    summary: 'Adds a domain, unverified, and returns the TXT record (or MX alternative) that verifies it.',
    requestBody: newDomain,
    handler: async (ctx) => {
      const { name } = await ctx.body(newDomain, 'the domain');
      const row = await addDomain(ctx.cloud.store, ctx.principal.tenantId, actorOf(ctx.principal), name, ctx.cloud.config);
      return json(presentDomain(row), 201, { location: `/api/v1/domains/${row.name}` });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/domains/:name', roles: directoryReaders, summary: 'Reads one domain.',
    handler: async (ctx) => json(presentDomain(await getDomain(ctx.cloud.store, ctx.principal.tenantId, ctx.params.name!))),
  }),
  tenantRoute({
    method: 'POST', path: '/api/v1/domains/:name/verify', roles: domainAdmins,
    summary: 'Looks the verification record up in DNS and verifies the domain; synchronized users waiting for it get their userPrincipalName back.',
    handler: async (ctx) => {
      const outcome = await verifyDomain(ctx.cloud.store, dnsOf(ctx.cloud), ctx.principal.tenantId, actorOf(ctx.principal), ctx.params.name!);
      if (!outcome.domain.verified) {
        throw new SkybridgeError('domain_not_verified', `${outcome.domain.name} is not verified: ${outcome.domain.last_check?.detail}. Add the record, wait for DNS to publish it (up to the record's TTL), and try again`, {
          extensions: { verificationRecords: presentDomain(outcome.domain).verificationRecords },
        });
      }
      return json({ ...presentDomain(outcome.domain), restoredUserPrincipalNames: outcome.restoredUserPrincipalNames });
    },
  }),
  tenantRoute({
    method: 'GET', path: '/api/v1/domains/:name/service-records', roles: directoryReaders,
    summary: 'The DNS records the domain needs for the service (MX, SPF, autodiscover, DKIM, device registration), each checked live with its status and the exact value to set.',
    handler: async (ctx) => {
      const row = await getDomain(ctx.cloud.store, ctx.principal.tenantId, ctx.params.name!);
      if (!row.verified) throw new SkybridgeError('domain_not_verified', `${row.name} is not verified yet: verify it first, then set its service records`);
      const records = await checkServiceRecords(dnsOf(ctx.cloud), row.name, ctx.cloud.config.serviceDomain);
      return json({ domain: row.name, serviceDomain: ctx.cloud.config.serviceDomain, allOk: records.every((r) => r.status === 'ok'), checkedDateTime: new Date().toISOString(), records });
    },
  }),
  tenantRoute({
    method: 'PATCH', path: '/api/v1/domains/:name', roles: domainAdmins,
    summary: 'Makes a verified domain the default, or sets how its users sign in: managed, or federated with its identity provider (SAML 2.0 or OpenID Connect).',
    requestBody: domainChanges,
    handler: async (ctx) => {
      const changes = await ctx.body(domainChanges, 'the domain changes');
      return json(presentDomain(await updateDomain(ctx.cloud.store, ctx.principal.tenantId, actorOf(ctx.principal), ctx.params.name!, changes, (plain) => seal(ctx.cloud.sealingKey, plain))));
    },
  }),
  tenantRoute({
    method: 'DELETE', path: '/api/v1/domains/:name', roles: domainAdmins,
    summary: 'Removes a domain nothing uses (not the initial or default domain; no user name, mail or proxy address on it).',
    handler: async (ctx) => {
      await removeDomain(ctx.cloud.store, ctx.principal.tenantId, actorOf(ctx.principal), ctx.params.name!);
      return noContent();
    },
  }),
];
