import { PageHeader } from "../../components/PageHeader";
import { AuditLogView } from "./AuditLogView";

export function AuditLogPage() {
  return (
    <>
      <PageHeader title="Audit log" />
      <AuditLogView source="/v1/audits" fullFilters />
    </>
  );
}
