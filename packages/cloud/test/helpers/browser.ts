import { request } from 'node:https';
import { CookieJar } from 'tough-cookie';

export interface Page { status: number; url: string; location: string | null; text: string; headers: Record<string, string | string[] | undefined> }

/**
 * A minimal browser for sign-in flows over HTTPS: a real cookie jar
 * (tough-cookie: paths, expiry, Secure), redirects followed by hand until
 * they leave for an application's redirect URI (which is never fetched),
 * and HTML forms submitted as a browser would. `localAddress` picks the
 * loopback source address, so tests can sign in "from elsewhere".
 */
export class TestBrowser {
  readonly jar = new CookieJar();
  readonly #ca: string;
  readonly #localAddress: string | undefined;
  readonly #stopAt: (url: URL) => boolean;

  constructor(o: { ca: string; localAddress?: string; stopAt: (url: URL) => boolean }) {
    this.#ca = o.ca;
    this.#localAddress = o.localAddress;
    this.#stopAt = o.stopAt;
  }

  async fetch(url: string, o: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url);
    const cookie = await this.jar.getCookieString(url);
    const body = o.form ? new URLSearchParams(o.form).toString() : undefined;
    const headers: Record<string, string> = { 'user-agent': 'skybridge-test-browser', accept: 'text/html', ...(cookie ? { cookie } : {}) };
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await new Promise<Page>((resolve, reject) => {
      const req = request(target, { method: o.method ?? (body ? 'POST' : 'GET'), headers, ca: this.#ca, ...(this.#localAddress ? { localAddress: this.#localAddress } : {}) }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, url, location: r.headers.location ? new URL(r.headers.location, url).toString() : null, text: Buffer.concat(chunks).toString('utf8'), headers: r.headers }));
        r.on('error', reject);
      });
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) await this.jar.setCookie(c, url);
    return res;
  }

  /** GET (or POST a form), then follow redirects: ends on a page, or at the application's redirect URI (not fetched). */
  async go(url: string, form?: Record<string, string>): Promise<Page> {
    let page = await this.fetch(url, form ? { form } : {});
    for (let hops = 0; page.location && hops < 20; hops++) {
      if (this.#stopAt(new URL(page.location))) return { ...page, url: page.location };
      page = await this.fetch(page.location);
    }
    return page;
  }

  /** Submits the page's form (its action and hidden fields) with these fields; `formId` picks one by id. */
  submit(page: Page, fields: Record<string, string>, formId?: string): Promise<Page> {
    const forms = [...page.text.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
    const chosen = forms.find((f) => !formId || new RegExp(`id="${formId.replace(/\./g, '\\.')}"`).test(f[1]!));
    if (!chosen) throw new Error(`no form${formId ? ` ${formId}` : ''} on ${page.url}: ${page.text.slice(0, 300)}`);
    const action = /action="([^"]*)"/.exec(chosen[1]!)?.[1]?.replace(/&amp;/g, '&') ?? page.url;
    // what the form already holds (hidden fields, prefilled values), as a browser sends it
    const current = Object.fromEntries([...chosen[2]!.matchAll(/<input\b[^>]*\bname="([^"]*)"[^>]*>/g)]
      .filter((m) => /\bvalue="/.test(m[0]))
      .map((m) => [m[1]!, (/\bvalue="([^"]*)"/.exec(m[0])![1]!).replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')]));
    return this.go(new URL(action, page.url).toString(), { ...current, ...fields });
  }
}
