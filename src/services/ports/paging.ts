/**
 * A page request. `pageToken` is opaque to everyone but the store that made it;
 * without one, `page` (0-based) is an offset of `page * pageSize` rows.
 */
export interface PageQuery {
  pageSize: number;
  page: number;
  pageToken?: string;
}

/** Rows in a stable order (creation order), so paging is stable while rows are added. */
export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
  previousPageToken: string | null;
}
