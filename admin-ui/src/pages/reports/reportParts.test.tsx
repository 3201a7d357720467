import { fireEvent, screen } from "@testing-library/react";
import { useLocation } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { makeStore } from "../../test/fixtures";
import { renderWithProviders } from "../../test/render";
import { useUrlFilters } from "../../lib/useUrlFilters";
import { DayFilterForm, RANGE_ERROR, filterTimeZone } from "./reportParts";

interface Values {
  from: string;
  to: string;
  store: string;
}
const KEYS: (keyof Values)[] = ["from", "to", "store"];
const EMPTY: Values = { from: "", to: "", store: "" };
const STORES = [
  makeStore({ store_id: "st_bkk", name: "Bangkok", tz: "Asia/Bangkok" }),
  makeStore({ store_id: "st_ldn", name: "London", tz: "Europe/London" }),
];

function Harness() {
  const filters = useUrlFilters(KEYS, EMPTY);
  const location = useLocation();
  return (
    <>
      <DayFilterForm filters={filters} stores={STORES} note={(zone) => <>Days in {zone}.</>} />
      <output data-testid="search">{location.search}</output>
    </>
  );
}

describe("filterTimeZone", () => {
  it("uses the chosen store's zone, else the stores' common one, else the default", () => {
    expect(filterTimeZone("st_ldn", STORES)).toBe("Europe/London");
    expect(filterTimeZone("", [STORES[1]!])).toBe("Europe/London");
    expect(filterTimeZone("", STORES)).toBe("Asia/Bangkok");
  });
});

describe("DayFilterForm", () => {
  it("refuses an end before the start and applies a valid range to the address bar", () => {
    renderWithProviders(<Harness />, { route: "/r?store=st_ldn" });
    expect(screen.getByText("Days in Europe/London.")).toBeInTheDocument();

    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2025-02-10" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-02-01" } });
    expect(screen.getByText(RANGE_ERROR)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Apply filters" })).toBeDisabled();

    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-02-12" } });
    expect(screen.queryByText(RANGE_ERROR)).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));
    expect(screen.getByTestId("search")).toHaveTextContent("?from=2025-02-10&to=2025-02-12&store=st_ldn");

    fireEvent.click(screen.getByRole("button", { name: "Clear" }));
    expect(screen.getByTestId("search")).toBeEmptyDOMElement();
    expect(screen.getByLabelText("From")).toHaveValue("");
  });
});
