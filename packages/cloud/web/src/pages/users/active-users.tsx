// PLACEHOLDER: being written (admin center issue 9); replaced before commit.
import { PageHeader } from '../../components/page.tsx';
export function ActiveUsersPage() {
  return <PageHeader title="Active users" />;
}
