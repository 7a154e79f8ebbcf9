// The ip-filter policy: allow and deny lists of addresses and CIDR blocks (v4 and v6) for the client address;
// deny wins; a non-empty allow list admits only its members. onRequest phase, priority 100: first of all.
import { ipFilterConfig } from '@apigov/model';
import { definePolicy } from '../policy.js';
import { AddressSet } from '../addresses.js';

export const ipFilterPolicy = definePolicy({
  id: 'ipFilter',
  phase: 'onRequest',
  priority: 100,
  compile(rawConfig) {
    const config = ipFilterConfig.parse(rawConfig);
    if (config.allow.length === 0 && config.deny.length === 0) return null;
    const allow = new AddressSet(config.allow);
    const deny = new AddressSet(config.deny);
    return {
      handle(ctx) {
        const ip = ctx.clientIp;
        if (deny.has(ip) || (allow.size > 0 && !allow.has(ip))) ctx.reject('APIGOV_ERR_GATEWAY_IP_DENIED', `client address ${ip} may not call this API`);
      },
    };
  },
});
