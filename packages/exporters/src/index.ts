// Public surface of @apigov/exporters: the governed model translated to other platforms' resources. One module per
// target; each returns documents and warnings for what the target cannot express.
export { exportBackstage } from './backstage.js';
export { exportEnvoyGateway, ENVOY_GATEWAY_DEFAULTS, MAX_MATCHES_PER_ROUTE, MAX_RULES_PER_ROUTE, operationPathRegex, type EnvoyGatewayOptions, type EnvoyGatewayResult, type ExportedEnvironment, type LimitsMode, type UnsupportedPolicy } from './envoy-gateway/index.js';
export { ofKind, type ExportOptions, type ExportResult, type ExportWarning } from './export.js';

/** The export formats, by the name `apigov export --format` and `GET /v1/exports/{format}` take. */
export const EXPORT_FORMATS = ['backstage', 'envoy-gateway'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
