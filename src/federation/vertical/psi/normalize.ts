/**
 * Identifier normalisation before PSI, so that " Alice@Example.org" on one platform and
 * "alice@example.org" on another are the same learner, and the per-job salt that makes one job's
 * hashed identifiers unrelated to another's.
 *
 * Both platforms must apply the same rule to the same column; the rules are part of the PSI
 * parameters both sides compare before any identifier is hashed.
 */
import { getRandomValues } from 'node:crypto';
import { ConfigError } from '../../../core/errors.js';

/** How one ID column is normalised; steps run in the order of the fields below. */
export interface IdRule {
  /** Unicode normalisation form applied first (and again after case folding, which can denormalise). */
  readonly unicode: 'NFC' | 'NFKC' | 'none';
  /**
   * Case folding, as lower-, upper-, then lower-casing (locale-independent): equal to Unicode full
   * case folding for Latin, Greek and Cyrillic (ẞ and ß → ss, ς → σ, ﬁ → fi), an approximation elsewhere.
   */
  readonly caseFold: boolean;
  /** Remove leading and trailing white space. */
  readonly trim: boolean;
  /** Replace each inner run of white space by one space. */
  readonly collapseSpaces: boolean;
  /** Remove every white-space character (e.g. e-mail addresses). */
  readonly removeSpaces: boolean;
  /** Characters deleted anywhere (e.g. "-./()" for phone numbers). */
  readonly removeChars: string;
  /** Keep only the ASCII digits 0–9 (use NFKC first to turn full-width digits into ASCII). */
  readonly digitsOnly: boolean;
  /** Remove leading zeros ("000123" → "123"; "000" → "0"). */
  readonly stripLeadingZeros: boolean;
}

/** Named rules for common ID columns. */
export const ID_RULES = {
  /** The value as given (an empty value is still "no ID"). */
  exact: { unicode: 'none', caseFold: false, trim: false, collapseSpaces: false, removeSpaces: false, removeChars: '', digitsOnly: false, stripLeadingZeros: false },
  /** Free text identifiers (usernames, names): NFC, case-folded, trimmed, inner spaces collapsed. The default. */
  text: { unicode: 'NFC', caseFold: true, trim: true, collapseSpaces: true, removeSpaces: false, removeChars: '', digitsOnly: false, stripLeadingZeros: false },
  /** E-mail addresses: NFC, case-folded (local parts too, as providers treat them), no white space. */
  email: { unicode: 'NFC', caseFold: true, trim: true, collapseSpaces: false, removeSpaces: true, removeChars: '', digitsOnly: false, stripLeadingZeros: false },
  /** Digit strings whose zeros matter (phone numbers): NFKC, digits only. */
  digits: { unicode: 'NFKC', caseFold: false, trim: true, collapseSpaces: false, removeSpaces: false, removeChars: '', digitsOnly: true, stripLeadingZeros: false },
  /** Numeric identifiers (student numbers): digits only, leading zeros removed. */
  number: { unicode: 'NFKC', caseFold: false, trim: true, collapseSpaces: false, removeSpaces: false, removeChars: '', digitsOnly: true, stripLeadingZeros: true },
} as const satisfies Record<string, IdRule>;

/** The name of a built-in rule. */
export type IdRuleName = keyof typeof ID_RULES;

/** A rule by name, or a built-in rule with some fields overridden. */
export type IdRuleSpec = IdRuleName | (Partial<IdRule> & { readonly base?: IdRuleName });

const UNICODE_FORMS = ['NFC', 'NFKC', 'none'] as const;

function isRuleName(name: unknown): name is IdRuleName {
  return typeof name === 'string' && Object.hasOwn(ID_RULES, name);
}

/**
 * The complete rule a spec describes.
 * @throws ConfigError naming `field` for an unknown rule name or a malformed override.
 */
export function resolveIdRule(spec: IdRuleSpec, field = 'rule'): IdRule {
  if (typeof spec === 'string') {
    if (!isRuleName(spec)) throw new ConfigError(field, `unknown ID rule "${spec}"; expected one of ${Object.keys(ID_RULES).join(', ')}`);
    return ID_RULES[spec];
  }
  if (typeof spec !== 'object' || spec === null) throw new ConfigError(field, 'expected a rule name or an object');
  const baseName = spec.base ?? 'text';
  if (!isRuleName(baseName)) throw new ConfigError(`${field}.base`, `unknown ID rule "${String(baseName)}"`);
  const rule: IdRule = { ...ID_RULES[baseName], ...withoutBase(spec) };
  if (!UNICODE_FORMS.includes(rule.unicode)) throw new ConfigError(`${field}.unicode`, `expected one of ${UNICODE_FORMS.join(', ')}`);
  for (const k of ['caseFold', 'trim', 'collapseSpaces', 'removeSpaces', 'digitsOnly', 'stripLeadingZeros'] as const) {
    if (typeof rule[k] !== 'boolean') throw new ConfigError(`${field}.${k}`, 'expected true or false');
  }
  if (typeof rule.removeChars !== 'string') throw new ConfigError(`${field}.removeChars`, 'expected a string');
  return rule;
}

function withoutBase(spec: Partial<IdRule> & { readonly base?: IdRuleName }): Partial<IdRule> {
  const { base: _base, ...rest } = spec;
  return rest;
}

function escapeClass(chars: string): string {
  return Array.from(chars, (c) => '\\u{' + (c.codePointAt(0) as number).toString(16) + '}').join('');
}

/**
 * A normaliser for one rule: returns the normalised identifier, or undefined when nothing is left
 * (an empty or blank value is "no ID": such rows take no part in that column's matching).
 */
export function createNormalizer(rule: IdRule): (value: string) => string | undefined {
  const remove = rule.removeChars.length > 0 ? new RegExp(`[${escapeClass(rule.removeChars)}]`, 'gu') : undefined;
  const form = rule.unicode === 'none' ? undefined : rule.unicode;
  return (value: string): string | undefined => {
    let v = value;
    if (form !== undefined) v = v.normalize(form);
    if (rule.caseFold) {
      // Lower, upper, lower: "ẞ" → "ß" → "SS" → "ss", so a second pass changes nothing (a plain
      // upper-then-lower maps "ẞ" to "ß", which a second pass would turn into "ss").
      v = v.toLowerCase().toUpperCase().toLowerCase();
      if (form !== undefined) v = v.normalize(form);
    }
    if (rule.trim) v = v.trim();
    if (rule.collapseSpaces) v = v.replace(/\s+/gu, ' ');
    if (rule.removeSpaces) v = v.replace(/\s+/gu, '');
    if (remove !== undefined) v = v.replace(remove, '');
    if (rule.digitsOnly) v = v.replace(/[^0-9]+/g, '');
    if (rule.stripLeadingZeros && v.length > 1) v = v.replace(/^0+(?=.)/, '');
    return v.length === 0 ? undefined : v;
  };
}

/** Normalises one identifier (see {@link createNormalizer}). @throws ConfigError for a bad rule spec. */
export function normalizeId(value: string, rule: IdRuleSpec = 'text'): string | undefined {
  return createNormalizer(resolveIdRule(rule))(value);
}

/** Bytes of a freshly drawn job salt. */
export const SALT_BYTES = 32;
/** Shortest salt accepted. */
export const MIN_SALT_BYTES = 16;
/** Longest salt accepted (it is length-prefixed with one byte). */
export const MAX_SALT_BYTES = 255;

/** A fresh per-job salt from `crypto.getRandomValues`; both platforms of a PSI must use the same one. */
export function createJobSalt(): Uint8Array {
  return getRandomValues(new Uint8Array(SALT_BYTES));
}

/** @throws ConfigError when `salt` is not 16 to 255 bytes. */
export function checkSalt(salt: Uint8Array, field = 'salt'): Uint8Array {
  if (!(salt instanceof Uint8Array) || salt.length < MIN_SALT_BYTES || salt.length > MAX_SALT_BYTES) {
    throw new ConfigError(field, `expected ${MIN_SALT_BYTES} to ${MAX_SALT_BYTES} bytes`);
  }
  return salt;
}
