/**
 * Searches with raw results, on top of ldapts.
 *
 * ldapts's own search() turns entries into plain objects in which an
 * attribute the server did not send and one it sent without values look the
 * same, and decodes values it cannot read as UTF-8 silently. DirSync needs the
 * difference (a cleared attribute arrives with no values) and bad input must
 * be reported, so these functions send ldapts's SearchRequest themselves and
 * keep every attribute as the server sent it: its type and its values' bytes.
 * Entries arrive as their BER and are read when their answer is complete
 * (entry-bytes.ts). They use three internals of ldapts (pinned in
 * package.json): _ensureConnected, _nextMessageId and _send.
 * test/ad/raw-search.test.ts guards them.
 */
import { Client, Control, FilterParser, PagedResultsControl, SearchRequest, StatusCodeParser, type Filter } from 'ldapts';
import { keepEntryBytes, readEntry, type EntryBytes, type RawEntry } from './entry-bytes.ts';

export type { RawAttribute, RawEntry } from './entry-bytes.ts';

export interface SearchSpec {
  base: string;
  scope: 'base' | 'one' | 'sub';
  filter: string | Filter;
  attributes: string[];
  sizeLimit?: number;
}

interface ClientInternals {
  _ensureConnected(): Promise<void>;
  _nextMessageId(): number;
  _send(message: SearchRequest): Promise<RawResponse | undefined>;
}
interface RawResponse {
  status: number;
  errorMessage: string;
  matchedDN: string;
  controls?: Control[];
  searchEntries: EntryBytes[];
  searchReferences: { uris: string[] }[];
}

export const internals = (client: Client): ClientInternals => client as unknown as ClientInternals;

export function searchRequest(spec: SearchSpec, controls: Control[]): SearchRequest {
  return new SearchRequest({
    messageId: -1,
    baseDN: spec.base,
    scope: spec.scope,
    filter: typeof spec.filter === 'string' ? FilterParser.parseString(spec.filter) : spec.filter,
    attributes: spec.attributes,
    sizeLimit: spec.sizeLimit ?? 0,
    // No server-side time limit: the client's operation timeout bounds each round trip.
    timeLimit: 0,
    controls,
  });
}

/**
 * One search round trip, its entries as the BER the DC sent (readEntry reads
 * one). Request controls that the server answers (DirSync) hold the answer
 * afterwards.
 */
export async function searchOnceBytes(client: Client, spec: SearchSpec, controls: Control[] = []): Promise<{ entries: Buffer[]; referrals: string[]; controls: Control[] }> {
  const c = internals(client);
  await c._ensureConnected();
  const request = searchRequest(spec, controls);
  request.messageId = c._nextMessageId();
  keepEntryBytes(request);
  const response = await c._send(request);
  if (!response || response.status !== 0) throw StatusCodeParser.parse(response as never);
  return {
    entries: response.searchEntries.map((e) => e.bytes),
    referrals: response.searchReferences.flatMap((r) => r.uris),
    controls: response.controls ?? [],
  };
}

/** One search round trip, its entries read. */
export async function searchOnce(client: Client, spec: SearchSpec, controls: Control[] = []): Promise<{ entries: RawEntry[]; referrals: string[]; controls: Control[] }> {
  const answer = await searchOnceBytes(client, spec, controls);
  return { ...answer, entries: answer.entries.map(readEntry) };
}

/**
 * A paged search (RFC 2696), one page at a time, each entry as its BER:
 * the caller reads the entries one by one as it stores them, so a page's
 * parsed values never all exist at once. The next page is asked for as soon
 * as the current one arrives, so the DC reads it while the caller stores
 * this one; at most one page waits in memory.
 */
export async function* searchPages(client: Client, spec: SearchSpec, pageSize: number, controls: Control[] = []): AsyncGenerator<Buffer[]> {
  type Page = Awaited<ReturnType<typeof searchOnceBytes>>;
  const request = (cookie?: Buffer): Promise<Page> => searchOnceBytes(client, spec, [...controls, new PagedResultsControl({ critical: true, value: { size: pageSize, ...(cookie ? { cookie } : {}) } })]);
  let pending: Promise<Page> | null = request();
  try {
    while (pending) {
      const result: Page = await pending;
      const answer = result.controls.find((ctl): ctl is PagedResultsControl => ctl instanceof PagedResultsControl);
      const cookie: Buffer | undefined = answer?.value?.cookie;
      pending = cookie?.length ? request(cookie) : null;
      yield result.entries;
    }
  } finally {
    // The caller stopped early (an error, a break): the prefetched page is not wanted; its failure must not go unhandled.
    pending?.catch(() => {});
  }
}
