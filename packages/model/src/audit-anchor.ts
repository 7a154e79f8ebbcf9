// The written form of an audit anchor, `SEQ:HASH` (a sequence number and the event's sha256 hex hash): what
// `apigov audit verify` prints and takes back, and what GET /v1/audit/verify?anchor= accepts.

const ANCHOR = /^([1-9]\d{0,15}):([0-9a-f]{64})$/;

/** `SEQ:HASH` as seq and hash; undefined when the text is not in that form */
export function parseAuditAnchor(text: string): { seq: number; hash: string } | undefined {
  const m = ANCHOR.exec(text);
  return m === null ? undefined : { seq: Number(m[1]), hash: m[2]! };
}
