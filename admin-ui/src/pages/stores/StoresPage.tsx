import { PlaceholderPage } from "../../components/PlaceholderPage";

export function StoresPage() {
  return <PlaceholderPage title="Stores" />;
}
