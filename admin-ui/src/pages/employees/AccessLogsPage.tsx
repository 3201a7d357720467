import { Text } from "@mantine/core";
import { PageHeader } from "../../components/PageHeader";
import { AuditLogView } from "../reports/AuditLogView";

export function AccessLogsPage() {
  return (
    <>
      <PageHeader title="Access logs" />
      <Text size="sm" c="dimmed" mb="md">
        Sign-ins of employees and devices, including refused attempts.
      </Text>
      <AuditLogView source="/v1/access_logs" fullFilters={false} />
    </>
  );
}
