/**
 * netkit's HTTP/1.1 client: the keep-alive Transport and the load generator built on it.
 */
export { Transport, type TransportOptions, type HttpResponse } from './transport.js'
export { TransportStats } from './transport-stats.js'
export { RequestSpec, parseTarget, parseHeaderArg, type RequestOptions, type Target } from './request-spec.js'
export { Exchange, type ExchangeHandler } from './exchange.js'
export type { CloseReason } from './connection.js'
export { LatencyHistogram } from './histogram.js'
export { runLoad, type LoadOptions, type LoadResult, type LoadProgress } from './load-generator.js'
export { buildReport, formatReport, type LoadReport } from './load-report.js'
export { parseDuration } from './duration.js'
export * from './framing.js'
