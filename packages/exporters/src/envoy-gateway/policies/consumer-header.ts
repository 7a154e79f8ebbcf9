// The consumer header on Envoy: ext-authz names the calling application in it, Envoy adds it upstream and the
// per-consumer rate-limit selectors read it.
export const CONSUMER_HEADER = 'x-apigov-application';
