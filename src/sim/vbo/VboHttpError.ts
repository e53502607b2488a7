/**
 * A failure a handler turns into the version's error body. `errorCode` is one of the v8
 * `RESTExceptionInfo.errorCode` enum values (docs/veeam-wire.md Part 2 section 3); v7 prints it as
 * `null` unless it is one v7 knows, v1-v6 have no such field.
 */
export class VboHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode?: 'ResourceNotFound' | 'ParameterValidationFailure' | 'ResourceAccessDenied',
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'VboHttpError';
  }
}
