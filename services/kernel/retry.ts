// Bounded exponential backoff with full jitter, for retrying optimistic-concurrency conflicts.

export interface BackoffPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const CAS_RETRY: BackoffPolicy = { maxAttempts: 8, baseDelayMs: 5, maxDelayMs: 250 };

/** Delay before retry number `attempt` (1-based): random in [0, min(max, base · 2^(attempt-1))]. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Runs `operation` until it succeeds, `shouldRetry` says no, or the attempts run out (then the last error). */
export async function retryWithBackoff<T>(
  policy: BackoffPolicy,
  shouldRetry: (error: unknown) => boolean,
  operation: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts || !shouldRetry(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(policy, attempt)));
    }
  }
}
