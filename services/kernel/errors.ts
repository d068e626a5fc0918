// The services' one error type: a stable code from contracts/ plus details. The BFF maps it to
// problem+json; activities map it to ApplicationFailure with type = code.
import type { ErrorCode } from '../../contracts/errors.ts';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The expected version did not match; `currentVersion` is what the caller should retry with. */
export function versionConflict(expectedVersion: number, currentVersion: number): DomainError {
  return new DomainError(
    'VERSION_CONFLICT',
    `expected version ${expectedVersion}, current version is ${currentVersion}`,
    {
      expectedVersion,
      currentVersion,
    },
  );
}
