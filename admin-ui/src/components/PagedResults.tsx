import type { ReactNode } from "react";
import { ErrorAlert, LoadMore, Loading } from "./feedback";

/** What a cursor-paged (infinite) query gives the list under it. */
export interface PagedQuery<T> {
  data: { pages: readonly { items: readonly T[] }[] } | undefined;
  error: unknown;
  isPending: boolean;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/** Every item loaded so far, the pages one after the other. */
export function pagedItems<T>(query: Pick<PagedQuery<T>, "data">): T[] {
  return query.data?.pages.flatMap((page) => page.items) ?? [];
}

/**
 * The states of a cursor-paged list: its error, a loader while the first page comes, then the list of
 * every page loaded so far (rendered by `children`) with "Load more" under it while there are more.
 */
export function PagedResults<T>({
  query,
  errorTitle,
  loadingLabel,
  children,
}: {
  query: PagedQuery<T>;
  errorTitle: string;
  loadingLabel?: string;
  children: (items: T[]) => ReactNode;
}) {
  return (
    <>
      <ErrorAlert error={query.error} title={errorTitle} />
      {query.isPending ? (
        <Loading label={loadingLabel} />
      ) : query.data ? (
        <>
          {children(pagedItems(query))}
          <LoadMore
            hasNextPage={query.hasNextPage}
            isFetchingNextPage={query.isFetchingNextPage}
            fetchNextPage={query.fetchNextPage}
          />
        </>
      ) : null}
    </>
  );
}
