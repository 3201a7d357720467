import { fireEvent, screen } from "@testing-library/react";
import { useLocation } from "react-router-dom";
import { describe, expect, it, vi } from "vitest";
import { renderWithProviders } from "../test/render";
import { filtersToParams, readFilters, useUrlFilters } from "./useUrlFilters";

interface Values {
  from: string;
  q: string;
}
const KEYS: (keyof Values)[] = ["from", "q"];
const EMPTY: Values = { from: "", q: "" };

describe("readFilters / filtersToParams", () => {
  it("reads every key, missing ones as empty, and ignores other parameters", () => {
    expect(readFilters<Values>(new URLSearchParams("q=abc&other=1"), KEYS)).toEqual({ from: "", q: "abc" });
  });

  it("writes only the set fields, trimmed, in key order", () => {
    expect(filtersToParams({ q: "  x ", from: "2025-01-02" }, KEYS).toString()).toBe("from=2025-01-02&q=x");
    expect(filtersToParams({ from: " ", q: "" }, KEYS).toString()).toBe("");
  });
});

function Harness({ onApply }: { onApply?: () => void }) {
  const filters = useUrlFilters(KEYS, EMPTY, { onApply });
  const location = useLocation();
  return (
    <form onSubmit={filters.handleSubmit}>
      <input aria-label="Q" value={filters.form.q} onChange={(e) => filters.set("q", e.currentTarget.value)} />
      <button type="submit">Apply</button>
      <button type="button" onClick={filters.clear}>
        Clear
      </button>
      <output data-testid="applied">{JSON.stringify(filters.applied)}</output>
      <output data-testid="search">{location.search}</output>
    </form>
  );
}

describe("useUrlFilters", () => {
  it("starts the form from the address bar, applies on submit and clears both", () => {
    const onApply = vi.fn();
    renderWithProviders(<Harness onApply={onApply} />, { route: "/x?q=old&from=2025-01-01" });
    expect(screen.getByLabelText("Q")).toHaveValue("old");

    fireEvent.change(screen.getByLabelText("Q"), { target: { value: " new " } });
    // Not applied until submitted.
    expect(screen.getByTestId("applied")).toHaveTextContent('{"from":"2025-01-01","q":"old"}');
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(screen.getByTestId("search")).toHaveTextContent("?from=2025-01-01&q=new");
    expect(screen.getByTestId("applied")).toHaveTextContent('{"from":"2025-01-01","q":"new"}');
    expect(onApply).toHaveBeenCalledTimes(1);

    fireEvent.click(screen.getByRole("button", { name: "Clear" }));
    expect(screen.getByLabelText("Q")).toHaveValue("");
    expect(screen.getByTestId("search")).toBeEmptyDOMElement();
    expect(onApply).toHaveBeenCalledTimes(2);
  });
});
