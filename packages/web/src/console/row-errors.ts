/**
 * A refused row of an import as a sentence: the catalogue's sentence for its code, with the field named
 * in words when the row names one ("Email address: that is not valid.").
 */
import type { ErrorCode } from '@parley/sdk';
import { errorSentences } from '../errors/messages.ts';

const fieldWords: Record<string, string> = {
  address: 'Email address',
  displayName: 'Name',
  password: 'Password',
  title: 'Job title',
  department: 'Department',
  role: 'Role',
};

export function rowErrorSentence(e: { code: string; field?: string }): string {
  const field = e.field ? (fieldWords[e.field] ?? `Column “${e.field}”`) : null;
  if (e.code === 'validation_failed')
    return field ? `${field}: this value is not valid or is missing.` : 'This row is not valid.';
  if (e.code === 'duplicate_address') return 'Someone already uses this email address.';
  const sentence = errorSentences[e.code as ErrorCode] ?? errorSentences.internal;
  return field ? `${field}: ${sentence}` : sentence;
}
