import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode, type Ref } from 'react';
import { api } from '../../api/client.ts';
import { isApiError, useAction, useApi } from '../../api/use-api.ts';
import { hasRole, useMe } from '../../app/me.tsx';
import { withAdvice } from '../../components/advice.ts';
import { ErrorNotice, Notice, Progress } from '../../components/feedback.tsx';
import {
  licenceAdminNote, licenceAdminRoles, licenceAdvice, seatsLeft, usageLocationPattern, type GroupLicences, type Subscription, type UserLicences,
} from './licence-types.ts';

export interface AssignLicenceUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  usageLocation: string | null;
}

const userApi = (id: string) => `/users/${encodeURIComponent(id)}`;

/**
 * Assigns a licence to one user directly: the subscriptions with a free seat
 * (or one the user already holds through a group, which takes no new seat)
 * as radio buttons, the usage location when the user has none (saved on the
 * user first: PATCH /users/:id), and the assignment (POST /users/:id/licenses).
 * Used by the user's page and by the Licences page's assign dialog.
 */
export function AssignLicence({ user, onAssigned, initialSkuId, heading = 'Assign a licence' }: {
  user: AssignLicenceUser;
  onAssigned: () => void;
  /** the licence chosen when the form opens, when it can be assigned */
  initialSkuId?: string;
  /** an h3 above the form; null for none (inside a dialog that has its own) */
  heading?: string | null;
}) {
  const me = useMe();
  const canAssign = hasRole(me, ...licenceAdminRoles);
  const id = useId();
  const who = user.displayName || user.userPrincipalName || 'The user';
  const state = useApi(async (signal) => {
    const [subscriptions, held] = await Promise.all([
      api.get<{ items: Subscription[] }>('/subscriptions', undefined, signal),
      api.get<UserLicences>(`${userApi(user.id)}/licenses`, undefined, signal),
    ]);
    return { subscriptions: subscriptions.items, held };
  }, [user.id]);
  const [skuId, setSkuId] = useState(initialSkuId ?? '');
  const [location, setLocation] = useState('');
  const [savedLocation, setSavedLocation] = useState<string | null>(null);
  const [askLocation, setAskLocation] = useState(false);
  const [problem, setProblem] = useState<{ field: 'sku' | 'location'; text: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const doneRef = useRef<HTMLDivElement>(null);
  const firstRadio = useRef<HTMLInputElement>(null);
  const locationInput = useRef<HTMLInputElement>(null);

  const assign = useAction(async (sku: Subscription, newLocation: string | null) => {
    if (newLocation) {
      await api.send('PATCH', userApi(user.id), { usageLocation: newLocation });
      setSavedLocation(newLocation);
      setAskLocation(false);
    }
    await api.send<UserLicences>('POST', `${userApi(user.id)}/licenses`, { skuId: sku.skuId });
    return sku;
  });
  // the cloud knows better than the page: a user without usage location after all gets the field
  useEffect(() => { if (isApiError(assign.error, 'usage_location_required')) setAskLocation(true); }, [assign.error]);
  useEffect(() => { if (done) doneRef.current?.focus(); }, [done]);

  if (!canAssign) return <Notice title="Read-only"><p>{licenceAdminNote}</p></Notice>;

  const knownLocation = savedLocation ?? (state.data ? state.data.held.usageLocation : user.usageLocation);
  const needsLocation = askLocation || !knownLocation;
  const subscriptions = state.data?.subscriptions ?? [];
  const heldBySku = new Map((state.data?.held.licences ?? []).map((l) => [l.skuId, l]));
  const throughGroupOnly = (s: Subscription) => { const h = heldBySku.get(s.skuId); return Boolean(h && !h.assignedDirectly && h.viaGroups.length); };
  const assignable = subscriptions.filter((s) => !heldBySku.get(s.skuId)?.assignedDirectly && (s.available > 0 || throughGroupOnly(s)));
  const others = subscriptions.filter((s) => !assignable.includes(s));
  const chosen = assignable.find((s) => s.skuId === skuId) ?? (assignable.length === 1 ? assignable[0] : undefined);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (assign.running) return;
    setDone(null);
    if (!chosen) {
      setProblem({ field: 'sku', text: 'Choose the licence to assign.' });
      firstRadio.current?.focus();
      return;
    }
    const code = location.trim().toUpperCase();
    if (needsLocation && !usageLocationPattern.test(code)) {
      setProblem({ field: 'location', text: `Enter ${who}'s usage location as a two-letter country code (ISO 3166), such as US, GB or FR.` });
      locationInput.current?.focus();
      return;
    }
    setProblem(null);
    const sku = await assign.run(chosen, needsLocation ? code : null);
    if (sku) {
      setDone(`${who} now holds ${sku.displayName}.`);
      setSkuId('');
      state.reload();
      onAssigned();
    }
  };

  const error = problem ? new Error(problem.text) : withAdvice(assign.error, licenceAdvice);

  let body: ReactNode = null;
  if (state.data && subscriptions.length === 0) {
    body = <p>This organisation has no subscription yet: your Skybridge deployment's operator adds them.</p>;
  } else if (state.data && assignable.length === 0) {
    body = (
      <Notice kind="warning" title="No licence can be assigned">
        <p>{others.map((s) => `${s.displayName}: ${heldBySku.get(s.skuId)?.assignedDirectly ? `${who} already holds it` : 'no free seat'}`).join('. ')}.</p>
        <p>Free seats are added by your Skybridge deployment's operator; or remove the licence from someone who no longer needs it.</p>
      </Notice>
    );
  } else if (state.data) {
    body = (
      <form onSubmit={submit} noValidate>
        <SkuChoice
          name={`${id}-sku`}
          legend="Licence"
          subscriptions={assignable}
          chosen={chosen?.skuId ?? ''}
          onChoose={(v) => { setSkuId(v); if (problem?.field === 'sku') setProblem(null); }}
          firstRef={firstRadio}
          detail={(s) => (throughGroupOnly(s) ? `${who} holds it through a group; assigning it directly takes no new seat` : seatsLeft(s))}
        />
        {others.length ? (
          <p className="hint">Not listed: {others.map((s) => `${s.displayName} (${heldBySku.get(s.skuId)?.assignedDirectly ? 'already assigned directly' : 'no free seat'})`).join(', ')}.</p>
        ) : null}
        {needsLocation ? (
          <>
            <label htmlFor={`${id}-location`}>Usage location</label>
            <input
              ref={locationInput}
              id={`${id}-location`}
              type="text"
              className="dl-input-short"
              autoComplete="off"
              autoCapitalize="characters"
              spellCheck={false}
              maxLength={2}
              required
              value={location}
              onChange={(e) => { setLocation(e.target.value.toUpperCase()); if (problem?.field === 'location') setProblem(null); }}
              aria-invalid={problem?.field === 'location' ? true : undefined}
              aria-describedby={`${id}-location-hint`}
            />
            <p id={`${id}-location-hint`} className="hint">
              {who} has no usage location, which a licence needs: the country where they use the services, as a two-letter code such as US, GB or FR. It is saved on the user.
            </p>
          </>
        ) : <p className="hint">Usage location: {knownLocation}</p>}
        <ErrorNotice error={error} title={problem ? 'Check the form' : 'The licence was not assigned'} />
        {assign.running ? <Progress label={needsLocation ? `Setting the usage location and assigning ${chosen?.displayName ?? 'the licence'}…` : `Assigning ${chosen?.displayName ?? 'the licence'}…`} /> : null}
        <div className="dl-actions">
          <button type="submit" className={`button button-primary${assign.running ? ' dl-busy' : ''}`} aria-disabled={assign.running || undefined}>Assign licence</button>
        </div>
      </form>
    );
  }

  return (
    <div className="dl-assign">
      {heading ? <h3>{heading}</h3> : null}
      <ErrorNotice error={withAdvice(state.error, 'Reload the page to try again.')} title="The licences could not be read" />
      {state.loading && !state.data ? <Progress label="Loading the subscriptions…" /> : null}
      {done ? (
        <div ref={doneRef} tabIndex={-1} className="dl-focus">
          <Notice kind="success" title="Licence assigned"><p>{done}</p></Notice>
        </div>
      ) : null}
      {body}
    </div>
  );
}

/**
 * One radio button of a choice: its name is the label alone (a product, a
 * user's name), and the detail line (seats, user name, usage location) is
 * its description, so that each option is found by its plain name.
 */
export function Choice({ name, value, checked, onChange, label, detail, inputRef, autoFocus }: {
  name: string;
  value: string;
  checked: boolean;
  onChange: () => void;
  label: string;
  detail?: string;
  inputRef?: Ref<HTMLInputElement>;
  /** focused when the dialog around it opens (ModalDialog's data-autofocus) */
  autoFocus?: boolean;
}) {
  const id = useId();
  return (
    <div className="option dl-option-top">
      <input
        ref={inputRef}
        id={id}
        type="radio"
        name={name}
        value={value}
        checked={checked}
        onChange={onChange}
        aria-describedby={detail ? `${id}-detail` : undefined}
        data-autofocus={autoFocus ? true : undefined}
      />
      <span className="dl-option-text">
        <label htmlFor={id}>{label}</label>
        {detail ? <span id={`${id}-detail`} className="dl-option-detail">{detail}</span> : null}
      </span>
    </div>
  );
}

/** The licences to choose from, as radio buttons: the product's name, and a line about seats and service plans. */
export function SkuChoice({ name, legend, subscriptions, chosen, onChoose, detail, firstRef }: {
  name: string;
  legend: string;
  subscriptions: Subscription[];
  chosen: string;
  onChoose: (skuId: string) => void;
  detail: (s: Subscription) => string;
  firstRef?: Ref<HTMLInputElement>;
}) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {subscriptions.map((s, i) => (
        <Choice
          key={s.skuId}
          name={name}
          value={s.skuId}
          checked={chosen === s.skuId}
          onChange={() => onChoose(s.skuId)}
          label={s.displayName}
          detail={`${detail(s)}${s.servicePlans.length ? ` · service plans ${s.servicePlans.join(', ')}` : ''}`}
          {...(i === 0 && firstRef ? { inputRef: firstRef } : {})}
        />
      ))}
    </fieldset>
  );
}

/**
 * Assigns a licence to a group (POST /groups/:id/licenses): its user members
 * hold it while they are members; those without usage location or seat are
 * counted in the answer, and listed with the licence's holders.
 */
export function AssignGroupLicence({ group, onAssigned, initialSkuId }: {
  group: { id: string; displayName: string };
  onAssigned: () => void;
  initialSkuId?: string;
}) {
  const id = useId();
  const groupApi = `/groups/${encodeURIComponent(group.id)}/licenses`;
  const state = useApi(async (signal) => {
    const [subscriptions, held] = await Promise.all([
      api.get<{ items: Subscription[] }>('/subscriptions', undefined, signal),
      api.get<GroupLicences>(groupApi, undefined, signal),
    ]);
    return { subscriptions: subscriptions.items, held: new Set(held.items.map((l) => l.skuId)) };
  }, [group.id]);
  const [skuId, setSkuId] = useState(initialSkuId ?? '');
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<{ title: string; text: string; warn: boolean } | null>(null);
  const doneRef = useRef<HTMLDivElement>(null);
  const firstRadio = useRef<HTMLInputElement>(null);
  const assign = useAction(async (sku: Subscription) => ({ sku, answer: await api.send<GroupLicences>('POST', groupApi, { skuId: sku.skuId }) }));
  useEffect(() => { if (done) doneRef.current?.focus(); }, [done]);

  const subscriptions = state.data?.subscriptions ?? [];
  const assignable = subscriptions.filter((s) => !state.data?.held.has(s.skuId));
  const chosen = assignable.find((s) => s.skuId === skuId) ?? (assignable.length === 1 ? assignable[0] : undefined);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (assign.running) return;
    setDone(null);
    if (!chosen) {
      setProblem('Choose the licence to assign.');
      firstRadio.current?.focus();
      return;
    }
    setProblem(null);
    const result = await assign.run(chosen);
    if (!result) return;
    const line = result.answer.items.find((l) => l.skuId === result.sku.skuId);
    const holders = line?.assignedUsers ?? 0;
    const missing = line?.errors.usageLocationMissing ?? 0;
    const noSeats = line?.errors.noSeats ?? 0;
    const parts = [`${holders} member${holders === 1 ? '' : 's'} hold${holders === 1 ? 's' : ''} it through the group.`];
    if (missing) parts.push(`${missing} member${missing === 1 ? ' has' : 's have'} no usage location: set it on ${missing === 1 ? 'that user' : 'each of them'} (they are listed with the licence's holders) and the licence follows.`);
    if (noSeats) parts.push(`${noSeats} member${noSeats === 1 ? ' waits' : 's wait'} for a free seat: they get it as soon as one is free (seats are added by your Skybridge deployment's operator).`);
    setDone({ title: `${group.displayName} now has ${result.sku.displayName}`, text: parts.join(' '), warn: Boolean(missing || noSeats) });
    setSkuId('');
    state.reload();
    onAssigned();
  };

  return (
    <div className="dl-assign">
      <h3>Licence for {group.displayName}</h3>
      <ErrorNotice error={withAdvice(state.error, 'Reload the page to try again.')} title="The licences could not be read" />
      {state.loading && !state.data ? <Progress label="Loading the subscriptions…" /> : null}
      {done ? (
        <div ref={doneRef} tabIndex={-1} className="dl-focus">
          <Notice kind={done.warn ? 'warning' : 'success'} title={done.title}><p>{done.text}</p></Notice>
        </div>
      ) : null}
      {state.data && subscriptions.length === 0 ? <p>This organisation has no subscription yet: your Skybridge deployment's operator adds them.</p> : null}
      {state.data && subscriptions.length > 0 && assignable.length === 0 ? <p>{group.displayName} already has every licence of this organisation.</p> : null}
      {state.data && assignable.length > 0 ? (
        <form onSubmit={submit} noValidate>
          <p className="hint">Every user member of the group gets the licence and holds it while a member; each takes a seat (one per user, however many groups give it).</p>
          <SkuChoice
            name={`${id}-sku`}
            legend="Licence"
            subscriptions={assignable}
            chosen={chosen?.skuId ?? ''}
            onChoose={(v) => { setSkuId(v); setProblem(null); }}
            firstRef={firstRadio}
            detail={seatsLeft}
          />
          <ErrorNotice error={problem ? new Error(problem) : withAdvice(assign.error, licenceAdvice)} title={problem ? 'Check the form' : 'The licence was not assigned'} />
          {assign.running ? <Progress label={`Assigning ${chosen?.displayName ?? 'the licence'} to ${group.displayName} and its members…`} /> : null}
          <div className="dl-actions">
            <button type="submit" className={`button button-primary${assign.running ? ' dl-busy' : ''}`} aria-disabled={assign.running || undefined}>Assign licence</button>
          </div>
        </form>
      ) : null}
    </div>
  );
}
