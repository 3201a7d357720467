import { Navigate } from "react-router-dom";

/** The Integrations section opens on its main page, Webhooks. */
export function IntegrationsPage() {
  return <Navigate to="/integrations/webhooks" replace />;
}
