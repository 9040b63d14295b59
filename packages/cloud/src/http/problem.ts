import { errorCodes, problemType, type ErrorCode, type Problem } from '@skybridge/protocol';

/**
 * The one error class of the cloud. Its stable `code` picks the HTTP status
 * and becomes the `code` of the RFC 9457 problem+json body.
 */
export class SkybridgeError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: Problem['errors'];
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, detail: string, options: { errors?: Problem['errors']; extensions?: Record<string, unknown>; cause?: unknown } = {}) {
    super(detail, { cause: options.cause });
    this.name = 'SkybridgeError';
    this.code = code;
    this.status = errorCodes[code];
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
  }

  toProblem(instance?: string): Problem {
    return {
      type: problemType(this.code),
      title: titleOf(this.code),
      status: this.status,
      code: this.code,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extensions,
    };
  }
}

const titleOf = (code: ErrorCode): string => {
  const words = code.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export const notFound = (what: string): SkybridgeError => new SkybridgeError('not_found', `${what} was not found`);
