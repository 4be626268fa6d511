/**
 * What a large delete leaves behind: the resource's own row goes at once (it is a 404 from
 * then on), and a reclaim row stands for the rows still to delete, a batch at a time.
 */
export type ReclaimKind = 'workspace' | 'task_channel';

export interface Reclaim {
  id: number;
  kind: ReclaimKind;
  /** The workspace's or the task channel's SID. */
  sid: string;
}

export interface ReclaimReads {
  /** Reclaims not finished yet, oldest first. */
  pendingReclaims(): Promise<Reclaim[]>;
}

export interface ReclaimWrites {
  /**
   * Deletes one batch of what `reclaim` stands for (at most `batchSize` workers, or worker
   * channel rows); when nothing is left, the reclaim's own row too. Resolves whether more is
   * left: false once finished, or when another node holds this reclaim (PostgreSQL).
   */
  reclaimBatch(reclaim: Reclaim, batchSize: number): Promise<boolean>;
}
