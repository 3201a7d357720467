import { PlaceholderPage } from "../../components/PlaceholderPage";

export function ReportsPage() {
  return <PlaceholderPage title="Reports" />;
}
