import { useId, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { api } from '../../api/client.ts';
import { useAction, useApi } from '../../api/use-api.ts';
import { hasRole, useMe } from '../../app/me.tsx';
import { withAdvice } from '../../components/advice.ts';
import { DataTable } from '../../components/data-table.tsx';
import { Badge, ErrorNotice, Notice, Progress } from '../../components/feedback.tsx';
import { PageHeader, Section } from '../../components/page.tsx';
import { checkDomainName, domainAdminNote, domainAdminRoles, signInMethod, type Domain } from './domain-types.ts';

/** Where the detail page and the list hand each other news: a domain just added or removed. */
export interface DomainNews { added?: string; removed?: string }

const domainPath = (name: string) => `/domains/${encodeURIComponent(name)}`;

/** The organisation's domains: which are verified, the default and initial ones, how their users sign in; and adding one. */
export function DomainsPage() {
  const me = useMe();
  const canManage = hasRole(me, ...domainAdminRoles);
  const location = useLocation();
  const news = (location.state ?? null) as DomainNews | null;
  const domains = useApi((signal) => api.get<{ items: Domain[] }>('/domains', undefined, signal), []);
  const unverified = domains.data?.items.filter((d) => !d.isVerified).length ?? 0;

  return (
    <>
      <PageHeader
        title="Domains"
        description="The domain names your organisation's users sign in and receive mail with. A domain is used only once it is verified: you prove you own it with a TXT record at its DNS host."
      />
      {news?.removed ? <Notice kind="success" title="Domain removed"><p>{news.removed} is no longer a domain of this organisation.</p></Notice> : null}
      {canManage ? null : <Notice title="Read-only"><p>{domainAdminNote}</p></Notice>}
      <Section title="Your domains">
        <ErrorNotice error={withAdvice(domains.error, 'Reload the page to try again.')} title="The domains could not be read" />
        {domains.loading && !domains.data ? <Progress label="Loading the domains…" /> : null}
        {domains.data ? (
          <>
            {unverified > 0 ? (
              <p className="hint">{unverified === 1 ? 'One domain is' : `${unverified} domains are`} not verified yet: open {unverified === 1 ? 'it' : 'each'} to see the TXT record to add.</p>
            ) : null}
            <DataTable
              caption="The organisation's domains"
              busy={domains.loading}
              columns={[
                { header: 'Domain name', primary: true, cell: (d) => <Link to={domainPath(d.name)}>{d.name}</Link> },
                { header: 'Status', cell: (d) => (d.isVerified ? <Badge tone="good">Verified</Badge> : <Badge tone="warn">Unverified</Badge>) },
                {
                  header: 'Default and initial',
                  cell: (d) => (d.isDefault || d.isInitial ? (
                    <span className="dl-badge-row">
                      {d.isDefault ? <Badge tone="info">Default</Badge> : null}
                      {d.isInitial ? <Badge>Initial</Badge> : null}
                    </span>
                  ) : '—'),
                },
                { header: 'Sign-in', cell: (d) => signInMethod(d) },
              ]}
              rows={domains.data.items}
              rowKey={(d) => d.name}
              empty="This organisation has no domain."
            />
          </>
        ) : null}
      </Section>
      {canManage ? <AddDomain /> : null}
    </>
  );
}

function AddDomain() {
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  const add = useAction((domain: string) => api.send<Domain>('POST', '/domains', { name: domain }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const checked = checkDomainName(name);
    if ('problem' in checked) {
      setProblem(checked.problem);
      input.current?.focus();
      return;
    }
    setProblem(null);
    const added = await add.run(checked.name);
    if (added) {
      navigate(domainPath(added.name), { state: { added: added.name } satisfies DomainNews });
    } else {
      input.current?.focus();
    }
  };

  const error = problem ? new Error(problem) : withAdvice(add.error, (e) => (
    e.code === 'already_exists' ? 'Open it in the list above to see its verification record.'
      : e.code === 'domain_taken' ? 'If your organisation owns it, ask the other organisation to remove it, then add it again.'
        : e.code === 'forbidden' ? 'Ask a Global Administrator to add it.'
          : undefined
  ));

  return (
    <Section title="Add a domain">
      <p>Add a domain your organisation owns, such as contoso.com. It is added unverified; the next page shows the TXT record to add at its DNS host to verify it.</p>
      <form onSubmit={submit} noValidate>
        <label htmlFor={`${id}-name`}>Domain name</label>
        <input
          ref={input}
          id={`${id}-name`}
          type="text"
          name="domain"
          inputMode="url"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={name}
          onChange={(e) => { setName(e.target.value); if (problem) setProblem(null); }}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
        />
        <p id={`${id}-hint`} className="hint">The name alone, without www or https://: contoso.com, or a subdomain such as sales.contoso.com.</p>
        <div id={`${id}-error`}>
          <ErrorNotice error={error} title={problem ? 'Check the domain name' : 'The domain was not added'} />
        </div>
        {add.running ? <Progress label={`Adding ${name.trim().toLowerCase()}…`} /> : null}
        <div className="dl-actions">
          <button type="submit" className="button button-primary" disabled={add.running}>Add domain</button>
        </div>
      </form>
    </Section>
  );
}
