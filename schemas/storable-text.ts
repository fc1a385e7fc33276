// PostgreSQL text cannot hold a NUL byte, and a lone UTF-16 surrogate has no UTF-8 encoding: a
// statement with either fails as a whole. Input that may reach SQL is checked with this first.

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** True when PostgreSQL can take the string as text (no NUL byte, no lone surrogate). */
export const isStorableText = (value: string): boolean => !unstorable.test(value)

export const STORABLE_TEXT_PROBLEM = 'must not contain NUL bytes or unpaired UTF-16 surrogates'
