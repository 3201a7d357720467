import { Card, Loader, Stack, Text, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useReceiptPreview } from "../../api/settings";
import type { PaperWidth } from "../../api/stores";
import { ErrorAlert } from "../../components/feedback";
import { ReceiptPaper, paperChars } from "../../components/ReceiptPaper";

export const PREVIEW_DEBOUNCE_MS = 300;

/**
 * The sample receipt the printer would print for `storeId` with the SAVED settings, as plain
 * monospace text on a paper-like strip. Follows the paper width chosen in the form (debounced).
 */
export function ReceiptPreviewPanel({
  storeId,
  storeName,
  paperWidth,
  unsaved,
}: {
  storeId: string | null;
  storeName: string | null;
  paperWidth: PaperWidth;
  unsaved: boolean;
}) {
  const [width] = useDebouncedValue(paperWidth, PREVIEW_DEBOUNCE_MS);
  const preview = useReceiptPreview(storeId, width);
  const chars = preview.data?.width_chars ?? paperChars(width);

  return (
    <Card withBorder padding="md" bg="gray.1" component="section" aria-labelledby="receipt-preview-title">
      <Stack gap="sm">
        <div>
          <Title order={3} size="h5" id="receipt-preview-title">
            Receipt preview
          </Title>
          <Text size="xs" c="dimmed">
            {storeName ? `A sample receipt for ${storeName}, as saved.` : "A sample receipt, as saved."}
            {unsaved ? " Save to see your changes." : ""}
          </Text>
        </div>
        {!storeId ? (
          <Text size="sm" c="dimmed">
            Add a store to see a preview.
          </Text>
        ) : (
          <>
            <ErrorAlert error={preview.error} title="Could not load the preview" />
            {preview.isPending ? (
              <Loader size="sm" aria-label="Loading the preview" />
            ) : preview.data ? (
              <ReceiptPaper
                text={preview.data.text}
                chars={chars}
                label="Receipt preview"
                testId="receipt-preview"
                dimmed={preview.isFetching}
              />
            ) : null}
            <Text size="xs" c="dimmed">
              {`${width} mm paper, ${chars} characters a line.`}
            </Text>
          </>
        )}
      </Stack>
    </Card>
  );
}
