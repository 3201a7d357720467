import { TextInput, type TextInputProps } from "@mantine/core";
import { parseBahtToSatang, parsePercentToBp } from "../lib/money";

type FieldProps = Omit<TextInputProps, "value" | "onChange" | "error"> & {
  value: string;
  onChange: (value: string) => void;
  /** Shown instead of the format hint (e.g. "Enter a price"). */
  error?: string | null;
};

/**
 * An amount in baht, kept as the text the person typed (parse it with `parseBahtToSatang`).
 * Shows a hint while the text is not a valid amount with at most two decimals.
 */
export function MoneyInput({ value, onChange, error, ...props }: FieldProps) {
  const invalid = value.trim() !== "" && parseBahtToSatang(value) === null;
  return (
    <TextInput
      inputMode="decimal"
      autoComplete="off"
      leftSection="฿"
      placeholder="0.00"
      {...props}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value)}
      error={invalid ? "Enter an amount in baht, e.g. 1200.50" : error || undefined}
    />
  );
}

/** A percentage (up to two decimals), kept as text (parse it with `parsePercentToBp`). */
export function PercentInput({ value, onChange, error, ...props }: FieldProps) {
  const invalid = value.trim() !== "" && parsePercentToBp(value) === null;
  return (
    <TextInput
      inputMode="decimal"
      autoComplete="off"
      rightSection="%"
      placeholder="0"
      {...props}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value)}
      error={invalid ? "Enter a percentage from 0 to 100, e.g. 7.5" : error || undefined}
    />
  );
}
