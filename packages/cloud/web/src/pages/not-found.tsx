import { Link } from 'react-router';
import { PageHeader } from '../components/page.tsx';

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" description="There is no admin center page at this address. It may have moved: use the navigation, or go back home." />
      <p><Link to="/">Go to the admin center home</Link></p>
    </>
  );
}
