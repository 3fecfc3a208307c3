/**
 * Per-job record of the privacy spent, round by round, for budget checks. Three units are tracked
 * separately, each account with its own {@link RdpAccountant}:
 * - `'learner'`: learner-level (record-level) DP from DP-SGD, one account per participant, whose
 *   entries are the DP-SGD steps that participant ran in a round (q = B/n_k, σ, steps);
 * - `'platform'`: platform-level (participant-level) DP from DP-FedAvg, one account for the job,
 *   one SGM step per round (q = expected participants / population, σ = z);
 * - `'local'`: local DP, one account per participant, one unsampled Gaussian step per round it sent
 *   an update (q = 1, σ = z).
 * Pure: no I/O; persist {@link PrivacyLedger.entries} and rebuild with {@link PrivacyLedger.fromEntries}.
 */
import { ConfigError, ValidationError } from '../core/errors.js';
import { DEFAULT_RDP_ORDERS, RdpAccountant, type PrivacySpent, type RdpConversion } from './rdp-accountant.js';

/** Which kind of neighbouring datasets a guarantee is about. */
export type PrivacyUnit = 'learner' | 'platform' | 'local';

/** One round's privacy-relevant facts for one account. */
export interface LedgerEntry {
  /** 1-based round number. */
  readonly round: number;
  readonly unit: PrivacyUnit;
  /** Required for `'learner'` and `'local'` entries, absent for `'platform'` ones. */
  readonly participantId?: string;
  /** Sampling rate of each step. */
  readonly q: number;
  /** Noise multiplier of each step. */
  readonly sigma: number;
  /** Number of SGM steps in the round. */
  readonly steps: number;
}

/** Options of a {@link PrivacyLedger}. */
export interface PrivacyLedgerOptions {
  /** δ at which ε is reported; in (0, 1), typically below 1/n. */
  readonly delta: number;
  readonly orders?: readonly number[];
  readonly conversion?: RdpConversion;
}

/** ε spent by one account. */
export interface AccountSpent extends PrivacySpent {
  readonly unit: PrivacyUnit;
  readonly participantId?: string;
  /** Number of rounds recorded for the account. */
  readonly rounds: number;
  readonly lastRound: number;
}

/** The answer of {@link PrivacyLedger.wouldExceed}. */
export interface BudgetCheck {
  readonly exceeds: boolean;
  /** ε after the projected round. */
  readonly projectedEpsilon: number;
  /** A sentence naming the participant (or the job), the round, the projected ε and the budget. */
  readonly message: string;
}

interface Account {
  readonly accountant: RdpAccountant;
  rounds: number;
  lastRound: number;
}

function accountKey(e: Pick<LedgerEntry, 'unit' | 'participantId'>): string {
  return e.unit === 'platform' ? 'platform' : `${e.unit}:${e.participantId ?? ''}`;
}

function who(e: Pick<LedgerEntry, 'unit' | 'participantId'>): string {
  if (e.unit === 'platform') return 'the job (platform-level DP)';
  return `participant "${e.participantId ?? ''}" (${e.unit === 'learner' ? 'learner-level' : 'local'} DP)`;
}

function formatEps(eps: number): string {
  return Number.isFinite(eps) ? eps.toPrecision(4) : '∞';
}

/** Per-job privacy ledger over learner- and platform-level accounts. */
export class PrivacyLedger {
  readonly delta: number;
  readonly conversion: RdpConversion;
  private readonly orders: readonly number[];
  private readonly accounts = new Map<string, Account>();
  private readonly log: LedgerEntry[] = [];

  /** @throws {ConfigError} for δ outside (0, 1) or invalid orders. */
  constructor(options: PrivacyLedgerOptions) {
    if (!(Number.isFinite(options.delta) && options.delta > 0 && options.delta < 1)) {
      throw new ConfigError('delta', `must be in (0, 1), got ${String(options.delta)}`);
    }
    this.delta = options.delta;
    this.conversion = options.conversion ?? 'improved';
    this.orders = new RdpAccountant(options.orders ?? DEFAULT_RDP_ORDERS).orders;
  }

  /**
   * A ledger holding `entries`, in order.
   * @throws as {@link PrivacyLedger.record} for the first invalid entry.
   */
  static fromEntries(entries: readonly LedgerEntry[], options: PrivacyLedgerOptions): PrivacyLedger {
    const ledger = new PrivacyLedger(options);
    for (const e of entries) ledger.record(e);
    return ledger;
  }

  /**
   * Adds a round's entry to its account.
   * @throws {ConfigError} naming the field: bad round, unit, q, σ, steps, or a participant id on the wrong unit.
   * @throws {ValidationError} naming the participant when its account already holds this round.
   */
  record(entry: LedgerEntry): void {
    checkEntry(entry);
    const key = accountKey(entry);
    let account = this.accounts.get(key);
    if (account !== undefined && entry.round <= account.lastRound) {
      throw new ValidationError(
        entry.participantId,
        `privacy ledger: round ${entry.round} recorded after round ${account.lastRound} for ${who(entry)}; rounds must increase`,
      );
    }
    if (account === undefined) {
      account = { accountant: new RdpAccountant(this.orders), rounds: 0, lastRound: 0 };
      this.accounts.set(key, account);
    }
    account.accountant.compose(entry.q, entry.sigma, entry.steps);
    account.rounds++;
    account.lastRound = entry.round;
    this.log.push({ ...entry });
  }

  /** Every entry recorded, in order (for persistence). */
  entries(): readonly LedgerEntry[] {
    return this.log.slice();
  }

  /**
   * ε(δ) spent so far by an account; 0 (order NaN) for an account with no entries.
   * @throws {ConfigError} for a learner-level or local query without a participant id.
   */
  spent(unit: PrivacyUnit, participantId?: string): PrivacySpent {
    if (unit !== 'platform' && participantId === undefined) throw new ConfigError('participantId', `${unit} ε is per participant: name one`);
    const account = this.accounts.get(accountKey({ unit, ...(participantId !== undefined ? { participantId } : {}) }));
    if (account === undefined) return { epsilon: 0, order: Number.NaN };
    return account.accountant.getPrivacySpent(this.delta, this.conversion);
  }

  /**
   * ε(δ) the entry's account would reach after also recording `next` (nothing is recorded).
   * @throws {ConfigError} as {@link PrivacyLedger.record} for an invalid entry.
   */
  projected(next: LedgerEntry): PrivacySpent {
    checkEntry(next);
    const account = this.accounts.get(accountKey(next));
    const acc = account !== undefined ? account.accountant.clone() : new RdpAccountant(this.orders);
    return acc.compose(next.q, next.sigma, next.steps).getPrivacySpent(this.delta, this.conversion);
  }

  /**
   * Whether recording `next` would take its account above `maxEpsilon`, with a message for the operator.
   * @throws {ConfigError} for a budget that is not a number > 0, or an invalid entry.
   */
  wouldExceed(maxEpsilon: number, next: LedgerEntry): BudgetCheck {
    if (!(maxEpsilon > 0)) throw new ConfigError('maxEpsilon', `must be a number > 0, got ${String(maxEpsilon)}`);
    const eps = this.projected(next).epsilon;
    const exceeds = eps > maxEpsilon;
    const message =
      `${who(next)} would reach ε = ${formatEps(eps)} (δ = ${this.delta}) after round ${next.round}, ` +
      (exceeds ? `above its budget ε = ${maxEpsilon}` : `within its budget ε = ${maxEpsilon}`);
    return { exceeds, projectedEpsilon: eps, message };
  }

  /** ε spent by every account: platform first, then learner-level and local accounts by participant id. */
  summary(): AccountSpent[] {
    const out: AccountSpent[] = [];
    const rank = (key: string): string => (key === 'platform' ? '' : key);
    const sorted = [...this.accounts].sort(([x], [y]) => (rank(x) < rank(y) ? -1 : 1));
    for (const [key, a] of sorted) {
      const spent = a.accountant.getPrivacySpent(this.delta, this.conversion);
      const base = { ...spent, rounds: a.rounds, lastRound: a.lastRound };
      if (key === 'platform') {
        out.push({ unit: 'platform', ...base });
      } else {
        const colon = key.indexOf(':');
        out.push({ unit: key.slice(0, colon) === 'local' ? 'local' : 'learner', participantId: key.slice(colon + 1), ...base });
      }
    }
    return out;
  }
}

function checkEntry(e: LedgerEntry): void {
  if (!(Number.isSafeInteger(e.round) && e.round >= 1)) throw new ConfigError('round', `must be an integer ≥ 1, got ${String(e.round)}`);
  if (e.unit !== 'learner' && e.unit !== 'platform' && e.unit !== 'local') {
    throw new ConfigError('unit', `must be "learner", "platform" or "local", got ${JSON.stringify(e.unit)}`);
  }
  if (e.unit !== 'platform' && (typeof e.participantId !== 'string' || e.participantId.length === 0)) {
    throw new ConfigError('participantId', `a ${e.unit} entry needs a participant id (round ${e.round})`);
  }
  if (e.unit === 'platform' && e.participantId !== undefined) {
    throw new ConfigError('participantId', `a platform-level entry is per job and takes no participant id (got "${e.participantId}", round ${e.round})`);
  }
  if (!(Number.isFinite(e.q) && e.q >= 0 && e.q <= 1)) throw new ConfigError('q', `sampling rate must be in [0, 1], got ${String(e.q)}`);
  if (!(Number.isFinite(e.sigma) && e.sigma >= 0)) throw new ConfigError('sigma', `must be a finite number ≥ 0, got ${String(e.sigma)}`);
  if (!(Number.isSafeInteger(e.steps) && e.steps >= 0)) throw new ConfigError('steps', `must be an integer ≥ 0, got ${String(e.steps)}`);
}
