import { PageHeader } from '../ui/kit';

export default function Page() {
  return <PageHeader title="settings" description="Coming next; every operation already has its page under All operations." />;
}
