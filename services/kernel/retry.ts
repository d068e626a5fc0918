// Bounded exponential backoff with full jitter, for retrying optimistic-concurrency conflicts.

export interface BackoffPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

// Sized for bursts: 40 writers on one counter on a loaded 2-core machine exhausted 8 attempts
// (CI, session 1). 16 attempts capped at 400 ms bound a request's retrying to about 4 s.
export const CAS_RETRY: BackoffPolicy = { maxAttempts: 16, baseDelayMs: 5, maxDelayMs: 400 };

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
