import { type FormEvent, useState } from "react";
import { useSearchParams } from "react-router-dom";

/** Filters whose every field is a string, kept under the same name in the address bar. */
export type FilterValues<T> = Record<keyof T, string>;

/** The filters read from the address bar; a missing parameter reads as "". */
export function readFilters<T extends FilterValues<T>>(params: URLSearchParams, keys: readonly (keyof T & string)[]): T {
  const values = {} as Record<string, string>;
  for (const key of keys) values[key] = params.get(key) ?? "";
  return values as T;
}

/** The address-bar parameters for the filters: trimmed, and only the ones that are set. */
export function filtersToParams<T extends FilterValues<T>>(values: T, keys: readonly (keyof T & string)[]): URLSearchParams {
  const next = new URLSearchParams();
  for (const key of keys) if (values[key]!.trim()) next.set(key, values[key]!.trim());
  return next;
}

export interface UrlFilters<T extends FilterValues<T>> {
  /** The filters in force, read from the address bar. */
  applied: T;
  /** What the filter form shows (not applied until submitted). */
  form: T;
  setForm: (values: T) => void;
  /** Changes one field of the form. */
  set: (key: keyof T & string, value: string) => void;
  /** Puts `values` in the address bar (replacing every filter parameter). */
  apply: (values: T) => void;
  /** The form's submit handler: applies what the form shows. */
  handleSubmit: (event: FormEvent<HTMLFormElement>) => void;
  /** Empties the form and the filters. */
  clear: () => void;
}

/**
 * A filter form whose applied values live in the URL search params: the form starts from the address bar,
 * "Apply" writes the (trimmed, non-empty) fields back, "Clear" empties both.
 */
export function useUrlFilters<T extends FilterValues<T>>(
  keys: readonly (keyof T & string)[],
  empty: T,
  options: { onApply?: () => void } = {},
): UrlFilters<T> {
  const [params, setParams] = useSearchParams();
  const applied = readFilters<T>(params, keys);
  const [form, setForm] = useState<T>(applied);

  const set = (key: keyof T & string, value: string) => setForm((old) => ({ ...old, [key]: value }));

  const apply = (values: T) => {
    setParams(filtersToParams(values, keys));
    options.onApply?.();
  };

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    apply(form);
  };

  const clear = () => {
    setForm(empty);
    apply(empty);
  };

  return { applied, form, setForm, set, apply, handleSubmit, clear };
}
