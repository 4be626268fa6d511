import { createHmac } from 'node:crypto';

/**
 * `X-Twilio-Signature` as Twilio computes it for a form-encoded webhook: base64 of HMAC-SHA1,
 * keyed with the account's auth token, over the full URL followed by each parameter's name and
 * value, parameters sorted by name (so `twilio.validateRequest` accepts it).
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += name + params[name];
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}

/** The POST of a signed form-encoded webhook: its headers and body. */
export function signedForm(
  authToken: string,
  url: string,
  params: Record<string, string>,
): { headers: Record<string, string>; body: string } {
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(authToken, url, params),
      'user-agent': 'Roster (TaskRouter callbacks)',
    },
    body: new URLSearchParams(params).toString(),
  };
}
