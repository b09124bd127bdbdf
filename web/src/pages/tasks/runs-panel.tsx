// Where a task's runs will show (issue 11 §2, §8: run list, live events, cancel). Task runs are being built
// separately (runs.* operations); this component is their place on the task page and renders nothing until then.
import type { TaskDetail } from './api';

export function RunsPanel(_: { task: TaskDetail }) {
  return null;
}
