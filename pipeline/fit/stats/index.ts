/**
 * The numeric core of the fit stage: pure functions over plain arrays, no I/O. Each
 * module estimates one thing; this file only gathers them for `import ... from
 * './stats/index.ts'`.
 */
export * from './special.ts';
export { betaCdf, betaLogLik, betaLogPdf, betaQuantile, betaShapesFromLogMeans, fitBeta4, regularizedBeta } from './beta.ts';
export type { Beta4Fit, Beta4Options, EndpointStatus, Numbers } from './beta.ts';
export * from './uniform.ts';
export * from './gof.ts';
export * from './survival.ts';
