import { PlaceholderPage } from "../../components/PlaceholderPage";

export function IntegrationsPage() {
  return <PlaceholderPage title="Integrations" />;
}
