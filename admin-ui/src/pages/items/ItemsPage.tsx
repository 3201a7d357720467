import { PlaceholderPage } from "../../components/PlaceholderPage";

export function ItemsPage() {
  return <PlaceholderPage title="Items" />;
}
