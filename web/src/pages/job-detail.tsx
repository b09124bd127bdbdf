// One job: state, attempts, timing, payload, result or error, with retry / cancel.
import { useQuery } from '@tanstack/react-query';
import { useParams } from 'react-router';
import { api, ok } from '../api/client';
import { useStream } from '../app/stream';
import { Detail } from '../generic/result-view';
import { BackLink, Badge, Card, ErrorNote, Loading, PageHeader, Pre, toneOf } from '../ui/kit';
import { JobActions } from './queue';

export default function JobDetail() {
  const id = useParams().id!;
  const job = useQuery({ queryKey: ['queue', 'job', id], queryFn: () => ok(api.GET('/api/v1/queue/jobs/{id}', { params: { path: { id } } })) });
  useStream('queue', ['queue', 'events'], [['queue', 'job', id]]);
  if (job.isPending) return <Loading />;
  if (job.error) return <ErrorNote error={job.error} />;
  const { payload, result, error, ...rest } = job.data;
  return (
    <>
      <PageHeader
        title={`${job.data.task_type} on ${job.data.queue}`}
        description={
          <span className="flex items-center gap-2">
            <code>{id}</code> <Badge tone={toneOf(job.data.state)}>{job.data.state}</Badge>
          </span>
        }
        actions={<JobActions job={job.data} />}
      />
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Job">
          <Detail value={rest} />
        </Card>
        <div className="space-y-4">
          <Card title="Payload">
            <Pre className="text-xs">{JSON.stringify(payload, null, 2)}</Pre>
          </Card>
          <Card title={error ? 'Error' : 'Result'}>
            <Pre className="text-xs">{JSON.stringify(error ?? result ?? null, null, 2)}</Pre>
          </Card>
        </div>
      </div>
      <BackLink to="/queue">All jobs</BackLink>
    </>
  );
}
