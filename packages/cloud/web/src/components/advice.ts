import { ApiError } from '../api/client.ts';

/**
 * A message as a sentence: a capital first letter and a full stop (the
 * cloud's details are clauses). A first word that is a name (contoso.com,
 * ann@contoso.com, a code) keeps its case.
 */
export function sentence(text: string): string {
  const t = text.trim();
  const s = /^[a-z]+(?=[\s,:;]|$)/.test(t) ? t.charAt(0).toUpperCase() + t.slice(1) : t;
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/**
 * An error for ErrorNotice that says what to do: the cloud's detail as a
 * sentence, followed by this page's advice for its code (what to change on
 * this page); a network failure says to check the connection.
 */
export function withAdvice(error: Error | null, advice?: string | ((e: ApiError) => string | undefined)): Error | null {
  if (!error) return null;
  if (error instanceof ApiError) {
    const extra = typeof advice === 'function' ? advice(error) : advice;
    return new ApiError(error.status, error.code, `${sentence(error.message)}${extra ? ` ${extra}` : ''}`);
  }
  if (error instanceof TypeError) return new Error(`The cloud could not be reached (${error.message}). Check your connection, then try again.`);
  return error;
}
