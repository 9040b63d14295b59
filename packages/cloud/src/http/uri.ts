/**
 * decodeURIComponent for what a client sent (a path segment, a bulk path):
 * malformed percent-encoding answers null, for the caller to refuse as the
 * client's mistake, instead of a URIError that would surface as a 500.
 */
export function decodeUriComponentOrNull(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}
