// PLACEHOLDER: being written (admin center issue 9); replaced before commit.
import { PageHeader } from '../../components/page.tsx';
export function DomainsPage() {
  return <PageHeader title="Domains" />;
}
