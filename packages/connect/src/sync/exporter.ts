/**
 * Export: drains the outbox into sync batches, in order (objects, then
 * memberships, then deletions), under the tenant's lease.
 *
 * Each batch's Idempotency-Key is derived from the outbox items it carries
 * (ids never reused) and their content, so after a crash the same items make
 * the same batch with the same key, and the cloud answers with what it
 * already did instead of doing it twice. The results and the removal of the
 * items from the outbox are stored in one transaction. A refused object is
 * recorded with its category and retried next cycle; it never blocks the
 * others. A refused member change, or members the cloud did not hold,
 * leave their links to the next plan, which sends them as they are then
 * (ExportStore.holdMemberChanges, holdMembers). 429 and 5xx answers and
 * lost connections are retried with backoff (Retry-After honoured).
 */
import { createHash } from 'node:crypto';
import { memberNotFoundError, quarantineError, maxBatchOperations, type ObjectType, type SyncOperation, type SyncObjectResult } from '@skybridge/protocol';
import type { CloudClient } from '../cloud/cloud-client.ts';
import { CloudApiError } from '../cloud/http.ts';
import { ConnectError } from '../errors.ts';
import type { ConnectorSpace } from '../space/connector-space.ts';
import { phases, type ExportStore, type OutboxItem } from './export-store.ts';

/** Member values per batch, so that a batch stays well under the cloud's body limit. */
const memberValuesPerBatch = 20_000;

/**
 * Tuning knobs from the environment, for operators and tests:
 * SKYBRIDGE_SYNC_BATCH_OPERATIONS (1–500, default 500) and
 * SKYBRIDGE_SYNC_LEASE_SECONDS (10–900, default 45: a standby takes over within a minute of the active agent dying).
 */
function envInt(name: string, min: number, max: number, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConnectError('config_invalid', `${name} must be a whole number from ${min} to ${max} (got ${raw})`, { subject: name, fix: `unset it or give a value from ${min} to ${max}` });
  return n;
}

export interface ExportSummary {
  batches: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  memberChanges: number;
  errors: number;
  /** objects synced with a userPrincipalName or proxy address held back (another cloud object has it) */
  quarantined: number;
  retries: number;
}

export interface ExporterOptions {
  /** a sleep that tests can shorten */
  sleep?: (ms: number) => Promise<void>;
  maxAttempts?: number;
  onBatch?: (summary: ExportSummary) => void;
  /** queue exported users without mS-DS-ConsistencyGuid for stamping */
  stampConsistencyGuid?: boolean;
  /** leave planned deletions in the outbox (a round of an overlapped cycle: the delete threshold judges them all at the end) */
  holdDeletes?: boolean;
  /**
   * send only the items planned up to this outbox id: a round of an
   * overlapped cycle exports its own plan while the next round plans (whose
   * member changes name objects that only its own export sends first)
   */
  upTo?: number;
}

interface Prepared {
  item: OutboxItem;
  op: SyncOperation | null;
}

/** Batches of objects stored per transaction (2,000 objects). */
const batchesPerCommit = 4;

/**
 * What storing a sent item needs once its batch is answered. The item's
 * attributes are not kept: the batch's operations wait for the cloud as one
 * JSON string, and the attributes go from the outbox row to the exported
 * state inside SQLite (ExportStore.putFromOutbox). A batch waits for the
 * cloud, then for a few more to be stored together; parsed attributes kept
 * that long outlived the agent's young-generation collections (copied,
 * then promoted) by the thousand.
 */
interface Sent {
  id: number;
  phase: number;
  guid: string;
  body: { kind: 'upsert'; type: ObjectType; immutableId: string; hash: string; dn: string } | { kind: 'delete'; type: ObjectType; immutableId: string; dn: string }
    /** (members added by the operation; a member change naming no member tells the cloud that none is owed) */
    | { kind: 'members'; adds: number };
  /** whether the item went out as an operation (else nothing was sent for it) */
  sent: boolean;
  /** member values the operation added or removed */
  memberChanges: number;
}

/** What storing answered batches carries from one result to the next. */
interface StoreState {
  /** whether some object has a sync error (else none is cleared) */
  any: boolean;
  /** members the cloud did not hold, by GUID, with the DN of the group whose member change named them */
  lost: Map<string, string>;
}

/** A batch answered, its results not yet stored. */
interface Answered {
  sent: Sent[];
  results: SyncObjectResult[];
}

function sentOf(p: Prepared): Sent {
  const { item, op } = p;
  const b = item.body;
  const members = op?.op === 'upsert' ? op.members : undefined;
  const body: Sent['body'] = b.kind === 'upsert' ? { kind: 'upsert', type: b.type, immutableId: b.immutableId, hash: b.hash, dn: b.dn }
    : b.kind === 'delete' ? { kind: 'delete', type: b.type, immutableId: b.immutableId, dn: b.dn } : { kind: 'members', adds: members?.add?.length ?? 0 };
  return { id: item.id, phase: item.phase, guid: item.guid, body, sent: op !== null, memberChanges: (members?.add?.length ?? 0) + (members?.remove?.length ?? 0) };
}

/** A batch sent and not yet stored: its operations are one JSON string meanwhile. */
interface InFlight {
  sent: Sent[];
  results: Promise<SyncObjectResult[]>;
  guids: Set<string>;
}

export class Exporter {
  readonly #space: ConnectorSpace;
  readonly #store: ExportStore;
  readonly #cloud: CloudClient;
  readonly #options: ExporterOptions;
  #lease: { epoch: number; renewedAt: number } | null = null;
  readonly #batchOperations = envInt('SKYBRIDGE_SYNC_BATCH_OPERATIONS', 1, maxBatchOperations, maxBatchOperations);
  /** 45 s: a standby agent takes over within a minute of the active one dying; renewed every third of it while exporting */
  readonly #leaseSeconds = envInt('SKYBRIDGE_SYNC_LEASE_SECONDS', 10, 900, 45);

  constructor(space: ConnectorSpace, store: ExportStore, cloud: CloudClient, options: ExporterOptions = {}) {
    this.#space = space;
    this.#store = store;
    this.#cloud = cloud;
    this.#options = options;
  }

  /**
   * Sends the outbox, batch by batch. While the cloud applies one batch of
   * objects, the next is prepared and sent, so the agent's own work (reading
   * the outbox, encoding, storing results) overlaps the cloud's. Two batches
   * at most are in flight, and only when the second is also objects and names
   * none of the first's. Their results are stored in send order, up to four
   * batches to a transaction, so a crash leaves the outbox as if they had
   * gone one by one and the last few had not gone yet (the same items make
   * the same batches and keys again, and the cloud answers what it already
   * did). Memberships and deletions go one batch at a time, after everything
   * before them is stored: they name objects by the immutable ids the
   * batches before them confirmed.
   */
  async drain(): Promise<ExportSummary> {
    const summary: ExportSummary = { batches: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, memberChanges: 0, errors: 0, quarantined: 0, retries: 0 };
    let inFlight: InFlight | null = null;
    /** batches of objects answered and not yet stored: stored a few to a transaction */
    let answered: Answered[] = [];
    /** the last outbox item handed to a batch */
    let cursor: { phase: number; id: number } | undefined;
    const store = () => {
      const list = answered;
      answered = [];
      if (list.length) this.#storeAnswered(list, summary);
    };
    const settle = async (batch: InFlight) => {
      answered.push({ sent: batch.sent, results: await batch.results });
      if (answered.length >= batchesPerCommit) store();
    };
    try {
      // the lease first, even with nothing to send: a cycle against a tenant that refuses synchronization says so
      await this.#ensureLease();
      for (;;) {
        const items = this.#store.next(this.#batchOperations, {
          holdDeletes: this.#options.holdDeletes ?? false, ...(cursor ? { after: cursor } : {}), ...(this.#options.upTo === undefined ? {} : { upTo: this.#options.upTo }),
        });
        if (inFlight && (!items.length || items[0]!.phase !== phases.objects || items.some((i) => inFlight!.guids.has(i.guid)))) {
          // the end, another phase, or an object of the batch in flight: that batch first
          await settle(inFlight);
          inFlight = null;
          continue;
        }
        if (!items.length) break;
        // memberships and deletions name objects by the immutable ids the batches before them stored
        if (items[0]!.phase !== phases.objects) store();
        const prepared = this.#prepare(items);
        const batch = this.#dispatch(prepared, summary);
        const last = prepared.at(-1)!.item;
        cursor = { phase: last.phase, id: last.id };
        if (inFlight) await settle(inFlight);
        inFlight = batch;
        // only batches of objects overlap
        if (items[0]!.phase !== phases.objects) {
          await settle(inFlight);
          store();
          inFlight = null;
        }
      }
      store();
    } finally {
      // an error stops the export: what the cloud answered is stored (else the next cycle sends it again, and the
      // cloud answers the same); a batch still in flight is not waited for
      if (answered.length) {
        try {
          store();
        } catch {
          // the next cycle sends those batches again
        }
      }
      inFlight?.results.catch(() => {});
      if (this.#lease) await this.#cloud.releaseLease(this.#lease.epoch).catch(() => {});
      this.#lease = null;
    }
    return summary;
  }

  /** Sends a prepared batch (nothing to send: settles at once). */
  #dispatch(prepared: Prepared[], summary: ExportSummary): InFlight {
    const sendable = prepared.filter((p): p is Prepared & { op: SyncOperation } => p.op !== null);
    let results: Promise<SyncObjectResult[]> = Promise.resolve([]);
    if (sendable.length) {
      const key = `skybridge-${batchDigest(sendable)}`;
      results = this.#send(key, JSON.stringify(sendable.map((p) => p.op)), sendable.length, summary);
      summary.batches += 1;
    }
    results.catch(() => {}); // awaited in #settle; an error meanwhile must not go unhandled
    return { sent: prepared.map(sentOf), results, guids: new Set(prepared.map((p) => p.item.guid)) };
  }

  /**
   * Stores answered batches' results and takes their items out of the
   * outbox, in send order and in one transaction. A few batches go to one
   * transaction: every commit rewrites each page of the exported state's
   * indexes that its objects land on, and objects come in no key order.
   */
  #storeAnswered(list: Answered[], summary: ExportSummary): void {
    this.#space.transaction(() => {
      // (an initial sync has no errors to clear: then no object asks, until one is recorded)
      const errors: StoreState = { any: this.#store.hasErrors(), lost: new Map() };
      for (const { sent, results } of list) {
        let r = 0;
        for (const item of sent) if (item.sent) this.#apply(item, results[r++]!, summary, errors);
        // a batch is a run of one phase's items in id order, so one range takes it out
        this.#store.doneRange(sent[0]!.phase, sent[0]!.id, sent.at(-1)!.id);
      }
      // members the cloud did not hold when a group's member change named them, unless their own operation, later in
      // these batches, brought them back (a group's member change restores a group the cloud deleted)
      if (errors.lost.size) {
        const applied = new Set(list.flatMap(({ sent, results }) => sent.filter((i) => i.sent).flatMap((i, n) => (results[n]!.status === 'error' ? [] : [i.guid]))));
        for (const [guid, groupDn] of errors.lost) if (!applied.has(guid)) this.#forgetLost(guid, groupDn);
      }
    });
    this.#options.onBatch?.(summary);
  }

  /** Turns outbox items into operations, up to one batch; member items name members by their exported immutable ids. */
  #prepare(items: OutboxItem[]): Prepared[] {
    const out: Prepared[] = [];
    let memberValues = 0;
    for (const item of items) {
      // one phase per batch: memberships name objects by the immutable ids their own batch confirmed
      if (item.phase !== items[0]!.phase) break;
      const b = item.body;
      if (b.kind === 'upsert') out.push({ item, op: { op: 'upsert', type: b.type, immutableId: b.immutableId, attributes: b.attributes } });
      else if (b.kind === 'delete') out.push({ item, op: { op: 'delete', type: b.type, immutableId: b.immutableId } });
      else {
        if (memberValues > 0 && memberValues + b.add.length + b.remove.length > memberValuesPerBatch) break;
        const group = this.#store.get(item.guid);
        const ids = (guids: string[]) => guids.map((g) => this.#store.peek(g)?.immutableId).filter((x): x is string => !!x);
        const add = group ? ids(b.add) : [];
        const remove = group ? ids(b.remove) : [];
        memberValues += add.length + remove.length;
        // an item naming no member says the group owes the cloud none (ExportStore.endMemberError): sent unless
        // refused ones wait again meanwhile
        const settles = !b.add.length && !b.remove.length;
        const send = settles ? !this.#store.memberRetries(item.guid, '', 1).length : add.length > 0 || remove.length > 0;
        // a group or members the cloud does not hold (out of scope, or refused): nothing to send
        out.push({ item, op: group && send ? { op: 'upsert', type: 'group', immutableId: group.immutableId, attributes: group.attributes, members: settles ? {} : { add, remove } } : null });
      }
    }
    return out;
  }

  #apply(item: Sent, result: SyncObjectResult, summary: ExportSummary, errors: StoreState): void {
    const b = item.body;
    const dnOf = () => this.#space.get(item.guid)?.dn ?? ('dn' in b ? b.dn : item.guid);
    if (result.status === 'error') {
      summary.errors += 1;
      const e = result.error!;
      errors.any = true;
      if (b.kind === 'members') {
        // what was refused is the group's member change (the message says why): its members' links go again next plan
        this.#store.holdMemberChanges(item.id);
        this.#setMemberError(item.guid, dnOf(), { ...e, message: `member changes refused: ${e.message}` });
        return;
      }
      this.#store.setError({ guid: item.guid, dn: dnOf(), category: e.category, code: e.code, message: e.message, attribute: e.attribute ?? null });
      return;
    }
    if (b.kind === 'members') {
      // (adds of members the cloud does not hold were not made)
      summary.memberChanges += item.memberChanges - (result.missingMembers?.length ?? 0);
      if (result.missingMembers?.length) this.#membersMissing(item, result.missingMembers, dnOf(), summary, errors);
      // a change that added members, or named none, ended the cloud's error too; one that only removed did not
      else if (errors.any && (b.adds > 0 || item.memberChanges === 0)) this.#store.clearMemberError(item.guid);
      else if (errors.any) this.#store.endMemberError(item.guid, item.id);
      if (result.version !== undefined) this.#store.setVersion(item.guid, result.version);
      return;
    }
    if (result.quarantined?.length && b.kind !== 'delete') {
      // synced, with values another object holds held back: reported, and sent again every cycle until the cloud gives them back
      const q = result.quarantined;
      const e = quarantineError(q);
      errors.any = true;
      this.#store.setError({ guid: item.guid, dn: dnOf(), category: e.category, code: e.code, message: e.message, attribute: e.attribute ?? null });
      summary.quarantined += 1;
    } else if (errors.any) this.#store.clearExportError(item.guid);
    if (b.kind === 'delete') {
      this.#store.remove(item.guid);
      summary.deleted += 1;
      return;
    }
    this.#store.putFromOutbox(item.id, { guid: item.guid, immutableId: b.immutableId, type: b.type, hash: b.hash, objectId: result.objectId ?? null });
    if (result.version !== undefined) this.#store.setVersion(item.guid, result.version);
    if (this.#options.stampConsistencyGuid && b.type === 'user' && !this.#space.get(item.guid)?.attributes['mS-DS-ConsistencyGuid']?.length) this.#store.queueStamp(item.guid);
    if (result.status === 'created') summary.created += 1;
    else if (result.status === 'updated') summary.updated += 1;
    else summary.unchanged += 1;
  }

  /**
   * The cloud made a group's member change but for members it does not hold,
   * although this agent exported them (the cloud lost them, or deleted them
   * and the change feed has not said so yet). Their links to this group are
   * kept to go again, and the members themselves are forgotten as exported
   * once the batches are stored (#forgetLost). The group's error says so
   * until they go through.
   */
  #membersMissing(item: Sent, missing: readonly string[], groupDn: string, summary: ExportSummary, errors: StoreState): void {
    summary.errors += 1;
    errors.any = true;
    const guids = missing.flatMap((id) => this.#store.byImmutableId(id)?.guid ?? []);
    this.#store.holdMembers(item.guid, guids);
    for (const guid of guids) errors.lost.set(guid, groupDn);
    this.#setMemberError(item.guid, groupDn, memberNotFoundError(missing));
  }

  /**
   * A group's member changes did not all go through: its error, with the
   * attribute `members`. A value of the group held back stays its error
   * instead: the planner asks about it every cycle until the cloud gives it
   * back; the member changes go again whatever the error says.
   */
  #setMemberError(group: string, dn: string, e: NonNullable<SyncObjectResult['error']>): void {
    if (this.#store.error(group)?.code === 'attribute_quarantined') return;
    this.#store.setError({ guid: group, dn, category: e.category, code: e.code, message: e.message, attribute: 'members' });
  }

  /**
   * A member the cloud does not hold although this agent exported it: it is
   * forgotten as exported (with what was planned for it as an object the
   * cloud holds), so the next plan sends it as new, with the groups it joins.
   */
  #forgetLost(guid: string, groupDn: string): void {
    this.#store.forgetExported(guid);
    const dn = this.#space.get(guid)?.dn ?? guid;
    this.#store.setError({
      guid, dn, category: 'other', code: 'missing_in_cloud', attribute: null,
      message: `${dn} is not in the cloud although this agent exported it (a member change of ${groupDn} named it); the next cycle sends it again, with its group memberships`,
    });
  }

  async #ensureLease(): Promise<number> {
    if (this.#lease && Date.now() - this.#lease.renewedAt < (this.#leaseSeconds / 3) * 1000) return this.#lease.epoch;
    try {
      const lease = await this.#cloud.acquireLease(this.#leaseSeconds);
      if (this.#lease && lease.epoch !== this.#lease.epoch) {
        throw new ConnectError('sync_lease_lost', `the sync lease moved on (epoch ${this.#lease.epoch} → ${lease.epoch}) while this agent exported`, { fix: 'make sure only one agent is active for the tenant; the next cycle continues where this one stopped' });
      }
      this.#lease = { epoch: lease.epoch, renewedAt: Date.now() };
      return lease.epoch;
    } catch (err) {
      if (err instanceof CloudApiError && err.code === 'directory_sync_disabled') {
        throw new ConnectError('sync_cloud_refused', `the cloud refuses synchronization: ${err.message}`, { fix: 'turn directory synchronization on again for the tenant, then run skybridge connect sync --full' });
      }
      if (err instanceof CloudApiError && err.code === 'lease_held') {
        throw new ConnectError('sync_lease_lost', `another agent holds the tenant's sync lease: ${err.message}`, { fix: 'run this agent in staging mode, or stop the other one; the lease expires when its holder stops renewing it (45 s by default)' });
      }
      throw err;
    }
  }

  async #send(key: string, operationsJson: string, count: number, summary: ExportSummary): Promise<SyncObjectResult[]> {
    const sleep = this.#options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const maxAttempts = this.#options.maxAttempts ?? 10;
    for (let attempt = 1; ; attempt++) {
      const epoch = await this.#ensureLease();
      try {
        const answer = await this.#cloud.sendEncodedBatch(key, epoch, operationsJson);
        if (answer.results.length !== count) throw new ConnectError('sync_cloud_refused', `the cloud answered ${answer.results.length} results for ${count} operations`);
        return [...answer.results].sort((a, b) => a.index - b.index);
      } catch (err) {
        if (err instanceof CloudApiError && err.code === 'stale_epoch') {
          throw new ConnectError('sync_lease_lost', `the cloud refused the batch: this agent's lease epoch ${epoch} is no longer current (another agent took over)`, { fix: 'check which agent is active; this one stops exporting', cause: err });
        }
        const retryable = !(err instanceof CloudApiError) || err.status === 429 || err.status >= 500;
        if (!retryable) throw new ConnectError('sync_cloud_refused', `the cloud refused a sync batch: ${(err as Error).message}`, { cause: err });
        if (attempt >= maxAttempts) throw new ConnectError('sync_cloud_unavailable', `the cloud did not take a sync batch after ${attempt} attempts: ${(err as Error).message}`, { fix: 'check that the cloud is reachable; the next cycle sends the same batch again (it is never applied twice)', cause: err });
        const retryAfter = err instanceof CloudApiError ? Number(err.problem.retryAfter ?? NaN) : NaN;
        summary.retries += 1;
        await sleep(Number.isFinite(retryAfter) ? retryAfter * 1000 : Math.min(30_000, 500 * 2 ** (attempt - 1)));
      }
    }
  }
}

/**
 * What a batch's Idempotency-Key is made from: its outbox item ids (never
 * reused) and its content. An upsert of an object is named by its immutable
 * id and the hash the planner gave its type and attributes (equal hash,
 * equal content), so a batch of objects is not serialized a second time
 * just to name it; memberships and deletions go as they are sent.
 */
export function batchDigest(items: { item: OutboxItem; op: SyncOperation }[]): string {
  const h = createHash('sha256');
  for (const { item, op } of items) {
    const b = item.body;
    h.update(`${item.id}\u0000`);
    if (b.kind === 'upsert' && op.op === 'upsert' && !op.members) h.update(`u\u0000${op.type}\u0000${op.immutableId}\u0000${b.hash}\u0001`);
    else h.update(`${JSON.stringify(op)}\u0001`);
  }
  return h.digest('base64url');
}
