import { type ReactElement, useState } from "react";
import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { SESSION_QUERY_KEY, type SessionInfo } from "../api/session";
import { createQueryClient } from "../queryClient";
import { OWNER_SESSION, makeDevice, makeEffective, makeEmployee, makeStore } from "../test/fixtures";
import { envelope, mockFetch, page, renderWithProviders } from "../test/render";
import { DevicePicker, EmployeePicker, PaymentTypePicker, ReasonPicker, StorePicker, ZonePicker, useNames } from "./pickers";

function renderAs(ui: ReactElement, session: SessionInfo = OWNER_SESSION) {
  const queryClient = createQueryClient();
  queryClient.setQueryData(SESSION_QUERY_KEY, session);
  return renderWithProviders(ui, { queryClient });
}

function Harness({ initial = {} as Record<string, string> }) {
  const [values, setValues] = useState<Record<string, string>>(initial);
  const bind = (key: string) => ({ value: values[key] ?? "", onChange: (v: string) => setValues({ ...values, [key]: v }) });
  return (
    <>
      <StorePicker {...bind("store")} />
      <DevicePicker {...bind("device")} storeId={values.store || undefined} />
      <EmployeePicker {...bind("employee")} />
      <ZonePicker {...bind("zone")} />
      <PaymentTypePicker {...bind("payment")} />
      <ReasonPicker {...bind("reason")} use="refund" />
      <output data-testid="values">{JSON.stringify(values)}</output>
    </>
  );
}

const ROUTES = [
  {
    method: "GET",
    path: "/v1/stores",
    status: 200,
    body: page([makeStore(), makeStore({ store_id: "st_2", name: "Kids Zone Rama 9" })]),
  },
  {
    method: "GET",
    path: "/v1/devices",
    status: 200,
    body: page([
      makeDevice(),
      makeDevice({ device_id: "dev_2", store_id: "st_2", name: "Rama 9 till" }),
      makeDevice({ device_id: "dev_admin", type: "ADMIN", name: "Back office" }),
    ]),
  },
  { method: "GET", path: "/v1/employees", status: 200, body: page([makeEmployee()]) },
  {
    method: "GET",
    path: "/v1/settings/effective",
    status: 200,
    body: envelope(
      makeEffective({
        payment_types: [
          { code: "cash", name: "Cash", enabled: true, fee_bp: 0, fee_satang: 0 },
          { code: "qr", name: "PromptPay", enabled: true, fee_bp: 0, fee_satang: 0 },
          { code: "card", name: "Card", enabled: true, fee_bp: 250, fee_satang: 0 },
          { code: "other", name: "Voucher", enabled: false, fee_bp: 0, fee_satang: 0 },
        ],
        reasons: [
          { code: "closure", label: "Park closed", applies_to: ["refund"], active: true },
          { code: "jam", label: "Printer jam", applies_to: ["reprint"], active: true },
          { code: "old", label: "Old reason", applies_to: ["refund"], active: false },
        ],
      }),
    ),
  },
];

async function pick(label: string, option: string) {
  fireEvent.click(screen.getByRole("textbox", { name: label }));
  fireEvent.click(await screen.findByRole("option", { name: option }));
}

describe("pickers", () => {
  it("offer names and hand back ids", async () => {
    mockFetch(ROUTES);
    renderAs(<Harness />);
    await pick("Store", "Kids Zone Rama 9");
    // Only the chosen store's devices, never the admin's own.
    fireEvent.click(screen.getByRole("textbox", { name: "Device" }));
    expect(await screen.findByRole("option", { name: "Rama 9 till (POS)" })).toBeInTheDocument();
    expect(screen.queryByRole("option", { name: /Front counter/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("option", { name: /Back office/ })).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("option", { name: "Rama 9 till (POS)" }));
    await pick("Employee", "Nok Cashier");
    await pick("Zone", "Toddler area");
    await pick("Payment type", "PromptPay");
    fireEvent.click(screen.getByRole("textbox", { name: "Reason" }));
    expect(await screen.findByRole("option", { name: "Old reason (retired)" })).toBeInTheDocument();
    expect(screen.queryByRole("option", { name: "Printer jam" })).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("option", { name: "Park closed" }));
    expect(JSON.parse(screen.getByTestId("values").textContent!)).toEqual({
      store: "st_2",
      device: "dev_2",
      employee: "emp_1",
      zone: "zone_kids",
      payment: "qr",
      reason: "closure",
    });
  });

  it("show an id they do not know as itself", async () => {
    mockFetch(ROUTES);
    renderAs(<Harness initial={{ device: "dev_gone", employee: "emp_1" }} />);
    await waitFor(() => expect(screen.getByRole("textbox", { name: "Employee" })).toHaveValue("Nok Cashier"));
    expect(screen.getByRole("textbox", { name: "Device" })).toHaveValue("dev_gone");
  });

  it("become ID fields where the role cannot list devices or employees, without asking", async () => {
    const requests = mockFetch(ROUTES);
    renderAs(<Harness />, { ...OWNER_SESSION, permissions: ["reports_view"] });
    fireEvent.change(screen.getByRole("textbox", { name: "Device ID" }), { target: { value: "dev_9" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Employee ID" }), { target: { value: "emp_9" } });
    expect(JSON.parse(screen.getByTestId("values").textContent!)).toEqual({ device: "dev_9", employee: "emp_9" });
    await pick("Store", "Jump Park Bangna");
    expect(requests.some((r) => r.path === "/v1/devices" || r.path === "/v1/employees")).toBe(false);
  });
});

function Names({ ids }: { ids: string[] }) {
  const names = useNames();
  return <p data-testid="names">{[names.store(ids[0]!), names.device(ids[1]!), names.employee(ids[2]!), names.zone(ids[3]!), names.paymentType(ids[4]!), names.reason(ids[5]!)].join("|")}</p>;
}

describe("useNames", () => {
  it("names ids from the same lists", async () => {
    mockFetch(ROUTES);
    renderAs(<Names ids={["st_2", "dev_1", "emp_1", "zone_jump", "qr", "closure"]} />);
    await waitFor(() =>
      expect(screen.getByTestId("names")).toHaveTextContent(
        "Kids Zone Rama 9|Front counter|Nok Cashier|Trampoline hall|PromptPay|Park closed",
      ),
    );
  });
});
