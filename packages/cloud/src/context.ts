import type { AgentPackageInfo } from './agents/agent-package.ts';
import type { Quotas } from '@skybridge/protocol';
import type { Store } from './store/store.ts';
import type { OidcProviders } from './auth/oidc.ts';
import type { AccessTokens } from './auth/access-token.ts';
import type { AgentChannelHub } from './agents/channel-hub.ts';
import type { Logger } from './logger.ts';
import type { SyncThrottle } from './sync/throttle.ts';

/** Everything a request handler may use, built once per cloud process. */
export interface CloudContext {
  store: Store;
  oidc: OidcProviders;
  tokens: AccessTokens;
  channels: AgentChannelHub;
  /** per-tenant throttling of sync batches */
  syncThrottle: SyncThrottle;
  logger: Logger;
  /** AES-256 key sealing secrets the cloud must use again (federation client secrets) */
  sealingKey: Buffer;
  /** extra CA certificates (PEM) trusted for outbound calls to identity providers, besides the system's */
  outboundCa: string | null;
  config: {
    publicUrl: string;
    /** Suffix of each tenant's initial domain: `<name>.<suffix>`. */
    initialDomainSuffix: string;
    /** Deployment default quotas; a tenant may carry its own. */
    quotas: Quotas;
    /** Largest JSON request body, in bytes. */
    bodyLimit: number;
    /**
     * The deployment's own DNS zone (--service-domain): the targets of the
     * service records (MX, autodiscover, SPF include…) every customer domain points at.
     */
    serviceDomain: string;
    /** DNS servers (ip or ip:port) for domain verification and record checks; empty: the system's resolvers. */
    dnsServers: readonly string[];
    /** Pin of the TLS certificate the cloud serves, returned to registering agents. */
    certificatePin: string | null;
    /** The agent package handed out for download, if the deployment has one. */
    agentPackage: AgentPackageInfo | null;
    /** The admin center's built files, served under /admin. */
    adminCenterDir: string;
  };
}
