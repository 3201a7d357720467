import { fireEvent, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { renderWithProviders } from "../test/render";
import { type PagedQuery, PagedResults, pagedItems } from "./PagedResults";

function query(overrides: Partial<PagedQuery<string>>): PagedQuery<string> {
  return {
    data: undefined,
    error: null,
    isPending: false,
    hasNextPage: false,
    isFetchingNextPage: false,
    fetchNextPage: () => undefined,
    ...overrides,
  };
}

const list = (items: string[]) => <ul>{items.map((item) => <li key={item}>{item}</li>)}</ul>;

describe("PagedResults", () => {
  it("joins the pages loaded so far", () => {
    expect(pagedItems(query({ data: { pages: [{ items: ["a", "b"] }, { items: ["c"] }] } }))).toEqual(["a", "b", "c"]);
    expect(pagedItems(query({}))).toEqual([]);
  });

  it("shows a loader while the first page comes", () => {
    renderWithProviders(
      <PagedResults query={query({ isPending: true })} errorTitle="Could not" loadingLabel="Loading the things">
        {list}
      </PagedResults>,
    );
    expect(screen.getByRole("status", { name: "Loading the things" })).toBeInTheDocument();
  });

  it("shows the error and no list when the first page failed", () => {
    renderWithProviders(
      <PagedResults query={query({ error: new Error("boom") })} errorTitle="Could not load the things">
        {list}
      </PagedResults>,
    );
    expect(screen.getByRole("alert")).toHaveTextContent("Could not load the things");
    expect(screen.getByRole("alert")).toHaveTextContent("boom");
    expect(screen.queryByRole("list")).not.toBeInTheDocument();
  });

  it("lists every page and loads more while there are more", () => {
    const fetchNextPage = vi.fn();
    const { rerender } = renderWithProviders(
      <PagedResults
        query={query({ data: { pages: [{ items: ["a"] }, { items: ["b"] }] }, hasNextPage: true, fetchNextPage })}
        errorTitle="Could not"
      >
        {list}
      </PagedResults>,
    );
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["a", "b"]);
    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(fetchNextPage).toHaveBeenCalledTimes(1);

    rerender(
      <PagedResults query={query({ data: { pages: [{ items: ["a"] }] } })} errorTitle="Could not">
        {list}
      </PagedResults>,
    );
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });
});
