// The services' one error type: a stable code from contracts/ plus details. The BFF maps it to
// problem+json; activities map it to ApplicationFailure with type = code.
import type { ErrorCode, ExtensionsArgument, ProblemExtensions } from '../../contracts/errors.ts';

class DomainErrorClass extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: object = {},
  ) {
    super(message);
  }
}

/** A refusal with a stable code; `details` are the extension members contracts/errors.ts declares for it. */
export type DomainError<C extends ErrorCode = ErrorCode> = DomainErrorClass & {
  readonly code: C;
  readonly details: ProblemExtensions<C>;
};

/**
 * Typed by the code it is given (the extensions it requires, and no others); `instanceof` narrows to
 * a DomainError of any code, as for the built-in Error.
 */
export const DomainError = DomainErrorClass as {
  new <C extends ErrorCode>(code: C, message: string, ...[details]: ExtensionsArgument<C>): DomainError<C>;
  readonly prototype: DomainError;
};

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
