import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { api } from '../../api/client.ts';
import { useAction, useApi } from '../../api/use-api.ts';
import { hasRole, useMe } from '../../app/me.tsx';
import { sentence, withAdvice } from '../../components/advice.ts';
import { CopyField } from '../../components/copy-field.tsx';
import { Badge, ErrorNotice, Notice, Progress, type BadgeTone } from '../../components/feedback.tsx';
import { formatDateTime } from '../../components/format.ts';
import { ModalDialog } from '../../components/modal-dialog.tsx';
import { Facts, PageHeader, Section } from '../../components/page.tsx';
import { domainAdminNote, domainAdminRoles, signInMethod, type Domain, type RecordCheck, type RecordStatus, type ServiceRecords } from './domain-types.ts';
import type { DomainNews } from './domains.tsx';

const domainApi = (name: string) => `/domains/${encodeURIComponent(name)}`;

/** One domain: verifying it (the TXT record), its DNS records checked live, the default domain, removing it. */
export function DomainDetailPage() {
  const { name = '' } = useParams();
  const me = useMe();
  const canManage = hasRole(me, ...domainAdminRoles);
  const location = useLocation();
  const news = (location.state ?? null) as DomainNews | null;
  const domain = useApi((signal) => api.get<Domain>(domainApi(name), undefined, signal), [name]);
  const [done, setDone] = useState<{ title: string; text: string } | null>(null);
  const doneRef = useRef<HTMLDivElement>(null);
  useEffect(() => setDone(null), [name]);
  // the control that was used (Verify, Set as default) is gone once it worked: the news takes focus
  useEffect(() => { if (done) doneRef.current?.focus(); }, [done]);

  const breadcrumb = <Link to="/domains">Domains</Link>;
  // while another domain's page loads, the previous domain is not shown as this one
  const d = domain.data && domain.data.name === name.toLowerCase().replace(/\.$/, '') ? domain.data : null;
  if (!d) {
    return (
      <>
        <PageHeader title={name} breadcrumb={breadcrumb} />
        <ErrorNotice
          error={withAdvice(domain.error, (e) => (e.code === 'not_found' ? 'Check the name in the list of domains, or add the domain there.' : 'Reload the page to try again.'))}
          title="The domain could not be read"
        />
        {domain.error ? <p><Link to="/domains">Back to the domains</Link></p> : null}
        {domain.loading ? <Progress label={`Loading ${name}…`} /> : null}
      </>
    );
  }

  return (
    <>
      <PageHeader
        title={d.name}
        breadcrumb={breadcrumb}
        description={d.isVerified
          ? 'A verified domain: its users can sign in with it once its DNS records below are set.'
          : 'Not verified yet: add the TXT record below at the domain\'s DNS host and verify the domain before using it.'}
      />
      {news?.added === d.name && !d.isVerified && !done ? (
        <Notice kind="success" title="Domain added"><p>{d.name} was added. Verify it now: the record to add is below.</p></Notice>
      ) : null}
      {news?.added === d.name && d.isVerified && !done ? (
        <Notice kind="success" title="Domain added and verified"><p>{d.name} is a subdomain of a domain your organisation already verified, so it is verified too.</p></Notice>
      ) : null}
      {done ? (
        <div ref={doneRef} tabIndex={-1} className="dl-focus">
          <Notice kind="success" title={done.title}><p>{done.text}</p></Notice>
        </div>
      ) : null}
      {canManage ? null : <Notice title="Read-only"><p>{domainAdminNote}</p></Notice>}
      <ErrorNotice error={withAdvice(domain.error, 'Reload the page to see the domain as it is now.')} title="The domain could not be read again" />

      <Section title="Overview">
        <Facts items={[
          ['Status', d.isVerified ? <Badge tone="good">Verified</Badge> : <Badge tone="warn">Unverified</Badge>],
          ['Default domain', d.isDefault ? 'Yes' : 'No'],
          ['Initial domain', d.isInitial ? 'Yes: given by Skybridge when the organisation was created' : 'No'],
          ['Sign-in', signInMethod(d)],
          ['Added', <time key="added" dateTime={d.createdDateTime}>{formatDateTime(d.createdDateTime)}</time>],
          ['Verified', d.verifiedDateTime ? <time key="verified" dateTime={d.verifiedDateTime}>{formatDateTime(d.verifiedDateTime)}</time> : d.isVerified ? 'Yes' : 'Not yet'],
          ...federationFacts(d),
        ]} />
      </Section>

      {!d.isVerified ? (
        <VerifySection
          domain={d}
          canManage={canManage}
          onChecked={domain.reload}
          onVerified={(restored) => {
            setDone({
              title: 'Domain verified',
              text: `${d.name} is verified.${restored ? ` ${restored} synchronized user${restored === 1 ? '' : 's'} waiting for it got ${restored === 1 ? 'its' : 'their'} user name on ${d.name} back.` : ''} Now set its DNS records below.`,
            });
            domain.reload();
          }}
        />
      ) : null}

      <DnsRecords domain={d} />

      <ManageSection
        domain={d}
        canManage={canManage}
        onDefault={() => {
          setDone({ title: 'Default domain changed', text: `${d.name} is now the default domain.` });
          domain.reload();
        }}
      />
    </>
  );
}

function federationFacts(d: Domain): [string, ReactNode][] {
  const f = d.federation;
  if (!f) return [];
  if (f.protocol === 'saml') {
    return [
      ['Identity provider (SAML issuer)', f.issuerUri],
      ['Sign-in address', f.passiveSignInUri],
      ['Signing certificate', f.signingCertificate ? `${f.signingCertificate.subject}, valid until ${formatDateTime(f.signingCertificate.notAfter)}` : 'unreadable: set it again'],
    ];
  }
  return [
    ['Identity provider (OpenID Connect issuer)', f.issuer],
    ['Client ID', f.clientId],
    ['Client secret', f.clientSecretSet ? 'Set' : 'Not set'],
  ];
}

function VerifySection({ domain: d, canManage, onChecked, onVerified }: {
  domain: Domain;
  canManage: boolean;
  onChecked: () => void;
  onVerified: (restoredUserPrincipalNames: number) => void;
}) {
  const verify = useAction(() => api.send<Domain & { restoredUserPrincipalNames: number }>('POST', `${domainApi(d.name)}/verify`));
  const txt = d.verificationRecords?.find((r) => r.type === 'TXT');
  const mx = d.verificationRecords?.find((r) => r.type === 'MX');
  const last = d.lastVerificationAttempt;
  const run = async () => {
    if (verify.running) return;
    const result = await verify.run();
    if (result) onVerified(result.restoredUserPrincipalNames);
    else onChecked(); // the failed attempt is kept on the domain (lastVerificationAttempt)
  };
  return (
    <Section title="Verify the domain">
      <p>Prove that your organisation owns {d.name}: add this TXT record at the DNS host where the domain's records are managed (your registrar or DNS provider), then choose Verify.</p>
      {txt ? (
        <ol className="steps">
          <li>Sign in to your DNS host and open the DNS records of <strong>{d.name}</strong>.</li>
          <li>
            Add a TXT record with these settings:
            <Facts items={[
              ['Type', 'TXT'],
              ['Name (host)', `${txt.name}: the domain itself, ${txt.fqdn}`],
              ['TTL', `${txt.ttl} seconds, or your host's default`],
            ]} />
            <CopyField label="TXT value" value={txt.value} />
          </li>
          <li>Save the record, then choose Verify. A new record can take up to an hour to be published; if it is not found yet, wait a few minutes and verify again.</li>
        </ol>
      ) : (
        <Notice kind="warning" title="No verification record"><p>The cloud gave no verification record for this domain. Reload the page; if it persists, remove the domain and add it again.</p></Notice>
      )}
      {mx ? (
        <details className="dl-details">
          <summary>Your DNS host cannot add TXT records?</summary>
          <p>Add this MX record instead ({mx.note ?? 'it only proves ownership'}):</p>
          <Facts items={[
            ['Type', 'MX'],
            ['Name (host)', `${mx.name}: the domain itself, ${mx.fqdn}`],
            ['Priority', mx.priority ?? '—'],
            ['TTL', `${mx.ttl} seconds`],
          ]} />
          <CopyField label="MX points to" value={mx.value} />
        </details>
      ) : null}
      {last && !last.found && !verify.error && !verify.running ? (
        <Notice kind="warning" title={`Last check, ${formatDateTime(last.at)}: the record was not found`}>
          <p>{sentence(last.detail)} Check the record at your DNS host, then verify again.</p>
        </Notice>
      ) : null}
      <ErrorNotice
        error={withAdvice(verify.error, (e) => (e.code === 'dns_lookup_failed' ? 'This is not about your record: the cloud could not ask DNS. Try again in a minute.' : undefined))}
        title={`${d.name} is not verified yet`}
      />
      {verify.running ? <Progress label={`Looking up the TXT record of ${d.name} in DNS…`} /> : null}
      {canManage ? (
        <div className="dl-actions">
          <button type="button" className={`button button-primary${verify.running ? ' dl-busy' : ''}`} aria-disabled={verify.running || undefined} onClick={() => void run()}>Verify</button>
        </div>
      ) : <p className="hint">Verifying needs the Global Administrator or Hybrid Identity Administrator role.</p>}
    </Section>
  );
}

const statusBadge: Record<RecordStatus, [BadgeTone, string]> = {
  ok: ['good', 'Correct'],
  missing: ['bad', 'Missing'],
  wrong_value: ['bad', 'Wrong value'],
  multiple_spf: ['bad', 'Several SPF records'],
  spf_missing_include: ['warn', 'SPF record incomplete'],
  conflicting_cname: ['bad', 'Points elsewhere'],
  conflicting_record: ['bad', 'Conflicting record'],
  lookup_failed: ['warn', 'Could not check'],
};

function DnsRecords({ domain: d }: { domain: Domain }) {
  const records = useApi(
    (signal) => (d.isVerified ? api.get<ServiceRecords>(`${domainApi(d.name)}/service-records`, undefined, signal) : Promise.resolve(null)),
    [d.name, d.isVerified],
  );
  const data = records.data;
  const wrong = data ? data.records.filter((r) => r.status !== 'ok').length : 0;
  const checkAgain = () => { if (!records.loading) records.reload(); };
  return (
    <Section
      title="DNS records"
      actions={d.isVerified ? (
        <button type="button" className={`button${records.loading ? ' dl-busy' : ''}`} aria-disabled={records.loading || undefined} onClick={checkAgain}>Check again</button>
      ) : null}
    >
      {!d.isVerified ? (
        <p>Once {d.name} is verified, this lists the DNS records it needs for mail, mail clients and device registration, and checks each at its DNS host.</p>
      ) : (
        <>
          <p>Set these records at the DNS host of {d.name} so that mail, mail clients and devices find the service. Each is checked live against DNS.</p>
          <ErrorNotice error={withAdvice(records.error, 'Choose Check again in a minute.')} title="The DNS records could not be checked" />
          {records.loading ? <Progress label={data ? 'Checking the DNS records again…' : `Checking the DNS records of ${d.name}…`} /> : null}
          {data && !records.loading ? (
            data.allOk ? (
              <Notice kind="success" title="Every record is set"><p>Checked {formatDateTime(data.checkedDateTime)}.</p></Notice>
            ) : (
              <Notice kind="warning" title={`${wrong} of ${data.records.length} records need a change`}>
                <p>Change them at your DNS host as each row says, wait for DNS to publish the change (up to the record's TTL), then choose Check again. Checked {formatDateTime(data.checkedDateTime)}.</p>
              </Notice>
            )
          ) : null}
          {data ? (
            data.records.length ? (
              <ul className="dl-records" aria-busy={records.loading || undefined}>
                {data.records.map((r) => <RecordCard key={`${r.type} ${r.fqdn}`} record={r} />)}
              </ul>
            ) : <p>The cloud lists no DNS record for this domain.</p>
          ) : null}
        </>
      )}
    </Section>
  );
}

/** One DNS record the service needs: what to set, what DNS answers now, its status and the fix. */
function RecordCard({ record: r }: { record: RecordCheck }) {
  const [tone, text] = statusBadge[r.status] ?? ['neutral', r.status];
  return (
    <li className={`dl-record dl-record-${tone}`}>
      <div className="dl-record-head">
        <h3>{r.purpose}</h3>
        <Badge tone={tone}>{text}</Badge>
      </div>
      {r.fix ? <p className="dl-record-fix">{sentence(r.fix)}</p> : null}
      <Facts items={[
        ['Type', r.type],
        ['Name', <><code>{r.fqdn}</code><span className="dl-note">Host at the DNS host: {r.name}</span></>],
        ...(r.priority !== undefined ? [['Priority', r.priority] as [string, ReactNode]] : []),
        ['TTL', `${r.ttl} seconds`],
        ['DNS answers now', r.found.length
          ? <ul className="dl-list">{r.found.map((f) => <li key={f}><code>{f}</code></li>)}</ul>
          : r.status === 'lookup_failed' ? 'No answer' : 'Nothing'],
      ]} />
      <CopyField label={`${r.purpose} value`} value={r.value} />
    </li>
  );
}

function ManageSection({ domain: d, canManage, onDefault }: { domain: Domain; canManage: boolean; onDefault: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const makeDefault = useAction(() => api.send<Domain>('PATCH', domainApi(d.name), { isDefault: true }));
  const setDefault = async () => {
    if (makeDefault.running) return;
    if (await makeDefault.run()) onDefault();
  };
  let defaultPart;
  if (d.isDefault) defaultPart = <p>{d.name} is the default domain.</p>;
  else if (!d.isVerified) defaultPart = <p>Verify the domain before making it the default.</p>;
  else if (d.authenticationType === 'federated') defaultPart = <p>A federated domain cannot be the default: its users sign in at their own identity provider. Make it managed first.</p>;
  else {
    defaultPart = (
      <>
        <p>One domain is the organisation's default. Setting {d.name} as the default replaces the current one.</p>
        <ErrorNotice error={withAdvice(makeDefault.error, 'Reload the page and try again.')} title="The default domain was not changed" />
        {makeDefault.running ? <Progress label={`Making ${d.name} the default domain…`} /> : null}
        {canManage ? (
          <button type="button" className={`button${makeDefault.running ? ' dl-busy' : ''}`} aria-disabled={makeDefault.running || undefined} onClick={() => void setDefault()}>Set as default</button>
        ) : null}
      </>
    );
  }

  let removePart;
  if (d.isInitial) removePart = <p>The initial domain cannot be removed: it is how administrators always reach the organisation.</p>;
  else if (d.isDefault) removePart = <p>The default domain cannot be removed: make another domain the default first.</p>;
  else {
    removePart = (
      <>
        <p>Removing works only when nothing uses the domain: no user name, mail or proxy address on it, and no synchronized user waiting for it. If something still does, the cloud says what.</p>
        {canManage ? <button type="button" className="button button-danger" onClick={() => setConfirming(true)}>Remove domain</button> : null}
      </>
    );
  }

  return (
    <Section title="Manage the domain">
      <h3>Default domain</h3>
      {defaultPart}
      <h3>Remove the domain</h3>
      {removePart}
      <ModalDialog open={confirming} title={`Remove ${d.name}?`} onClose={() => setConfirming(false)}>
        <RemoveDomain name={d.name} onCancel={() => setConfirming(false)} />
      </ModalDialog>
    </Section>
  );
}

/** The remove dialog's body: mounted each time the dialog opens, so an earlier attempt's error is not shown again. */
function RemoveDomain({ name, onCancel }: { name: string; onCancel: () => void }) {
  const navigate = useNavigate();
  // DELETE answers 204 (no body): true says it worked, null (useAction) that it failed
  const remove = useAction(async () => { await api.send('DELETE', domainApi(name)); return true as const; });
  const confirm = async () => {
    if (remove.running) return;
    if (await remove.run()) navigate('/domains', { state: { removed: name } satisfies DomainNews });
  };
  return (
    <>
      <p>{name} will no longer be a domain of this organisation. To use it again, you will have to add and verify it again.</p>
      <ErrorNotice
        error={withAdvice(remove.error, (e) => (e.code === 'domain_in_use' ? 'Change those users\' names and addresses to another domain (in Active Directory for synchronized users), then remove the domain again.' : undefined))}
        title="The domain was not removed"
      />
      {remove.running ? <Progress label={`Removing ${name}…`} /> : null}
      <div className="dialog-actions">
        <button type="button" className="button" data-autofocus onClick={onCancel}>Cancel</button>
        <button type="button" className={`button button-danger${remove.running ? ' dl-busy' : ''}`} aria-disabled={remove.running || undefined} onClick={() => void confirm()}>Remove</button>
      </div>
    </>
  );
}
