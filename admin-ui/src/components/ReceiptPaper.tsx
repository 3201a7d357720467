/**
 * A receipt as the printer prints it: plain monospace text on a paper-like strip `chars`
 * characters wide (32 on 58 mm paper, 48 on 80 mm).
 */
export function ReceiptPaper({
  text,
  chars,
  label,
  testId,
  dimmed = false,
}: {
  text: string;
  chars: number;
  label: string;
  testId?: string;
  /** Shown faded while a newer version loads. */
  dimmed?: boolean;
}) {
  return (
    <div style={{ overflowX: "auto", maxWidth: "100%" }}>
      <pre
        data-testid={testId}
        aria-label={label}
        style={{
          margin: "0 auto",
          width: `calc(${chars}ch + 24px)`,
          padding: "16px 12px 24px",
          background: "#fff",
          color: "#1a1a1a",
          fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
          // Shrinks on a phone so a whole line of the receipt fits on screen.
          fontSize: `min(12px, calc((100vw - 120px) / ${(chars * 0.6).toFixed(1)}))`,
          lineHeight: 1.4,
          whiteSpace: "pre",
          boxShadow: "0 1px 4px rgba(0, 0, 0, 0.2)",
          borderTop: "1px dashed #bbb",
          borderBottom: "1px dashed #bbb",
          opacity: dimmed ? 0.6 : 1,
        }}
      >
        {text}
      </pre>
    </div>
  );
}

/** Characters a line on each paper width, for before the server has said. */
export const paperChars = (paperWidth: 58 | 80) => (paperWidth === 58 ? 32 : 48);
