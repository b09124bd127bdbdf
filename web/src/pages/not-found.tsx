import { Link } from 'react-router';
import { PageHeader } from '../ui/kit';

export default function NotFound() {
  return (
    <>
      <PageHeader title="Page not found" description="Nothing lives at this address." />
      <Link to="/" className="text-indigo-700 underline dark:text-indigo-300">
        Back to the overview
      </Link>
    </>
  );
}
