// The offsite copy of each backup to an S3-compatible store, when one is configured. (Filled in once the shared S3
// client, src/core/s3.ts, is in this branch.)
import type { Config } from '../../config.ts';
import type { AppServices } from '../../core/services.ts';

export interface OffsiteTarget {
  /** `s3://bucket/prefix` as shown to admins (never credentials). */
  describe: string;
}

export function offsiteTarget(_config: Config): OffsiteTarget | null {
  return null;
}

export async function copyOffsite(_services: AppServices, _id: string): Promise<void> {}
