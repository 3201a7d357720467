import { PlaceholderPage } from "../../components/PlaceholderPage";

export function EmployeesPage() {
  return <PlaceholderPage title="Employees" />;
}
