import { describe, expect, it } from "vitest";
import { ApiError } from "./api/client";
import { shouldRetry } from "./queryClient";

describe("shouldRetry", () => {
  it("never retries client errors", () => {
    expect(shouldRetry(0, new ApiError("E_UNAUTHENTICATED", "Sign in", { status: 401 }))).toBe(false);
    expect(shouldRetry(0, new ApiError("E_PERMISSION", "No", { status: 403 }))).toBe(false);
  });

  it("retries server and network errors a limited number of times", () => {
    const serverError = new ApiError("E_INTERNAL", "Oops", { status: 500 });
    expect(shouldRetry(0, serverError)).toBe(true);
    expect(shouldRetry(2, serverError)).toBe(false);
    expect(shouldRetry(0, new ApiError("E_NETWORK", "Offline"))).toBe(true);
  });
});
