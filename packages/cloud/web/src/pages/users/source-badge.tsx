import { Badge } from '../../components/feedback.tsx';

/** Where a user is managed: synchronized from on-premises Active Directory, or in the cloud. */
export function SourceBadge({ synced }: { synced: boolean }) {
  return synced ? <Badge tone="info">Synced from on-premises</Badge> : <Badge>Cloud only</Badge>;
}
